"""Create, list, find, change, remove and skip check-ins.

Plain values and a SQLAlchemy ``Session`` in, plain values out. Problems a person can fix
raise ``RapportError`` whose message is safe to show them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, bindparam, delete, select
from sqlalchemy.orm import Session

from bot.checkins.models import (
    CheckIn,
    CheckInParticipant,
    CheckInTask,
    Occurrence,
    Outcome,
    TaskKind,
)
from bot.checkins.occurrences import plan_next, reminder_offsets
from bot.checkins.parser import DEFAULT_REMINDERS, REASON_MAX, CheckInDraft
from bot.checkins.people import participants, participants_by_checkin, require_editor
from bot.checkins.validation import draft_problems, start_date_problem
from bot.core.cadence import parse_cadence
from bot.core.db import columns, entity_rows
from bot.core.occurrences import typical_interval
from bot.relationships import domain as rel
from bot.relationships.domain import RapportError, get_relationship, homed_in, name_key
from bot.relationships.models import Relationship
from bot.slack import mrkdwn
from bot.slack.timezones import FRESH_ZONE, fresh_zone, fresh_zone_values

STRETCH_FACTOR = 1.5  # a new typical interval this much longer is a "stretched" cadence


@dataclass(frozen=True)
class CheckInView:
    number: int
    id: int
    title: str
    schedule: str  # "weekly on Tuesday at 10:00 (Europe/London)"
    tz: str
    participants: tuple[str, ...]
    channel_id: str | None
    next_start: datetime | None
    next_skipped_reason: str | None
    created_by: str
    reminders: tuple[int, ...] = DEFAULT_REMINDERS
    lifted_skip: datetime | None = None  # a skipped start the edit moved: no longer skipped


def create_checkin(
    session: Session,
    relationship: Relationship,
    creator: str,
    draft: CheckInDraft,
    tz_name: str,
    now: datetime,
) -> CheckInView:
    """Create a check-in (any member may) and plan its first occurrence."""
    rel.require_member(session, relationship, creator)
    errors = draft_problems(session, relationship, draft, None)
    if errors:
        raise RapportError(" ".join(errors.values()))
    tz = ZoneInfo(draft.tz or tz_name)
    today = now.astimezone(tz).date()
    if problem := start_date_problem(draft.starts_on, tz, now):
        example = today + timedelta(days=1 if draft.starts_on < today else 7)
        raise RapportError(f"{problem} For example `from {example}`.")
    title = " ".join(draft.title.split())
    checkin = CheckIn(
        team_id=relationship.team_id,
        relationship_id=relationship.id,
        title=title,
        title_key=name_key(title),
        cadence=draft.cadence.to_spec(),
        tz=tz.key,
        duration_minutes=int(draft.duration.total_seconds() // 60),
        reminder_offsets=",".join(str(minutes) for minutes in draft.reminders),
        channel_id=draft.channel_id,
        anchor=draft.starts_on or today,
        created_by=creator,
        created_at=now,
    )
    session.add(checkin)
    session.flush()
    _set_participants(session, checkin, draft.participants)
    plan_next(session, checkin, now)
    return _view(session, checkin, 0, now)


def update_checkin(
    session: Session, checkin: CheckIn, user_id: str, draft: CheckInDraft, now: datetime
) -> CheckInView:
    """Change a check-in; the planned occurrence is re-planned. A skip of it holds while the
    new schedule keeps its start (else the view's ``lifted_skip`` says it no longer
    applies). A cadence stretched to a much longer interval queues a lapse alert."""
    require_editor(session, checkin, user_id)
    relationship = get_relationship(session, checkin.team_id, checkin.relationship_id)
    errors = draft_problems(session, relationship, draft, checkin.id)
    if errors:
        raise RapportError(" ".join(errors.values()))
    before = parse_cadence(checkin.cadence)
    title = " ".join(draft.title.split())
    checkin.title, checkin.title_key = title, name_key(title)
    checkin.cadence = draft.cadence.to_spec()
    if draft.tz:
        checkin.tz = draft.tz
    checkin.duration_minutes = int(draft.duration.total_seconds() // 60)
    checkin.channel_id = draft.channel_id
    checkin.reminder_offsets = ",".join(str(minutes) for minutes in draft.reminders)
    _set_participants(session, checkin, draft.participants)
    planned = _upcoming(session, checkin.id, now)
    skip = (
        (planned.starts_at, planned.reason, planned.answered_by, planned.answered_at)
        if planned is not None and planned.outcome is Outcome.SKIPPED
        else None
    )
    session.execute(
        delete(Occurrence).where(Occurrence.checkin_id == checkin.id, Occurrence.starts_at > now)
    )
    session.flush()
    upcoming = plan_next(session, checkin, now)
    lifted_skip = None
    if skip is not None:
        skipped_start, reason, skipped_by, skipped_at = skip
        if skipped_start == upcoming.starts_at:
            upcoming.outcome, upcoming.reason = Outcome.SKIPPED, reason
            upcoming.answered_by, upcoming.answered_at = skipped_by, skipped_at
        else:
            lifted_skip = skipped_start
    if typical_interval(draft.cadence) >= typical_interval(before) * STRETCH_FACTOR:
        checkin.stretched_from = before.to_spec()
        session.add(
            CheckInTask(
                team_id=checkin.team_id,
                checkin_id=checkin.id,
                occurrence_id=upcoming.id,
                kind=TaskKind.STRETCHED,
                offset_minutes=0,
                next_due_at=now,
            )
        )
    session.flush()
    return replace(_view(session, checkin, 0, now), lifted_skip=lifted_skip)


def _set_participants(session: Session, checkin: CheckIn, people: tuple[str, ...]) -> None:
    session.execute(delete(CheckInParticipant).where(CheckInParticipant.checkin_id == checkin.id))
    for position, user_id in enumerate(people):
        session.add(
            CheckInParticipant(
                team_id=checkin.team_id, checkin_id=checkin.id, user_id=user_id, position=position
            )
        )


def remove_checkin(session: Session, relationship: Relationship, ref: str, user_id: str) -> str:
    checkin = find_checkin(session, relationship, ref)
    require_editor(session, checkin, user_id)
    title = checkin.title
    session.delete(checkin)
    session.flush()
    return title


def skip_next(
    session: Session, relationship: Relationship, ref: str, user_id: str, reason: str, now: datetime
) -> tuple[str, datetime, str]:
    """Mark the planned occurrence skipped: no reminders, no follow-up. Owners, the creator
    and participants may. Returns (title, start, tz)."""
    checkin = find_checkin(session, relationship, ref)
    if user_id not in participants(session, checkin.id):
        require_editor(session, checkin, user_id)
    upcoming = _upcoming(session, checkin.id, now)
    if upcoming is None:
        raise RapportError("There's no upcoming occurrence to skip.")
    if upcoming.outcome is Outcome.SKIPPED:
        raise RapportError(f"The next *{mrkdwn.escape(checkin.title)}* is already skipped.")
    upcoming.outcome, upcoming.reason = Outcome.SKIPPED, reason[:REASON_MAX]
    upcoming.answered_by, upcoming.answered_at = user_id, now
    return checkin.title, upcoming.starts_at, checkin.tz


def list_checkins(
    session: Session,
    relationship: Relationship,
    now: datetime,
    checkins: list[CheckIn] | None = None,
) -> list[CheckInView]:
    """Its check-ins (``checkins``, when the caller read them already), numbered as
    ``/checkin list`` shows them, read in three statements however many there are; the
    caller checked that the person is a member (``rel.resolve`` does)."""
    if checkins is None:
        checkins = checkins_of(session, relationship.id)
    if not checkins:
        return []
    people = participants_by_checkin(session, relationship.id)
    upcoming = _upcoming_by_checkin(session, relationship.id, now)
    return [
        _view_of(checkin, number, people.get(checkin.id, ()), upcoming.get(checkin.id))
        for number, checkin in enumerate(checkins, start=1)
    ]


def checkins_of(session: Session, relationship_id: int) -> list[CheckIn]:
    return [
        row[0] for row in entity_rows(session, _CHECKINS_OF, {"relationship_id": relationship_id})
    ]


# built once: /checkin list and /rapport health run it each time (see bot.relationships.domain)
_CHECKINS_OF = (
    select(CheckIn)
    .where(CheckIn.relationship_id == bindparam("relationship_id"))
    .order_by(CheckIn.id)
)


def checkins_and_zone(
    session: Session, relationship_id: int, team_id: str, user_id: str, now: datetime
) -> tuple[list[CheckIn], ZoneInfo | None]:
    """Its check-ins, and the zone Slack told for the person lately (None if not lately) to
    show them in, in one statement. With no check-ins there is no zone either: nothing
    needs one."""
    values = {"relationship_id": relationship_id, **fresh_zone_values(team_id, user_id, now)}
    rows = entity_rows(session, _CHECKINS_AND_ZONE, values)
    return [checkin for checkin, _ in rows], fresh_zone(rows[0][1]) if rows else None


_CHECKINS_AND_ZONE = _CHECKINS_OF.add_columns(FRESH_ZONE)


def find_checkin(session: Session, relationship: Relationship, ref: str) -> CheckIn:
    """By its number in ``/checkin list`` or by title (exact, then unique partial match)."""
    checkins = checkins_of(session, relationship.id)
    if ref.strip().isdigit():
        number = int(ref)
        if 1 <= number <= len(checkins):
            return checkins[number - 1]
        raise RapportError(
            f"There's no check-in number {number}. `/checkin list` shows the numbers."
        )
    key = name_key(ref)
    exact = [c for c in checkins if c.title_key == key]
    partial = exact or [c for c in checkins if key and key in c.title_key]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise RapportError(
            f"“{mrkdwn.escape(ref)}” matches several check-ins. Use its number from "
            "`/checkin list`."
        )
    raise RapportError(
        f"I can't find a check-in called “{mrkdwn.escape(ref)}”. `/checkin list` shows them."
    )


def get_checkin(session: Session, team_id: str, checkin_id: int) -> CheckIn:
    checkin = session.scalar(  # from either home workspace of a joint relationship
        select(CheckIn)
        .join(Relationship, Relationship.id == CheckIn.relationship_id)
        .where(CheckIn.id == checkin_id, homed_in(team_id))
    )
    if checkin is None:
        raise RapportError("That check-in no longer exists.")
    return checkin


def _upcoming(session: Session, checkin_id: int, now: datetime) -> Occurrence | None:
    """The planned occurrence (the one after ``now``), if any."""
    return session.scalar(
        select(Occurrence)
        .where(Occurrence.checkin_id == checkin_id, Occurrence.starts_at > now)
        .order_by(Occurrence.starts_at)
        .limit(1)
    )


def _upcoming_by_checkin(
    session: Session, relationship_id: int, now: datetime
) -> dict[int, Row[Any]]:
    """``_upcoming`` of each of the relationship's check-ins, in one statement: its start,
    outcome and reason."""
    values = {"relationship_id": relationship_id, "now": now}
    found: dict[int, Row[Any]] = {}
    for row in columns(session, _UPCOMING_OF_RELATIONSHIP, values):
        found.setdefault(row.checkin_id, row)  # the first, the soonest
    return found


# built once: /checkin list reads it in every ack (see bot.relationships.domain)
_UPCOMING_OF_RELATIONSHIP = (
    select(Occurrence.checkin_id, Occurrence.starts_at, Occurrence.outcome, Occurrence.reason)
    .where(
        Occurrence.relationship_id == bindparam("relationship_id"),
        Occurrence.starts_at > bindparam("now"),
    )
    .order_by(Occurrence.checkin_id, Occurrence.starts_at)
)


def _view(session: Session, checkin: CheckIn, number: int, now: datetime) -> CheckInView:
    return _view_of(
        checkin, number, participants(session, checkin.id), _upcoming(session, checkin.id, now)
    )


def _view_of(
    checkin: CheckIn, number: int, people: tuple[str, ...], upcoming: Occurrence | Row[Any] | None
) -> CheckInView:
    """What a check-in shows; ``upcoming``, its planned occurrence (an ``Occurrence`` or a
    row with its start, outcome and reason) or None."""
    return CheckInView(
        number=number,
        id=checkin.id,
        title=checkin.title,
        schedule=_schedule_text(checkin),
        tz=checkin.tz,
        participants=people,
        channel_id=checkin.channel_id,
        next_start=upcoming.starts_at if upcoming else None,
        next_skipped_reason=(
            (upcoming.reason or "no reason given")
            if upcoming is not None and upcoming.outcome is Outcome.SKIPPED
            else None
        ),
        created_by=checkin.created_by,
        reminders=tuple(reminder_offsets(checkin)),
    )


def _schedule_text(checkin: CheckIn) -> str:
    return f"{parse_cadence(checkin.cadence).describe()} ({checkin.tz})"
