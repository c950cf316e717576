"""Who takes part in a check-in, and who may change it."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.checkins.models import CheckIn, CheckInParticipant
from bot.core.db import columns
from bot.relationships.domain import NotAllowed
from bot.relationships.models import Member, Role
from bot.slack import mrkdwn


def membership(session: Session, relationship_id: int, user_id: str) -> Member | None:
    return session.scalar(
        select(Member).where(Member.relationship_id == relationship_id, Member.user_id == user_id)
    )


def require_editor(session: Session, checkin: CheckIn, user_id: str) -> None:
    member = membership(session, checkin.relationship_id, user_id)
    if member is not None and (member.role is Role.OWNER or checkin.created_by == user_id):
        return
    raise NotAllowed(
        f"Only owners and whoever created *{mrkdwn.escape(checkin.title)}* can change it."
    )


def participants(session: Session, checkin_id: int) -> tuple[str, ...]:
    """The participants who are still members: someone taken out of the relationship gets
    no more reminders, and an edit of the check-in drops them for good."""
    return tuple(participant_homes(session, checkin_id))


def participant_homes(session: Session, checkin_id: int) -> dict[str, str]:
    """``participants``, in order, each with their home workspace: the one whose
    installation reminds them (the other company's, for a joint relationship's other side)."""
    rows = session.execute(_STILL_MEMBERS.where(CheckInParticipant.checkin_id == checkin_id)).all()
    return {user_id: team_id for _, user_id, team_id in rows}


def participants_by_checkin(session: Session, relationship_id: int) -> dict[int, tuple[str, ...]]:
    """``participants`` of each of the relationship's check-ins, in one statement."""
    found: dict[int, list[str]] = {}
    values = {"relationship_id": relationship_id}
    for checkin_id, user_id, _ in columns(session, _STILL_MEMBERS_OF_RELATIONSHIP, values):
        found.setdefault(checkin_id, []).append(user_id)
    return {checkin_id: tuple(user_ids) for checkin_id, user_ids in found.items()}


# each check-in's participants who are still members, in their order, with their homes
_STILL_MEMBERS = (
    select(CheckInParticipant.checkin_id, CheckInParticipant.user_id, Member.team_id)
    .join(CheckIn, CheckIn.id == CheckInParticipant.checkin_id)
    .join(
        Member,
        (Member.relationship_id == CheckIn.relationship_id)
        & (Member.user_id == CheckInParticipant.user_id),
    )
    .order_by(CheckInParticipant.checkin_id, CheckInParticipant.position, CheckInParticipant.id)
)
# built once: /checkin list reads it in every ack (see bot.relationships.domain)
_STILL_MEMBERS_OF_RELATIONSHIP = _STILL_MEMBERS.where(
    CheckIn.relationship_id == bindparam("relationship_id")
)
