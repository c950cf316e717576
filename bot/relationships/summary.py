"""``/rapport show``: a relationship's people by side and role, its channels and organisations."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.core.db import columns
from bot.relationships.domain import people
from bot.relationships.joint import departed_side
from bot.relationships.models import (
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


# built once: see bot.relationships.domain
_CHANNELS = (
    select(WatchedChannel.channel_id)
    .where(WatchedChannel.relationship_id == bindparam("relationship_id"))
    .order_by(WatchedChannel.added_at, WatchedChannel.id)
)
_ORGANISATIONS = (
    select(OrganisationSide.org_name, OrganisationSide.side)
    .where(OrganisationSide.relationship_id == bindparam("relationship_id"))
    .order_by(OrganisationSide.id)
)


def summarise(session: Session, relationship: Relationship) -> RelationshipSummary:
    people_by_side: dict[Side, dict[Role, list[str]]] = {
        side: {role: [] for role in (Role.OWNER, Role.MANAGER, Role.FRONTLINE)} for side in Side
    }
    for user_id, side, role in people(session, relationship):
        people_by_side[side][role].append(user_id)
    channels = columns(session, _CHANNELS, {"relationship_id": relationship.id}).scalars()
    organisations = columns(session, _ORGANISATIONS, {"relationship_id": relationship.id})
    return RelationshipSummary(
        id=relationship.id,
        name=relationship.name,
        client_org=relationship.client_org,
        provider_org=relationship.provider_org,
        people=people_by_side,
        watched_channels=list(channels),
        alerts_channel=relationship.alerts_channel_id,
        organisations=[(name, side) for name, side in organisations],
        joint=relationship.is_joint,
        departed=departed_side(session, relationship),
    )
