"""``/checkin history``: recent occurrences, adherence over eight weeks, and streaks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.checkins.commands import checkins_of
from bot.checkins.models import CheckIn, Occurrence, Outcome
from bot.checkins.occurrences import recent_outcomes
from bot.relationships import domain as rel
from bot.relationships.models import Relationship

HISTORY_WINDOW = timedelta(weeks=8)
HISTORY_ITEMS = 10


@dataclass(frozen=True)
class PastOccurrence:
    title: str
    starts_at: datetime
    tz: str
    outcome: str  # held, skipped, rescheduled, unknown
    note: str | None
    reason: str | None


@dataclass(frozen=True)
class Adherence:
    title: str
    scheduled: int
    held: int
    streak: int


@dataclass(frozen=True)
class History:
    relationship: str
    recent: list[PastOccurrence]
    adherence: list[Adherence]
    scheduled: int
    held: int


def history(session: Session, relationship: Relationship, user_id: str, now: datetime) -> History:
    """Recent occurrences (unanswered = "unknown"), adherence over 8 weeks, streaks."""
    rel.require_member(session, relationship, user_id)
    rows = session.execute(
        select(Occurrence, CheckIn.title, CheckIn.tz)
        .join(CheckIn, CheckIn.id == Occurrence.checkin_id)
        .where(Occurrence.relationship_id == relationship.id, Occurrence.starts_at <= now)
        .order_by(Occurrence.starts_at.desc())
        .limit(HISTORY_ITEMS)
    ).all()
    recent = [
        PastOccurrence(
            title,
            occurrence.starts_at,
            tz,
            occurrence.outcome.value if occurrence.outcome else "unknown",
            occurrence.note,
            occurrence.reason,
        )
        for occurrence, title, tz in rows
    ]
    counts = held_counts(session, relationship.id, now)
    adherence = []
    for checkin in checkins_of(session, relationship.id):
        scheduled, held_count = counts.get(checkin.id, (0, 0))
        adherence.append(
            Adherence(checkin.title, scheduled, held_count, _streak(session, checkin.id, now))
        )
    return History(
        relationship.name,
        recent,
        adherence,
        sum(scheduled for scheduled, _ in counts.values()),
        sum(held_count for _, held_count in counts.values()),
    )


def held_counts(
    session: Session, relationship_id: int, until: datetime
) -> dict[int, tuple[int, int]]:
    """Per check-in id, (occurrences scheduled, occurrences held) in the eight weeks up to
    ``until``: the adherence ``/checkin history`` shows and the health index counts."""
    held = func.sum(case((Occurrence.outcome == Outcome.HELD, 1), else_=0))
    return {
        checkin_id: (scheduled, int(held_count or 0))
        for checkin_id, scheduled, held_count in session.execute(
            select(Occurrence.checkin_id, func.count(Occurrence.id), held)
            .where(
                Occurrence.relationship_id == relationship_id,
                Occurrence.starts_at <= until,
                Occurrence.starts_at > until - HISTORY_WINDOW,
            )
            .group_by(Occurrence.checkin_id)
        )
    }


def _streak(session: Session, checkin_id: int, now: datetime) -> int:
    """Occurrences held in a row, counting back from the latest answered one."""
    streak = 0
    for index, (_, outcome) in enumerate(recent_outcomes(session, checkin_id, now)):
        if outcome is Outcome.HELD:
            streak += 1
        elif outcome is None and index == 0:
            continue  # the latest may simply not be answered yet
        else:
            break
    return streak
