"""What the check-in modal shows (a check-in to edit, a catch-up to schedule) and saves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.checkins.commands import CheckInView, create_checkin, get_checkin, update_checkin
from bot.checkins.models import CheckIn
from bot.checkins.occurrences import reminder_offsets
from bot.checkins.parser import DEFAULT_REMINDERS, CheckInDraft
from bot.checkins.people import participants, require_editor
from bot.checkins.validation import draft_problems, start_date_problem
from bot.core.cadence import parse_cadence
from bot.relationships import domain as rel
from bot.relationships.domain import NotAllowed, get_relationship
from bot.relationships.models import Member, Role
from bot.slack import mrkdwn


@dataclass(frozen=True)
class EditForm:
    """What the modal needs to show a check-in for editing."""

    relationship_id: int
    checkin_id: int | None
    title: str
    cadence: str
    tz: str
    duration_minutes: int
    participants: tuple[str, ...]
    channel_id: str | None
    reminders: tuple[int, ...] = DEFAULT_REMINDERS


def edit_form(session: Session, checkin: CheckIn, user_id: str) -> EditForm:
    require_editor(session, checkin, user_id)
    return EditForm(
        relationship_id=checkin.relationship_id,
        checkin_id=checkin.id,
        title=checkin.title,
        cadence=parse_cadence(checkin.cadence).describe(),
        tz=checkin.tz,
        duration_minutes=checkin.duration_minutes,
        participants=participants(session, checkin.id),
        channel_id=checkin.channel_id,
        reminders=tuple(reminder_offsets(checkin)),
    )


def catch_up_form(
    session: Session, team_id: str, relationship_id: int, user_id: str, tz: str
) -> EditForm:
    """The modal prefilled for an informal catch-up between both sides' owners."""
    relationship, role = rel.member_of(session, team_id, relationship_id, user_id)
    if role is not Role.OWNER:
        raise NotAllowed(
            f"Only owners of *{mrkdwn.escape(relationship.name)}* can schedule catch-ups for it."
        )
    owners = session.scalars(
        select(Member.user_id)
        .where(Member.relationship_id == relationship.id, Member.role == Role.OWNER)
        .order_by(Member.added_at, Member.id)
    )
    return EditForm(relationship.id, None, "Informal catch-up", "", tz, 30, tuple(owners), None)


def validate_draft(
    session: Session,
    team_id: str,
    relationship_id: int,
    checkin_id: int | None,
    draft: CheckInDraft,
    now: datetime,
) -> dict[str, str]:
    """Problems with the modal's draft, keyed by its fields (a first date: new ones only)."""
    relationship = get_relationship(session, team_id, relationship_id)
    errors = draft_problems(session, relationship, draft, checkin_id)
    problem = None
    if checkin_id is None and draft.tz is not None:
        problem = start_date_problem(draft.starts_on, ZoneInfo(draft.tz), now)
    if problem:
        errors["starts"] = problem
    return errors


def save_from_form(
    session: Session,
    team_id: str,
    relationship_id: int,
    checkin_id: int | None,
    user_id: str,
    draft: CheckInDraft,
    now: datetime,
) -> CheckInView:
    """Create (``checkin_id`` None) or update from the modal."""
    relationship = get_relationship(session, team_id, relationship_id)
    if checkin_id is None:
        assert draft.tz is not None
        return create_checkin(session, relationship, user_id, draft, draft.tz, now)
    return update_checkin(session, get_checkin(session, team_id, checkin_id), user_id, draft, now)
