"""When a :class:`~bot.core.cadence.Cadence` happens.

* Wall-clock times (``Cadence.at``) are naive local times; they are interpreted in
  whatever time zone the caller passes, so a 10:00 check-in stays at 10:00 local time
  across daylight-saving changes.
* Every ``datetime`` accepted must be timezone-aware; every instant returned is in UTC.
* ``anchor`` is the local date the schedule started.  No occurrence falls on a local date
  before it, and for "every N weeks" it decides which weeks count.
"""

from __future__ import annotations

import calendar
import contextlib
from collections.abc import Iterator
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta, tzinfo

from bot.core.cadence import CADENCE_EXAMPLES, CRON_EXAMPLE, Cadence, CadenceError
from bot.core.crontab import CRON_REFERENCE, cron_next
from bot.core.time_words import examples

DEFAULT_OCCURRENCE_LIMIT = 1000


def local_instant(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant at which the wall clock in `tz` shows `at` on `day`.

    In a spring-forward gap the time moves forward by the size of the gap
    (02:30 -> 03:30 local); in a repeated fall-back hour the first occurrence is used.
    """
    naive = datetime.combine(day, at.replace(tzinfo=None))
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _require_aware(value: datetime, name: str) -> datetime:
    if (
        not isinstance(value, datetime)
        or value.tzinfo is None
        or value.tzinfo.utcoffset(value) is None
    ):
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value.astimezone(UTC)


def _anchor_date(anchor: date, tz: tzinfo) -> date:
    if isinstance(anchor, datetime):
        return anchor.astimezone(tz).date() if anchor.tzinfo is not None else anchor.date()
    return anchor


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    if nth > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _scheduled_days(cadence: Cadence, start: date, anchor: date) -> Iterator[date]:
    """Local dates of a weekly/monthly cadence on or after `start`, ascending, endless."""
    if cadence.kind == "weekly":
        day = start + timedelta(days=(cadence.weekday - start.weekday()) % 7)
        anchor_monday = anchor - timedelta(days=anchor.weekday())
        weeks = (day - timedelta(days=day.weekday()) - anchor_monday).days // 7
        day += timedelta(weeks=-weeks % cadence.interval_weeks)
        step = timedelta(weeks=cadence.interval_weeks)
        while True:
            yield day
            day += step
    year, month = start.year, start.month
    while year <= MAXYEAR:
        day = _nth_weekday(year, month, cadence.weekday, cadence.nth)
        if day >= start:
            yield day
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _is_repeated_wall_time(local: datetime) -> bool:
    """True for the second pass through a wall-clock time in a fall-back hour."""
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def _iter_occurrences(
    cadence: Cadence, tz: tzinfo, after: datetime, anchor: date
) -> Iterator[tuple[date, datetime]]:
    """(local date, UTC instant) of each occurrence strictly after `after`, in order; the
    calendar's end (year 9999) ends the series rather than overflowing."""
    after_utc = _require_aware(after, "after")
    anchor = _anchor_date(anchor, tz)
    with contextlib.suppress(OverflowError):
        yield from _occurrences_from(cadence, tz, after_utc, anchor)


def _occurrences_from(
    cadence: Cadence, tz: tzinfo, after_utc: datetime, anchor: date
) -> Iterator[tuple[date, datetime]]:
    if cadence.kind == "cron":
        current = max(after_utc, local_instant(anchor, time(0), tz) - timedelta(microseconds=1))
        while (fire := cron_next(cadence.cron, tz, current)) is not None:
            current = fire
            local = fire.astimezone(tz)
            if not _is_repeated_wall_time(local):  # fire once in a repeated hour
                yield local.date(), fire
        return
    start = max(anchor, after_utc.astimezone(tz).date() - timedelta(days=1))
    for day in _scheduled_days(cadence, start, anchor):
        instant = local_instant(day, cadence.at, tz)
        if instant > after_utc:
            yield day, instant


def _first(cadence: Cadence, tz: tzinfo, after: datetime, anchor: date) -> tuple[date, datetime]:
    for item in _iter_occurrences(cadence, tz, after, anchor):
        return item
    raise CadenceError(
        f"`{cadence.describe()}` has no more occurrences. "
        f"Try {examples([*CADENCE_EXAMPLES, CRON_EXAMPLE])}."
    )


def next_occurrence(cadence: Cadence, tz: tzinfo, after: datetime, anchor: date) -> datetime:
    """The first occurrence strictly after `after`, as an aware UTC datetime.

    Weekly/monthly cadences keep the same local wall-clock time across DST changes.
    `anchor` is the local date the schedule started: nothing happens before it, and for
    every-N-weeks the weeks that count are those whose distance (Monday-to-Monday) from
    the anchor's week is a multiple of N.
    """
    return _first(cadence, tz, after, anchor)[1]


def occurrence_day(cadence: Cadence, tz: tzinfo, after: datetime, anchor: date) -> date:
    """The local date (in `tz`) of the next occurrence strictly after `after`.

    Combine with ``local_instant(day, cadence.at, member_tz)`` to give every member the
    same round at the same local time in their own time zone.
    """
    return _first(cadence, tz, after, anchor)[0]


def occurrences_between(
    cadence: Cadence,
    tz: tzinfo,
    start: datetime,
    end: datetime,
    anchor: date,
    *,
    limit: int = DEFAULT_OCCURRENCE_LIMIT,
) -> list[datetime]:
    """All occurrences in (start, end], UTC, in order; at most `limit` (the earliest ones)."""
    end_utc = _require_aware(end, "end")
    result: list[datetime] = []
    for _day, instant in _iter_occurrences(cadence, tz, start, anchor):
        if instant > end_utc or len(result) >= limit:
            break
        result.append(instant)
    return result


def typical_interval(cadence: Cadence) -> timedelta:
    """The usual gap between occurrences, for "cadence stretched" lapse checks.

    weekly: 7 days x interval; monthly: 30 days; cron: the gap between its first two fire
    times from Monday 2024-01-01 00:00 UTC on (evaluated in UTC). Both fall on one day if
    the expression fires more than once a day, so that shows as a gap under a day.
    """
    if cadence.kind == "weekly":
        return timedelta(weeks=cadence.interval_weeks)
    if cadence.kind == "monthly":
        return timedelta(days=30)
    start = CRON_REFERENCE - timedelta(microseconds=1)  # a fire at the reference counts
    fires = _iter_occurrences(cadence, UTC, start, CRON_REFERENCE.date())
    (_, first), (_, second) = next(fires), next(fires)
    return second - first
