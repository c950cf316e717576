"""``/rapport show``: a relationship's people by side and role, its channels and organisations."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import (
    String,
    bindparam,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from bot.core.db import columns
from bot.relationships.domain import ROLES_STORED, SIDES_STORED
from bot.relationships.joint import departed_side
from bot.relationships.models import (
    Member,
    OrganisationSide,
    Relationship,
    Role,
    Side,
    WatchedChannel,
)


@dataclass(frozen=True)
class RelationshipSummary:
    id: int
    name: str
    client_org: str
    provider_org: str
    people: dict[Side, dict[Role, list[str]]]
    watched_channels: list[str]
    alerts_channel: str | None
    organisations: list[tuple[str, Side]] = field(default_factory=list)
    joint: bool = False  # each side in its own company's workspace
    departed: Side | None = None  # the side whose workspace uninstalled Rapport


# A relationship's people, channels and organisations in one statement, built once (see
# bot.relationships.domain): on PostgreSQL each statement is a round trip to the server.
# Side and role are read as the strings stored, as ``people()`` reads them.
_UNION = union_all(
    select(
        literal("person").label("part"),
        Member.user_id.label("value"),
        type_coerce(Member.side, String).label("side"),
        type_coerce(Member.role, String).label("role"),
        Member.added_at.label("at"),
        Member.id.label("id"),
    ).where(Member.relationship_id == bindparam("relationship_id")),
    select(
        literal("channel"),
        WatchedChannel.channel_id,
        null(),
        null(),
        WatchedChannel.added_at,
        WatchedChannel.id,
    ).where(WatchedChannel.relationship_id == bindparam("relationship_id")),
    select(
        literal("organisation"),
        OrganisationSide.org_name,
        type_coerce(OrganisationSide.side, String),
        null(),
        null(),
        OrganisationSide.id,
    ).where(OrganisationSide.relationship_id == bindparam("relationship_id")),
).subquery()
_PARTS = select(_UNION.c.part, _UNION.c.value, _UNION.c.side, _UNION.c.role).order_by(
    _UNION.c.part, _UNION.c.at, _UNION.c.id
)


def summarise(session: Session, relationship: Relationship) -> RelationshipSummary:
    people_by_side: dict[Side, dict[Role, list[str]]] = {
        side: {role: [] for role in (Role.OWNER, Role.MANAGER, Role.FRONTLINE)} for side in Side
    }
    channels: list[str] = []
    organisations: list[tuple[str, Side]] = []
    parts = columns(session, _PARTS, {"relationship_id": relationship.id}).all()
    for part, value, side, role in parts:
        if part == "person":
            people_by_side[SIDES_STORED[side]][ROLES_STORED[role]].append(value)
        elif part == "channel":
            channels.append(value)
        else:
            organisations.append((value, SIDES_STORED[side]))
    return RelationshipSummary(
        id=relationship.id,
        name=relationship.name,
        client_org=relationship.client_org,
        provider_org=relationship.provider_org,
        people=people_by_side,
        watched_channels=channels,
        alerts_channel=relationship.alerts_channel_id,
        organisations=organisations,
        joint=relationship.is_joint,
        departed=departed_side(session, relationship),
    )
