"""Times to suggest for a chat: two or three half-hour slots inside the group's shared
working hours (09:00–17:00 in each person's own zone), on the first weekday after the intro."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.occurrences import local_instant

WORK_START, WORK_END = time(9), time(17)
SLOT = timedelta(minutes=30)
MAX_SLOTS = 3


def working_window(day, zones: list[ZoneInfo]) -> tuple[datetime, datetime]:
    """The UTC instants when everyone's working day has begun, and the first ends."""
    starts = [local_instant(day, WORK_START, tz) for tz in zones]
    ends = [local_instant(day, WORK_END, tz) for tz in zones]
    return max(starts), min(ends)


def slots(after: datetime, zones: list[ZoneInfo]) -> list[datetime]:
    """Up to three slot starts (UTC, on the half hour) inside the shared hours of the first
    weekday after ``after`` that has at least one slot; none when the hours never meet."""
    day = after.astimezone(zones[0]).date()
    for _ in range(7):
        day += timedelta(days=1)
        if day.weekday() >= 5:
            continue
        start, end = working_window(day, zones)
        start = _round_up(start)
        room = (end - start) // SLOT  # whole slots that fit
        if room < 1:
            return []
        count = min(MAX_SLOTS, room)
        step = (room - 1) // (count - 1) if count > 1 else 0  # spread over the window
        return [start + SLOT * step * n for n in range(count)]
    return []  # pragma: no cover - a week always has weekdays


def _round_up(instant: datetime) -> datetime:
    instant = instant.astimezone(UTC)
    extra = (instant.minute % 30) * 60 + instant.second
    return instant if not extra else instant + timedelta(seconds=30 * 60 - extra)


def intro_at(day, zones: list[ZoneInfo]) -> datetime:
    """When the group is introduced on ``day``: once everyone's working day has begun, so
    nobody hears of it before their own morning."""
    start, _ = working_window(day, zones)
    return start
