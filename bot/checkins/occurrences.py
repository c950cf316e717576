"""A check-in's occurrences: planning the next one with its queued work, and reading one.

Each check-in has exactly one *planned* occurrence ahead of it; when that occurrence
starts, its ``advance`` task plans the next one with ``bot.core.cadence.next_occurrence`` in the
check-in's own time zone (so 10:00 Europe/London stays 10:00 local across DST). The work
around an occurrence (reminders, follow-up, lapse check) is queued as ``CheckInTask`` rows
with an indexed ``next_due_at``; ``bot.checkins.schedule`` turns due rows into messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.checkins.models import CheckIn, CheckInTask, Occurrence, Outcome, TaskKind
from bot.checkins.people import participant_homes
from bot.core.cadence import parse_cadence
from bot.core.occurrences import next_occurrence
from bot.relationships.domain import RapportError, homed_in
from bot.relationships.models import Relationship

FOLLOW_UP_STALE = timedelta(days=2)  # a follow-up is still asked this long after the end
# time to answer the follow-up before "unconfirmed" counts: at least as long as it can be
# asked, so a "Held" on the second day never arrives after a lapse alert
LAPSE_GRACE = FOLLOW_UP_STALE


def plan_next(session: Session, checkin: CheckIn, after: datetime) -> Occurrence:
    """Plan the occurrence after ``after`` and queue its work."""
    starts = next_occurrence(
        parse_cadence(checkin.cadence), ZoneInfo(checkin.tz), after, checkin.anchor
    )
    ends = starts + timedelta(minutes=checkin.duration_minutes)
    occurrence = session.scalar(
        select(Occurrence).where(
            Occurrence.checkin_id == checkin.id, Occurrence.starts_at == starts
        )
    )
    if occurrence is not None:  # already planned (e.g. an edit back to the same schedule)
        return occurrence
    occurrence = Occurrence(
        team_id=checkin.team_id,
        relationship_id=checkin.relationship_id,
        checkin_id=checkin.id,
        starts_at=starts,
        ends_at=ends,
    )
    session.add(occurrence)
    session.flush()

    def task(kind: TaskKind, due: datetime, offset: int = 0) -> CheckInTask:
        return CheckInTask(
            team_id=checkin.team_id,
            checkin_id=checkin.id,
            occurrence_id=occurrence.id,
            kind=kind,
            offset_minutes=offset,
            next_due_at=due,
        )

    session.add(task(TaskKind.ADVANCE, starts))
    for offset in reminder_offsets(checkin):
        session.add(task(TaskKind.REMINDER, starts - timedelta(minutes=offset), offset))
    session.add(task(TaskKind.FOLLOW_UP, ends))
    session.add(task(TaskKind.LAPSE_CHECK, ends + LAPSE_GRACE))
    session.flush()
    return occurrence


def reminder_offsets(checkin: CheckIn) -> list[int]:
    return [int(value) for value in checkin.reminder_offsets.split(",") if value.strip()]


@dataclass(frozen=True)
class OccurrenceFacts:
    occurrence_id: int
    checkin_id: int
    relationship_id: int
    team_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    tz: str
    participants: tuple[str, ...]
    homes: dict[str, str]  # each participant's workspace, whose installation reminds them
    channel_id: str | None
    creator: str
    outcome: str | None
    note: str | None
    reason: str | None


def occurrence_facts(session: Session, team_id: str, occurrence_id: int) -> OccurrenceFacts:
    row = session.execute(
        select(Occurrence, CheckIn)
        .join(CheckIn, CheckIn.id == Occurrence.checkin_id)
        .join(Relationship, Relationship.id == CheckIn.relationship_id)
        .where(Occurrence.id == occurrence_id, homed_in(team_id))
    ).first()
    if row is None:
        raise RapportError("That check-in no longer exists.")
    occurrence, checkin = row
    homes = participant_homes(session, checkin.id)
    return OccurrenceFacts(
        occurrence_id=occurrence.id,
        checkin_id=checkin.id,
        relationship_id=checkin.relationship_id,
        team_id=checkin.team_id,
        title=checkin.title,
        starts_at=occurrence.starts_at,
        ends_at=occurrence.ends_at,
        tz=checkin.tz,
        participants=tuple(homes),
        homes=homes,
        channel_id=checkin.channel_id,
        creator=checkin.created_by,
        outcome=occurrence.outcome.value if occurrence.outcome else None,
        note=occurrence.note,
        reason=occurrence.reason,
    )


def recent_outcomes(
    session: Session, checkin_id: int, until: datetime, limit: int = 52
) -> list[tuple[int, Outcome | None]]:
    """The check-in's latest ``limit`` occurrences up to ``until``, newest first, as
    (occurrence id, outcome)."""
    return recent_outcomes_of(session, [checkin_id], until, limit).get(checkin_id, [])


def recent_outcomes_of(
    session: Session, checkin_ids: list[int], until: datetime, limit: int = 52
) -> dict[int, list[tuple[int, Outcome | None]]]:
    """``recent_outcomes`` of several check-ins in one query, by check-in id (absent when a
    check-in has none yet)."""
    newest_first = func.row_number().over(
        partition_by=Occurrence.checkin_id, order_by=Occurrence.starts_at.desc()
    )
    ranked = (
        select(Occurrence.checkin_id, Occurrence.id, Occurrence.outcome, newest_first.label("n"))
        .where(Occurrence.checkin_id.in_(checkin_ids), Occurrence.starts_at <= until)
        .subquery()
    )
    found: dict[int, list[tuple[int, Outcome | None]]] = {}
    for checkin_id, occurrence_id, outcome in session.execute(
        select(ranked.c.checkin_id, ranked.c.id, ranked.c.outcome)
        .where(ranked.c.n <= limit)
        .order_by(ranked.c.checkin_id, ranked.c.n)
    ):
        found.setdefault(checkin_id, []).append((occurrence_id, outcome))
    return found
