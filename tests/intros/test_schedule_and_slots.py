"""Pure tests: when rounds fall, and the times *Suggest a time* offers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.intros.models import IntroSettings
from bot.intros.settings import due_day, next_round_day
from bot.intros.slots import intro_at, slots

LONDON, KOLKATA, NEW_YORK = (
    ZoneInfo("Europe/London"),
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("America/New_York"),
)


def every(weeks: int, weekday: int, anchor: date) -> IntroSettings:
    return IntroSettings(every_weeks=weeks, weekday=weekday, anchor=anchor, enabled=True)


def test_rounds_fall_on_the_weekday_every_n_weeks_from_the_anchor():
    settings = every(2, 1, date(2026, 3, 4))  # Tuesdays from Wednesday 4 March
    assert next_round_day(settings, datetime(2026, 3, 4, tzinfo=UTC)) == date(2026, 3, 10)
    assert next_round_day(settings, datetime(2026, 3, 9, 12, tzinfo=UTC)) == date(2026, 3, 24)
    assert due_day(settings, datetime(2026, 3, 9, 11, 59, tzinfo=UTC)) is None
    assert due_day(settings, datetime(2026, 3, 9, 12, tzinfo=UTC)) == date(2026, 3, 10)
    assert due_day(settings, datetime(2026, 3, 11, 23, tzinfo=UTC)) == date(2026, 3, 10)


def test_a_round_missed_by_more_than_two_days_is_skipped_not_sent_late():
    settings = every(2, 1, date(2026, 3, 4))
    assert due_day(settings, datetime(2026, 3, 12, 0, 1, tzinfo=UTC)) is None
    assert due_day(settings, datetime(2026, 3, 23, 12, tzinfo=UTC)) == date(2026, 3, 24)


def test_slots_lie_inside_everyones_working_hours_on_the_next_weekday():
    friday = datetime(2026, 3, 13, 9, tzinfo=UTC)
    found = slots(friday, [LONDON, KOLKATA])  # 09:00-11:30 UTC shared
    assert [s.strftime("%a %H:%M") for s in found] == ["Mon 09:00", "Mon 10:00", "Mon 11:00"]
    for slot in found:
        for zone in (LONDON, KOLKATA):
            assert 9 <= slot.astimezone(zone).hour < 17


def test_no_slots_when_hours_never_meet_and_the_intro_waits_for_the_latest_morning():
    day = date(2026, 3, 10)
    assert slots(datetime(2026, 3, 10, 13, tzinfo=UTC), [NEW_YORK, KOLKATA]) == []
    assert intro_at(day, [NEW_YORK, KOLKATA]) == datetime(2026, 3, 10, 13, tzinfo=UTC)
