"""One relationship across two companies' workspaces (Slack Connect).

An owner in the workspace that created the relationship invites the other company's owner
with a one-time code (``create_invite``); that owner, in their own workspace where Rapport
is installed too, joins with it (``join``). From then on each side's people are reached
through their own workspace's installation (``Relationship.team_of``), and each side's
owners govern their own side. Either side can ``leave``: the relationship turns back into
two one-sided ones, and nothing stored is deleted.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.health.models import HealthSnapshot
from bot.relationships.domain import (
    NAME_MAX,
    RapportError,
    Recipient,
    find_member,
    homed_in,
    name_key,
    owners_on,
    require_owner,
)
from bot.relationships.members import count_organisation
from bot.relationships.models import (
    CurrentRelationship,
    Member,
    Relationship,
    RelationshipInvite,
    Role,
    Side,
)
from bot.slack import mrkdwn, workspaces

INVITE_LIFETIME = timedelta(hours=24)
# Crockford's base32 without look-alikes: 12 characters carry 60 bits, typed in 3 groups
_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
_GROUPS, _GROUP = 3, 4
_CODE = re.compile(r"^RAP-?([A-Z0-9]{4})-?([A-Z0-9]{4})-?([A-Z0-9]{4})$")


@dataclass(frozen=True)
class Invite:
    code: str
    side: Side  # the side that joins
    invitee_id: str
    expires_at: datetime


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _new_code() -> str:
    groups = ("".join(secrets.choice(_ALPHABET) for _ in range(_GROUP)) for _ in range(_GROUPS))
    return "RAP-" + "-".join(groups)


def normalise_code(typed: str) -> str | None:
    """``RAP-ABCD-EFGH-JKMN`` as typed or pasted (any case, spaces, dashes or not)."""
    match = _CODE.match(re.sub(r"[\s\u2010-\u2015]+", "", typed).upper().replace("—", "-"))
    return "RAP-" + "-".join(match.groups()) if match else None


def create_invite(
    session: Session,
    relationship: Relationship,
    team_id: str,
    actor: str,
    invitee_id: str,
    now: datetime,
) -> Invite:
    """A code for ``invitee_id``, the other company's owner, to join from their workspace.
    A new code replaces any unused one."""
    actor_member = require_owner(session, relationship, actor)
    if relationship.is_joint:
        raise RapportError(
            f"*{mrkdwn.escape(relationship.name)}* already spans two workspaces. "
            "`/rapport leave` undoes that first."
        )
    if team_id != relationship.team_id:
        raise RapportError("Only the workspace that created a relationship can invite.")
    if invitee_id == actor:
        raise RapportError(
            "Invite the other company's owner, not yourself: they join from their own workspace."
        )
    invitee = find_member(session, relationship, invitee_id)
    if invitee is not None and invitee.side is actor_member.side:
        raise RapportError(
            f"{mrkdwn.user(invitee_id)} is on your side ({actor_member.side.value}). Invite "
            f"an owner of the {actor_member.side.other.value} side, who will join from their "
            "company's workspace."
        )
    session.execute(
        delete(RelationshipInvite).where(
            RelationshipInvite.relationship_id == relationship.id,
            RelationshipInvite.used_at.is_(None),
        )
    )
    code = _new_code()
    invite = Invite(code, actor_member.side.other, invitee_id, now + INVITE_LIFETIME)
    session.add(
        RelationshipInvite(
            team_id=relationship.team_id,
            relationship_id=relationship.id,
            code_hash=_hash(code),
            side=invite.side,
            invitee_id=invitee_id,
            created_by=actor,
            created_at=now,
            expires_at=invite.expires_at,
        )
    )
    return invite


def join(session: Session, team_id: str, user_id: str, typed: str, now: datetime) -> Relationship:
    """Join the relationship a code invites to, from workspace ``team_id``, as the owner of
    the invited side. Everyone already on that side is reached through ``team_id`` from now
    on. Raises ``RapportError`` for a code that is malformed, unknown, used, expired, meant
    for someone else or used in the relationship's own workspace."""
    code = normalise_code(typed)
    if code is None:
        raise RapportError(
            f"“{mrkdwn.echo(typed[:40])}” doesn't look like an invite code. Codes look like "
            "`RAP-ABCD-EFGH-JKMN`."
        )
    invite = session.scalar(
        select(RelationshipInvite).where(RelationshipInvite.code_hash == _hash(code))
    )
    if invite is None:
        raise RapportError(
            "I don't know that code. Check it was copied whole, or ask for a new one."
        )
    ask_again = f"Ask {mrkdwn.user(invite.created_by)} for a new one."
    if invite.used_at is not None:
        raise RapportError(f"That code has been used already: codes work once. {ask_again}")
    if invite.expires_at <= now:
        raise RapportError(f"That code has expired: codes last 24 hours. {ask_again}")
    relationship = session.get(Relationship, invite.relationship_id)
    assert relationship is not None  # the invite would have gone with it
    if team_id == relationship.team_id:
        raise RapportError(
            f"*{mrkdwn.escape(relationship.name)}* already lives in this workspace. The code "
            "is for the other company's owner, in their own workspace; here, owners add "
            "people with `/rapport add`."
        )
    if user_id != invite.invitee_id:
        raise RapportError(
            f"That code was made for someone else: only the person it names can use it. {ask_again}"
        )
    if relationship.is_joint:
        raise RapportError(f"*{mrkdwn.escape(relationship.name)}* already spans two workspaces.")
    taken = session.execute(  # once, even with two joins at the same moment
        update(RelationshipInvite)
        .where(RelationshipInvite.id == invite.id, RelationshipInvite.used_at.is_(None))
        .values(used_at=now)
    )
    if taken.rowcount != 1:
        raise RapportError(f"That code has been used already: codes work once. {ask_again}")
    relationship.partner_team_id, relationship.partner_side = team_id, invite.side
    session.execute(
        update(Member)
        .where(Member.relationship_id == relationship.id, Member.side == invite.side)
        .values(team_id=team_id)
    )
    joiner = find_member(session, relationship, user_id)
    if joiner is None:
        session.add(
            Member(
                team_id=team_id,
                relationship_id=relationship.id,
                user_id=user_id,
                side=invite.side,
                role=Role.OWNER,
                added_at=now,
            )
        )
        relationship.members_added()
    else:
        joiner.team_id, joiner.side, joiner.role = team_id, invite.side, Role.OWNER
    # messages in the shared channel are counted on their author's organisation's side
    for org_team, side in ((team_id, invite.side), (relationship.team_id, invite.side.other)):
        count_organisation(session, relationship, org_team, relationship.org_name(side), side)
    session.flush()
    return relationship


def leave(session: Session, relationship: Relationship, actor: str, now: datetime) -> Relationship:
    """Turn a joint relationship back into two one-sided ones. The workspace that created it
    keeps it with its history; the partner's people move to a new relationship of the same
    name in their workspace, which starts with the health history so far. Returns that one."""
    require_owner(session, relationship, actor)
    partner, side = relationship.partner_team_id, relationship.partner_side
    if partner is None or side is None:
        raise RapportError(
            f"*{mrkdwn.escape(relationship.name)}* lives in one workspace only: there is "
            "nothing to leave. `/rapport remove` takes people out."
        )
    name = _free_name(session, partner, relationship.name)
    parted = Relationship(
        team_id=partner,
        name=name,
        name_key=name_key(name),
        client_org=relationship.client_org,
        provider_org=relationship.provider_org,
        created_by=actor,
        created_at=now,
    )
    session.add(parted)
    session.flush()
    session.execute(
        update(Member)
        .where(Member.relationship_id == relationship.id, Member.team_id == partner)
        .values(relationship_id=parted.id)
    )
    session.execute(
        delete(CurrentRelationship).where(
            CurrentRelationship.team_id == partner,
            CurrentRelationship.relationship_id == relationship.id,
        )
    )
    for snapshot in session.scalars(
        select(HealthSnapshot).where(HealthSnapshot.relationship_id == relationship.id)
    ):
        session.add(
            HealthSnapshot(
                team_id=partner,
                relationship_id=parted.id,
                week_start=snapshot.week_start,
                index_value=snapshot.index_value,
                band=snapshot.band,
                components=snapshot.components,
                computed_at=snapshot.computed_at,
            )
        )
    relationship.partner_team_id = relationship.partner_side = None
    session.flush()
    return parted


def _free_name(session: Session, team_id: str, name: str) -> str:
    """``name``, or ``name (2)``, ``(3)``… when the workspace has a relationship called that."""
    taken = set(
        session.scalars(select(Relationship.name_key).where(Relationship.team_id == team_id))
    )
    candidate, number = name, 1
    while name_key(candidate) in taken:
        number += 1
        suffix = f" ({number})"
        candidate = name[: NAME_MAX - len(suffix)] + suffix
    return candidate


def departed_side(session: Session, relationship: Relationship) -> Side | None:
    """The side of a joint relationship whose workspace uninstalled Rapport, if one did."""
    if relationship.partner_side is None:
        return None
    for side in (relationship.partner_side, relationship.partner_side.other):
        if not workspaces.is_active(session, relationship.team_of(side)):
            return side
    return None


@dataclass(frozen=True)
class Departure:
    """A joint relationship's side whose workspace uninstalled Rapport: the other side's
    owners are told, through their own workspace."""

    relationship_id: int
    relationship_name: str
    side: Side
    org: str
    told: list[Recipient]


def departures(session: Session, team_id: str) -> list[Departure]:
    """The joint relationships ``team_id`` was one home of, now that it uninstalled."""
    joint = session.scalars(
        select(Relationship).where(Relationship.partner_team_id.is_not(None), homed_in(team_id))
    ).all()
    found = []
    for relationship in joint:
        side = relationship.side_of(team_id)
        assert side is not None  # homed in team_id, and joint
        owners = owners_on(session, relationship, side.other)
        there = relationship.team_of(side.other)
        found.append(
            Departure(
                relationship.id,
                relationship.name,
                side,
                relationship.org_name(side),
                [Recipient(there, owner) for owner in owners],
            )
        )
    return found
