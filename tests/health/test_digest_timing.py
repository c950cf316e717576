"""When a digest is due, as plain values: each zone's local week, a Sunday evening send that
falls in the next UTC week, daylight saving, and the late limit."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.health.digest import DigestSettings, due_week, next_send

MONDAY_NINE = DigestSettings()
SUNDAY_LATE = DigestSettings(weekday=6, send_at=time(23, 30))
BERLIN, AUCKLAND, NEW_YORK = (
    ZoneInfo(name) for name in ("Europe/Berlin", "Pacific/Auckland", "America/New_York")
)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_due_from_the_local_time_until_a_day_later():
    assert due_week(MONDAY_NINE, BERLIN, at(2026, 3, 9, 7, 59)) is None
    assert due_week(MONDAY_NINE, BERLIN, at(2026, 3, 9, 8, 0)) == date(2026, 3, 9)
    assert due_week(MONDAY_NINE, BERLIN, at(2026, 3, 10, 7, 59)) == date(2026, 3, 9)
    assert due_week(MONDAY_NINE, BERLIN, at(2026, 3, 10, 8, 0)) is None


def test_a_zone_ahead_of_utc_gets_its_monday_on_the_utc_sunday():
    assert due_week(MONDAY_NINE, AUCKLAND, at(2026, 3, 8, 20, 0)) == date(2026, 3, 9)


def test_a_sunday_evening_digest_still_goes_early_on_the_monday_after():
    assert due_week(SUNDAY_LATE, BERLIN, at(2026, 3, 15, 22, 30)) == date(2026, 3, 9)
    assert due_week(SUNDAY_LATE, BERLIN, at(2026, 3, 16, 1, 0)) == date(2026, 3, 9)


def test_daylight_saving_keeps_the_local_time():
    assert next_send(MONDAY_NINE, NEW_YORK, at(2026, 3, 2, 15, 0)) == at(2026, 3, 9, 13, 0)
    assert next_send(MONDAY_NINE, NEW_YORK, at(2026, 2, 23, 15, 0)) == at(2026, 3, 2, 14, 0)
