"""Who is in a relationship on which side: adding, changing and removing members (both
sides always keep an owner), and Slack Connect organisations counted on a side."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.relationships.domain import RapportError, find_member, require_owner
from bot.relationships.models import Member, OrganisationSide, Relationship, Role, Side
from bot.slack import mrkdwn


@dataclass(frozen=True)
class MemberChange:
    user_id: str
    outcome: str  # "added", "updated", "unchanged", "removed", "not a member"


def _owner_count(session: Session, relationship: Relationship, side: Side) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Member)
            .where(
                Member.relationship_id == relationship.id,
                Member.side == side,
                Member.role == Role.OWNER,
            )
        )
        or 0
    )


def _guard_last_owner(session: Session, relationship: Relationship, member: Member) -> None:
    if member.role is Role.OWNER and _owner_count(session, relationship, member.side) == 1:
        raise RapportError(
            f"<@{member.user_id}> is the last {member.side.value} owner of "
            f"*{mrkdwn.escape(relationship.name)}*. Make someone else a {member.side.value} "
            "owner first: both sides need an owner to receive alerts."
        )


def _governed_home(relationship: Relationship, owner: Member, side: Side) -> str:
    """The workspace ``owner``'s changes to ``side`` put people in: their own. In a joint
    relationship each company governs its own side only (``RapportError`` otherwise)."""
    if relationship.is_joint and side is not owner.side:
        raise RapportError(
            f"*{mrkdwn.escape(relationship.name)}* spans two workspaces, and each company "
            f"looks after its own people: the {side.value} side's owners add and remove "
            f"theirs from their own workspace."
        )
    return owner.team_id


def add_members(
    session: Session,
    relationship: Relationship,
    actor: str,
    user_ids: Iterable[str],
    side: Side,
    role: Role,
    now: datetime,
) -> list[MemberChange]:
    """Add people (or change their side/role); owners only, and in a joint relationship
    only to their own side. People join in the owner's workspace, which reaches them."""
    owner = require_owner(session, relationship, actor)
    home = _governed_home(relationship, owner, side)
    changes = []
    for user_id in dict.fromkeys(user_ids):
        member = find_member(session, relationship, user_id)
        if member is None:
            session.add(
                Member(
                    team_id=home,
                    relationship_id=relationship.id,
                    user_id=user_id,
                    side=side,
                    role=role,
                    added_at=now,
                )
            )
            relationship.members_added()
            changes.append(MemberChange(user_id, "added"))
        elif (member.side, member.role) == (side, role):
            changes.append(MemberChange(user_id, "unchanged"))
        else:
            _governed_home(relationship, owner, member.side)
            if member.side is not side or role is not Role.OWNER:
                _guard_last_owner(session, relationship, member)
            member.side, member.role = side, role
            changes.append(MemberChange(user_id, "updated"))
        session.flush()
    return changes


def remove_members(
    session: Session, relationship: Relationship, actor: str, user_ids: Iterable[str]
) -> list[MemberChange]:
    owner = require_owner(session, relationship, actor)
    changes = []
    for user_id in dict.fromkeys(user_ids):
        member = find_member(session, relationship, user_id)
        if member is None:
            changes.append(MemberChange(user_id, "not a member"))
            continue
        _governed_home(relationship, owner, member.side)
        _guard_last_owner(session, relationship, member)
        session.delete(member)
        session.flush()
        changes.append(MemberChange(user_id, "removed"))
    return changes


def map_organisation(
    session: Session,
    relationship: Relationship,
    actor: str,
    org_team_id: str,
    org_name: str,
    side: Side,
) -> None:
    """Slack Connect: count everyone from ``org_team_id`` on ``side`` (owners only)."""
    require_owner(session, relationship, actor)
    count_organisation(session, relationship, org_team_id, org_name, side)


def count_organisation(
    session: Session, relationship: Relationship, org_team_id: str, org_name: str, side: Side
) -> None:
    """Count everyone from organisation ``org_team_id`` on ``side`` from now on."""
    mapping = session.scalar(
        select(OrganisationSide).where(
            OrganisationSide.relationship_id == relationship.id,
            OrganisationSide.org_team_id == org_team_id,
        )
    )
    if mapping is None:
        relationship.organisations.append(
            OrganisationSide(
                team_id=relationship.team_id,
                org_team_id=org_team_id,
                org_name=org_name[:120],
                side=side,
            )
        )
    else:
        mapping.side, mapping.org_name = side, org_name[:120]
    session.flush()
