"""When pulse rounds go out: the cadence, pausing, and the times of the rounds to come.

A round's prompt reaches each member at the schedule's local time *in their own time zone*:
a scheduled round is keyed by its date and opens (becomes answerable) at that time in the
earliest time zone on Earth; it closes ``window_days`` after that time in the latest one, so
everyone gets at least the whole window.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.cadence import Cadence, CadenceError, parse_cadence
from bot.core.occurrences import local_instant, occurrence_day
from bot.pulse.models import PulseRound, PulseSettings
from bot.pulse.settings import RoundTiming, editable_settings, settings_for
from bot.relationships.domain import require_owner
from bot.relationships.models import Relationship

EARLIEST_ZONE = ZoneInfo("Etc/GMT-14")  # UTC+14, where a local time comes first
LATEST_ZONE = ZoneInfo("Etc/GMT+12")  # UTC-12, where it comes last


@dataclass(frozen=True)
class Schedule:
    cadence: Cadence
    paused: bool
    window_days: int
    min_group: int
    drop_alert: float
    gap_alert: float
    response_alert: float
    reminder_hours: int
    next_round_day: date | None  # None while paused


def schedule(session: Session, relationship: Relationship) -> Schedule:
    settings = settings_for(session, relationship)
    next_day = None if settings.paused else _next_day(session, settings)
    return Schedule(
        cadence=parse_cadence(settings.cadence),
        paused=settings.paused,
        window_days=settings.window_days,
        min_group=settings.min_group,
        drop_alert=settings.drop_alert,
        gap_alert=settings.gap_alert,
        response_alert=settings.response_alert,
        reminder_hours=settings.reminder_hours,
        next_round_day=next_day,
    )


def set_schedule(
    session: Session, relationship: Relationship, actor: str, text: str, now: datetime
) -> Schedule:
    """Replace the cadence, e.g. "every 2 weeks on Tuesday at 10:00"; counts from today."""
    require_owner(session, relationship, actor)
    cadence = parse_cadence(text)  # CadenceError is a RapportError-like message
    if cadence.kind == "cron":
        raise CadenceError(
            "Pulse schedules are weekly, every few weeks or monthly, e.g. "
            "`every 2 weeks on Tuesday at 10:00` or `monthly on the first Monday at 9:30`."
        )
    _start_cadence(editable_settings(session, relationship), cadence, now)
    session.flush()
    return schedule(session, relationship)


def _start_cadence(settings: PulseSettings, cadence: Cadence, now: datetime) -> None:
    """A new cadence counts from today: no round before now, fortnights from this week."""
    settings.cadence = cadence.to_spec()
    settings.anchor = now.date()
    settings.not_before = now


@dataclass(frozen=True)
class ScheduleForm:
    """What the schedule modal sets, already checked field by field."""

    every_weeks: int | None  # 1 or 2; None for monthly
    weekday: int  # 0 = Monday
    at: time  # local wall-clock time
    window_days: int


def edit_schedule(
    session: Session, relationship: Relationship, actor: str, form: ScheduleForm, now: datetime
) -> Schedule:
    """Save the schedule modal. The cadence restarts from today only if it changed, so
    editing just the window keeps which fortnight rounds fall in; a monthly schedule keeps
    its week of the month (the first, for one that wasn't monthly)."""
    require_owner(session, relationship, actor)
    settings = editable_settings(session, relationship)
    current = parse_cadence(settings.cadence)
    if form.every_weeks is None:
        nth = current.nth if current.kind == "monthly" else 1
        cadence = Cadence("monthly", form.at, form.weekday, nth=nth)
    else:
        cadence = Cadence("weekly", form.at, form.weekday, interval_weeks=form.every_weeks)
    if cadence.to_spec() != settings.cadence:
        _start_cadence(settings, cadence, now)
    settings.window_days = form.window_days
    session.flush()
    return schedule(session, relationship)


def set_paused(
    session: Session, relationship: Relationship, actor: str, paused: bool, now: datetime
) -> bool:
    """Pause or resume; returns False when it already was. Resuming never catches up on
    rounds missed while paused."""
    require_owner(session, relationship, actor)
    settings = editable_settings(session, relationship)
    if settings.paused == paused:
        return False
    settings.paused = paused
    if not paused:
        settings.not_before = now
    session.flush()
    return True


def _last_scheduled_opening(session: Session, relationship_id: int) -> datetime | None:
    return session.scalar(
        select(func.max(PulseRound.opens_at)).where(
            PulseRound.relationship_id == relationship_id, PulseRound.day.is_not(None)
        )
    )


def last_scheduled_openings(session: Session) -> dict[int, datetime]:
    """When each relationship's last scheduled round opened, in one query."""
    rows = session.execute(
        select(PulseRound.relationship_id, func.max(PulseRound.opens_at))
        .where(PulseRound.day.is_not(None))
        .group_by(PulseRound.relationship_id)
    ).all()
    return {relationship_id: opened for relationship_id, opened in rows}


def round_times(
    session: Session, settings: PulseSettings
) -> Iterator[tuple[date, time, datetime, datetime]]:
    """Scheduled (day, opens_at, closes_at) after the last scheduled round, endless."""
    last = _last_scheduled_opening(session, settings.relationship_id)
    return round_times_after(RoundTiming.of(settings), last)


def round_times_after(
    timing: RoundTiming, last_opening: datetime | None
) -> Iterator[tuple[date, time, datetime, datetime]]:
    """Scheduled (day, opens_at, closes_at) after ``last_opening``, endless."""
    after = max(filter(None, (timing.not_before, last_opening)))
    while True:
        found = _round_time_after(timing, after)
        yield found
        after = found[2]


@functools.lru_cache(maxsize=4096)
def _round_time_after(
    timing: RoundTiming, after: datetime
) -> tuple[date, time, datetime, datetime]:
    """The first scheduled round after ``after``. Kept: the scheduler asks it of every
    relationship each minute, and the answer changes only with the settings or a new round."""
    cadence = parse_cadence(timing.cadence)
    day = occurrence_day(cadence, EARLIEST_ZONE, after, timing.anchor)
    opens = local_instant(day, cadence.at, EARLIEST_ZONE)
    closes = local_instant(day, cadence.at, LATEST_ZONE) + timedelta(days=timing.window_days)
    return day, cadence.at, opens, closes


def _next_day(session: Session, settings: PulseSettings) -> date:
    return next(round_times(session, settings))[0]
