"""Who takes part in a check-in, and who may change it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.checkins.models import CheckIn, CheckInParticipant
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
    return tuple(
        session.scalars(
            select(CheckInParticipant.user_id)
            .join(CheckIn, CheckIn.id == CheckInParticipant.checkin_id)
            .join(
                Member,
                (Member.relationship_id == CheckIn.relationship_id)
                & (Member.user_id == CheckInParticipant.user_id),
            )
            .where(CheckInParticipant.checkin_id == checkin_id)
            .order_by(CheckInParticipant.position, CheckInParticipant.id)
        )
    )
