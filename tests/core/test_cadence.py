"""Behavioural tests for bot.core.cadence (pure time/cadence logic)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.cadence import CADENCE_EXAMPLES, Cadence, CadenceError, parse_cadence
from bot.core.occurrences import (
    local_instant,
    next_occurrence,
    occurrence_day,
    occurrences_between,
    typical_interval,
)
from bot.core.time_input import parse_duration, parse_time, parse_timezone, parse_weekday

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
SYDNEY = ZoneInfo("Australia/Sydney")

TUESDAY = 1
FRIDAY = 4


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def weekly(weekday: int, hour: int, minute: int = 0, every: int = 1) -> Cadence:
    return Cadence(kind="weekly", at=time(hour, minute), weekday=weekday, interval_weeks=every)


def monthly(nth: int, weekday: int, hour: int, minute: int = 0) -> Cadence:
    return Cadence(kind="monthly", at=time(hour, minute), weekday=weekday, nth=nth)


# ------------------------------------------------------------------ DST and time zones


def test_weekly_check_in_stays_at_ten_local_across_london_spring_clock_change():
    cadence = parse_cadence("weekly on Tuesday at 10:00")
    got = occurrences_between(cadence, LONDON, utc(2024, 3, 20), utc(2024, 4, 10), date(2024, 1, 1))
    assert got == [utc(2024, 3, 26, 10), utc(2024, 4, 2, 9), utc(2024, 4, 9, 9)]
    assert {o.astimezone(LONDON).time() for o in got} == {time(10, 0)}


def test_weekly_check_in_stays_at_ten_local_across_london_autumn_clock_change():
    cadence = parse_cadence("weekly tue 10am")
    got = occurrences_between(
        cadence, LONDON, utc(2024, 10, 16), utc(2024, 11, 6), date(2024, 1, 1)
    )
    assert got == [utc(2024, 10, 22, 9), utc(2024, 10, 29, 10), utc(2024, 11, 5, 10)]
    assert all(o.astimezone(LONDON).hour == 10 for o in got)


def test_next_occurrence_returns_utc_aware_datetimes_even_for_non_utc_input():
    after = datetime(2024, 7, 1, 12, 0, tzinfo=NEW_YORK)
    result = next_occurrence(weekly(TUESDAY, 10), LONDON, after, date(2024, 1, 1))
    assert result == utc(2024, 7, 2, 9)
    assert result.tzinfo is UTC


def test_members_in_four_time_zones_get_same_local_time_on_same_local_date_across_dst():
    cadence = parse_cadence("weekly on Tuesday at 10:00")
    team_tz, anchor = LONDON, date(2024, 1, 1)
    members = [NEW_YORK, LONDON, KOLKATA, SYDNEY]
    offsets_seen = {tz.key: set() for tz in members}
    after = utc(2024, 3, 1)
    # March-April 2024: New York springs forward (10 Mar), London too (31 Mar),
    # while Sydney falls back (7 Apr) and Kolkata never changes.
    for _ in range(7):
        day = occurrence_day(cadence, team_tz, after, anchor)
        assert day.weekday() == TUESDAY
        for tz in members:
            local = local_instant(day, cadence.at, tz).astimezone(tz)
            assert (local.date(), local.time()) == (day, time(10, 0))
            offsets_seen[tz.key].add(local.utcoffset())
        after = next_occurrence(cadence, team_tz, after, anchor)
    assert len(offsets_seen["America/New_York"]) == 2
    assert len(offsets_seen["Europe/London"]) == 2
    assert len(offsets_seen["Australia/Sydney"]) == 2
    assert offsets_seen["Asia/Kolkata"] == {timedelta(hours=5, minutes=30)}


def test_members_each_scheduled_in_own_zone_land_on_the_same_local_tuesday():
    cadence = weekly(TUESDAY, 10)
    after = utc(2024, 4, 1, 12)  # Monday midday UTC: already Monday night in Sydney
    for tz in (NEW_YORK, LONDON, KOLKATA, SYDNEY):
        local = next_occurrence(cadence, tz, after, date(2024, 1, 1)).astimezone(tz)
        assert (local.date(), local.time()) == (date(2024, 4, 2), time(10, 0))


def test_sydney_shifts_the_opposite_way_to_london_in_april():
    cadence = weekly(TUESDAY, 10)
    anchor = date(2024, 1, 1)
    sydney = occurrences_between(cadence, SYDNEY, utc(2024, 3, 31), utc(2024, 4, 10), anchor)
    assert sydney == [utc(2024, 4, 1, 23), utc(2024, 4, 9, 0)]  # AEDT (+11) then AEST (+10)


def test_local_instant_in_spring_forward_gap_moves_forward_by_the_gap():
    # London: 01:00 GMT -> 02:00 BST on 31 March 2024, so 01:30 doesn't exist.
    instant = local_instant(date(2024, 3, 31), time(1, 30), LONDON)
    assert instant == utc(2024, 3, 31, 1, 30)
    assert instant.astimezone(LONDON).time() == time(2, 30)
    # New York: 02:00 EST -> 03:00 EDT on 10 March 2024; 02:30 -> 03:30 local.
    instant = local_instant(date(2024, 3, 10), time(2, 30), NEW_YORK)
    assert instant.astimezone(NEW_YORK).time() == time(3, 30)
    assert instant == utc(2024, 3, 10, 7, 30)


def test_local_instant_in_fall_back_hour_takes_the_first_occurrence():
    instant = local_instant(date(2024, 10, 27), time(1, 30), LONDON)
    assert instant == utc(2024, 10, 27, 0, 30)  # 01:30 BST, not 01:30 GMT
    instant = local_instant(date(2024, 11, 3), time(1, 30), NEW_YORK)
    assert instant == utc(2024, 11, 3, 5, 30)  # 01:30 EDT, not 01:30 EST


def test_weekly_schedule_inside_gap_fires_once_that_day_then_returns_to_normal():
    cadence = weekly(6, 1, 30)  # Sundays 01:30 London
    got = occurrences_between(cadence, LONDON, utc(2024, 3, 23), utc(2024, 4, 8), date(2024, 1, 1))
    assert got == [utc(2024, 3, 24, 1, 30), utc(2024, 3, 31, 1, 30), utc(2024, 4, 7, 0, 30)]


def test_weekly_schedule_inside_repeated_hour_fires_only_once():
    cadence = weekly(6, 1, 30)
    got = occurrences_between(
        cadence, LONDON, utc(2024, 10, 26), utc(2024, 10, 28), date(2024, 1, 1)
    )
    assert got == [utc(2024, 10, 27, 0, 30)]


# ---------------------------------------------------------------- weekly and anchors


def test_next_occurrence_is_strictly_after_the_given_instant():
    cadence = weekly(TUESDAY, 10)
    at_occurrence = utc(2024, 1, 2, 10)
    assert next_occurrence(cadence, UTC, at_occurrence, date(2024, 1, 1)) == utc(2024, 1, 9, 10)
    just_before = at_occurrence - timedelta(microseconds=1)
    assert next_occurrence(cadence, UTC, just_before, date(2024, 1, 1)) == at_occurrence


def test_every_two_weeks_counts_weeks_from_the_anchor_week():
    cadence = parse_cadence("every 2 weeks on Tuesday at 10:00")
    start = utc(2024, 1, 1)
    # anchor Monday 1 Jan: weeks of 1 Jan, 15 Jan, 29 Jan count
    got = occurrences_between(cadence, UTC, start, utc(2024, 2, 29), date(2024, 1, 1))
    assert [o.date() for o in got] == [
        date(2024, 1, 2), date(2024, 1, 16), date(2024, 1, 30), date(2024, 2, 13),
        date(2024, 2, 27),
    ]  # fmt: skip
    # anchor in the following week shifts every occurrence by one week
    got = occurrences_between(cadence, UTC, start, utc(2024, 2, 29), date(2024, 1, 10))
    assert [o.date() for o in got] == [
        date(2024, 1, 23), date(2024, 2, 6), date(2024, 2, 20),
    ]  # fmt: skip


def test_every_two_weeks_started_mid_week_skips_the_days_before_the_anchor():
    cadence = weekly(TUESDAY, 10, every=2)
    anchor = date(2024, 1, 3)  # a Wednesday; Tuesday 2 Jan is before the schedule started
    got = occurrences_between(cadence, UTC, utc(2023, 12, 1), utc(2024, 2, 1), anchor)
    assert [o.date() for o in got] == [date(2024, 1, 16), date(2024, 1, 30)]


def test_every_three_weeks_keeps_parity_far_from_the_anchor():
    cadence = parse_cadence("every 3 weeks fri 4pm")
    anchor = date(2024, 1, 5)
    after = utc(2025, 6, 1)
    result = next_occurrence(cadence, UTC, after, anchor)
    weeks_since_anchor = (result.date() - anchor).days // 7
    assert result.date().weekday() == FRIDAY
    assert weeks_since_anchor % 3 == 0
    assert after < result <= after + timedelta(weeks=3)


def test_schedule_created_on_the_day_fires_that_day_if_time_is_still_ahead():
    cadence = weekly(TUESDAY, 10, every=2)
    created = datetime(2024, 1, 2, 9, 0, tzinfo=LONDON)
    assert next_occurrence(cadence, LONDON, created, created.date()) == utc(2024, 1, 2, 10)


def test_anchor_may_be_given_as_an_aware_datetime():
    cadence = weekly(TUESDAY, 10, every=2)
    as_date = next_occurrence(cadence, UTC, utc(2024, 1, 1), date(2024, 1, 10))
    as_datetime = next_occurrence(cadence, UTC, utc(2024, 1, 1), utc(2024, 1, 10, 12))
    assert as_date == as_datetime == utc(2024, 1, 23, 10)


# ------------------------------------------------------------------------- monthly


def test_monthly_first_monday():
    cadence = parse_cadence("monthly first monday 09:30")
    got = occurrences_between(cadence, LONDON, utc(2024, 1, 1), utc(2024, 5, 1), date(2024, 1, 1))
    assert [o.astimezone(LONDON).date() for o in got] == [
        date(2024, 1, 1), date(2024, 2, 5), date(2024, 3, 4), date(2024, 4, 1),
    ]  # fmt: skip
    assert {o.astimezone(LONDON).time() for o in got} == {time(9, 30)}
    assert got[3] == utc(2024, 4, 1, 8, 30)  # BST


def test_monthly_last_friday_picks_the_fifth_friday_when_there_is_one():
    cadence = parse_cadence("monthly on the last friday at 16:00")
    got = occurrences_between(cadence, UTC, utc(2024, 1, 1), utc(2024, 7, 1), date(2024, 1, 1))
    assert [o.date() for o in got] == [
        date(2024, 1, 26), date(2024, 2, 23), date(2024, 3, 29), date(2024, 4, 26),
        date(2024, 5, 31), date(2024, 6, 28),
    ]  # fmt: skip


def test_monthly_fourth_friday_is_not_the_last_in_a_five_friday_month():
    got = next_occurrence(monthly(4, FRIDAY, 16), UTC, utc(2024, 3, 1), date(2024, 1, 1))
    assert got == utc(2024, 3, 22, 16)


def test_monthly_last_thursday_of_february_in_leap_and_common_years():
    cadence = monthly(-1, 3, 10)
    assert occurrence_day(cadence, UTC, utc(2024, 2, 1), date(2024, 1, 1)) == date(2024, 2, 29)
    assert occurrence_day(cadence, UTC, utc(2023, 2, 1), date(2023, 1, 1)) == date(2023, 2, 23)


def test_monthly_rolls_over_the_year_end():
    cadence = monthly(2, TUESDAY, 10)
    assert next_occurrence(cadence, UTC, utc(2024, 12, 11), date(2024, 1, 1)) == utc(
        2025, 1, 14, 10
    )


# ---------------------------------------------------------------------------- cron


def test_cron_weekdays_in_new_york_follow_local_time_and_crontab_numbering():
    cadence = parse_cadence("cron 0 9 * * 1-5")
    got = occurrences_between(
        cadence, NEW_YORK, utc(2024, 3, 7), utc(2024, 3, 12, 23), date(2024, 1, 1)
    )
    # 1-5 is Monday-Friday (crontab), not Tuesday-Saturday (APScheduler 3 numbering)
    assert got == [
        utc(2024, 3, 7, 14), utc(2024, 3, 8, 14),  # EST
        utc(2024, 3, 11, 13), utc(2024, 3, 12, 13),  # EDT after 10 March
    ]  # fmt: skip
    assert {o.astimezone(NEW_YORK).time() for o in got} == {time(9, 0)}


@pytest.mark.parametrize(
    ("dow", "weekdays"),
    [
        ("0", {6}),
        ("7", {6}),
        ("1-5", {0, 1, 2, 3, 4}),
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("*/2", {6, 1, 3, 5}),
        ("0,3", {6, 2}),
        ("5-7", {4, 5, 6}),
    ],
)
def test_cron_day_of_week_uses_standard_crontab_meaning(dow, weekdays):
    cadence = parse_cadence(f"cron 0 12 * * {dow}")
    got = occurrences_between(cadence, UTC, utc(2024, 1, 1), utc(2024, 1, 15), date(2024, 1, 1))
    assert {o.weekday() for o in got} == weekdays


def test_cron_day_of_month_and_weekday_fire_on_either_as_in_crontab():
    cadence = parse_cadence("cron 0 9 1 * 1")  # the 1st of the month, and every Monday
    got = occurrences_between(cadence, UTC, utc(2024, 1, 20), utc(2024, 2, 6), date(2024, 1, 1))
    assert [o.date() for o in got] == [
        date(2024, 1, 22), date(2024, 1, 29), date(2024, 2, 1), date(2024, 2, 5),
    ]  # fmt: skip


def test_cron_monthly_on_the_first_at_half_past_eight_in_london():
    cadence = parse_cadence("cron: 30 8 1 * *")
    got = occurrences_between(cadence, LONDON, utc(2024, 5, 15), utc(2024, 8, 1), date(2024, 1, 1))
    assert got == [utc(2024, 6, 1, 7, 30), utc(2024, 7, 1, 7, 30)]


def test_cron_in_repeated_fall_back_hour_fires_once():
    cadence = parse_cadence("cron 30 1 * * *")
    got = occurrences_between(
        cadence, LONDON, utc(2024, 10, 26, 12), utc(2024, 10, 28, 12), date(2024, 1, 1)
    )
    assert got == [utc(2024, 10, 27, 0, 30), utc(2024, 10, 28, 1, 30)]


def test_cron_in_spring_forward_gap_fires_once_that_day():
    cadence = parse_cadence("cron 30 1 * * *")
    got = occurrences_between(
        cadence, LONDON, utc(2024, 3, 30, 12), utc(2024, 4, 1, 12), date(2024, 1, 1)
    )
    assert got == [utc(2024, 3, 31, 1, 30), utc(2024, 4, 1, 0, 30)]


def test_cron_does_not_fire_before_the_anchor_date():
    cadence = parse_cadence("cron 0 9 * * *")
    assert next_occurrence(cadence, LONDON, utc(2024, 1, 1), date(2024, 1, 10)) == utc(
        2024, 1, 10, 9
    )


def test_cron_occurrence_day_is_the_local_date():
    cadence = parse_cadence("cron 0 23 * * *")
    assert occurrence_day(cadence, SYDNEY, utc(2024, 1, 1, 0), date(2024, 1, 1)) == date(2024, 1, 1)
    assert next_occurrence(cadence, SYDNEY, utc(2024, 1, 1, 0), date(2024, 1, 1)) == utc(
        2024, 1, 1, 12
    )


@pytest.mark.parametrize(
    "text",
    [
        "cron 0 9 * *",
        "cron 0 9 * * * *",
        "cron 61 9 * * *",
        "cron 0 25 * * *",
        "cron 0 9 32 * *",
        "cron 0 9 * 13 *",
        "cron 0 9 * * 8",
        "cron 0 9 * * 5-1",
        "cron 0 9 * * funday",
        "cron a b c d e",
        "cron 0 0 30 2 *",
        "cron",
        "cron:",
    ],
)
def test_bad_cron_expression_is_a_cadence_error_with_examples(text):
    with pytest.raises(CadenceError) as excinfo:
        parse_cadence(text)
    assert "cron 0 9 * * 1-5" in str(excinfo.value)


def test_cron_text_is_normalised_so_equivalent_input_is_equal():
    assert parse_cadence("CRON   0 9 * *   MON-FRI") == parse_cadence("cron: 0 9 * * mon-fri")
    assert parse_cadence("cron 0 9 * * MON-FRI").cron == "0 9 * * mon-fri"


# ------------------------------------------------------------------ between / bounds


def test_occurrences_between_excludes_start_and_includes_end():
    cadence = weekly(TUESDAY, 10)
    start, end = utc(2024, 1, 2, 10), utc(2024, 1, 16, 10)
    got = occurrences_between(cadence, UTC, start, end, date(2024, 1, 1))
    assert got == [utc(2024, 1, 9, 10), utc(2024, 1, 16, 10)]


def test_occurrences_between_is_empty_for_an_empty_window():
    cadence = weekly(TUESDAY, 10)
    start, end = utc(2024, 2, 1), utc(2024, 1, 1)
    assert occurrences_between(cadence, UTC, start, end, date(2024, 1, 1)) == []


def test_occurrences_between_is_bounded_by_limit():
    cadence = parse_cadence("cron * * * * *")
    got = occurrences_between(cadence, UTC, utc(2024, 1, 1), utc(2025, 1, 1), date(2024, 1, 1))
    assert len(got) == 1000
    got = occurrences_between(
        cadence, UTC, utc(2024, 1, 1), utc(2025, 1, 1), date(2024, 1, 1), limit=3
    )
    assert got == [utc(2024, 1, 1, 0, 1), utc(2024, 1, 1, 0, 2), utc(2024, 1, 1, 0, 3)]


def test_naive_datetimes_are_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        next_occurrence(weekly(TUESDAY, 10), UTC, datetime(2024, 1, 1), date(2024, 1, 1))


# ------------------------------------------------------------------ typical interval


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("weekly tue 10:00", timedelta(days=7)),
        ("every 2 weeks tue 10:00", timedelta(days=14)),
        ("every 12 weeks tue 10:00", timedelta(weeks=12)),
        ("monthly last fri 16:00", timedelta(days=30)),
        ("cron 0 9 * * 1", timedelta(days=7)),
        ("cron 0 9 * * 1-5", timedelta(days=1)),
        ("cron 30 8 1 * *", timedelta(days=31)),
        ("cron 0 */6 * * *", timedelta(hours=6)),
        ("cron 0 0,23 * * 1", timedelta(hours=23)),  # twice on Mondays, once at midnight
    ],
)
def test_typical_interval_for_lapse_alerts(text, expected):
    assert typical_interval(parse_cadence(text)) == expected


@pytest.mark.parametrize(
    ("text", "tz", "after"),
    [
        ("monthly last fri 10:00", "UTC", utc(9999, 12, 31, 11)),
        ("weekly fri 10:00", "UTC", utc(9999, 12, 31, 11)),
        ("weekly fri 23:00", "Pacific/Honolulu", utc(2026, 3, 2)),  # 10000-01-01 in UTC
        ("cron 0 9 * * 1", "UTC", utc(9999, 12, 31, 11)),
    ],
)
def test_schedules_end_with_the_calendar_instead_of_overflowing(text, tz, after):
    with pytest.raises(CadenceError, match="no more occurrences"):
        next_occurrence(parse_cadence(text), ZoneInfo(tz), after, date(9999, 12, 25))


# --------------------------------------------------------------- parsing cadences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("weekly tue 10:00", weekly(TUESDAY, 10)),
        ("weekly on Tuesday at 10am", weekly(TUESDAY, 10)),
        ("WEEKLY ON TUESDAY AT 10AM", weekly(TUESDAY, 10)),
        ("every Tuesday at 10:00", weekly(TUESDAY, 10)),
        ("tuesdays at 10 am", weekly(TUESDAY, 10)),
        ("every week on tues, 10:00", weekly(TUESDAY, 10)),
        ("every 2 weeks on Tuesday at 10:00", weekly(TUESDAY, 10, every=2)),
        ("every two weeks on Tuesday at 10:00", weekly(TUESDAY, 10, every=2)),
        ("every other Tuesday at 10:00", weekly(TUESDAY, 10, every=2)),
        ("every other week on tue @ 10:00", weekly(TUESDAY, 10, every=2)),
        ("fortnightly thu 14:30", weekly(3, 14, 30, every=2)),
        ("biweekly mon 9:00", weekly(0, 9, every=2)),
        ("bi-weekly Mon 9.00", weekly(0, 9, every=2)),
        ("every 3 weeks fri 4pm", weekly(FRIDAY, 16, every=3)),
        ("every 12 weeks sun 16h30", weekly(6, 16, 30, every=12)),
        ("weekly wed 4:15 p.m.", weekly(2, 16, 15)),
        ("weekly sat noon", weekly(5, 12)),
        ("monthly first monday 09:30", monthly(1, 0, 9, 30)),
        ("monthly on the last friday at 16:00", monthly(-1, FRIDAY, 16)),
        ("first monday of the month 9am", monthly(1, 0, 9)),
        ("every month on the 2nd wednesday at 11:00", monthly(2, 2, 11)),
        ("on the third Thursday of each month at 15:00", monthly(3, 3, 15)),
        ("monthly 4th fri 8am", monthly(4, FRIDAY, 8)),
        ("cron 0 9 * * 1-5", Cadence(kind="cron", at=time(0), cron="0 9 * * 1-5")),
        ("cron: 30 8 1 * *", Cadence(kind="cron", at=time(0), cron="30 8 1 * *")),
    ],
)
def test_parse_cadence_understands_what_people_type(text, expected):
    assert parse_cadence(text) == expected


ROUND_TRIP_INPUTS = [
    "weekly tue 10:00",
    "every 2 weeks on Tuesday at 10:00",
    "fortnightly thu 14:30",
    "biweekly mon 9:00",
    "every 3 weeks fri 4pm",
    "monthly first monday 09:30",
    "monthly on the last friday at 16:00",
    "first monday of the month 9am",
    "weekly sun midnight",
    "cron 0 9 * * 1-5",
    "cron: 30 8 1 * *",
    "cron */15 9-17 * * mon-fri",
    "cron 0 9 1,15 * *",
]


@pytest.mark.parametrize("text", ROUND_TRIP_INPUTS)
def test_to_spec_round_trips_through_parse_cadence(text):
    cadence = parse_cadence(text)
    assert parse_cadence(cadence.to_spec()) == cadence


def test_to_spec_round_trips_for_every_weekly_and_monthly_combination():
    cadences = [
        weekly(day, hour, minute, every=n)
        for day in range(7)
        for n in range(1, 13)
        for hour, minute in ((0, 0), (9, 5), (23, 59))
    ] + [
        monthly(nth, day, hour, minute)
        for nth in (1, 2, 3, 4, -1)
        for day in range(7)
        for hour, minute in ((0, 0), (12, 30))
    ]
    for cadence in cadences:
        assert parse_cadence(cadence.to_spec()) == cadence, cadence.to_spec()
        assert parse_cadence(cadence.describe()) == cadence, cadence.describe()


@pytest.mark.parametrize(
    ("cadence", "text"),
    [
        (weekly(TUESDAY, 10), "weekly on Tuesday at 10:00"),
        (weekly(TUESDAY, 10, every=2), "every 2 weeks on Tuesday at 10:00"),
        (monthly(1, 0, 9, 30), "monthly on the first Monday at 09:30"),
        (monthly(-1, FRIDAY, 16), "monthly on the last Friday at 16:00"),
        (Cadence(kind="cron", at=time(0), cron="0 9 * * 1-5"), "cron 0 9 * * 1-5"),
    ],
)
def test_describe_reads_naturally(cadence, text):
    assert cadence.describe() == text


def test_cron_cadence_ignores_its_time_field():
    assert Cadence(kind="cron", at=time(9, 15), cron="0 9 * * *").at == time(0)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("weekly tue", "what time"),
        ("weekly 10:00", "day of the week"),
        ("every 2 weeks at 10am", "day of the week"),
        ("weekly tue 25:00", "hours go up to 23"),
        ("weekly tue 10:75", "minutes go up to 59"),
        ("weekly tue 13pm", "between 1 and 12"),
        ("weekly tue at 10", "`10am`"),
        ("every 0 weeks tue 10:00", "at least 1 week"),
        ("every 13 weeks tue 10:00", "12 weeks"),
        ("weekly tue 10:00 please", "`please`"),
        ("weekly blah tue 10:00", "`blah`"),
        ("weekly mon wed 10:00", "one day of the week"),
        ("weekly tue 10:00 11:00", "one time"),
        ("weekly every 2 weeks tue 10:00", "contradicts"),
        ("monthly every 2 weeks first tue 10:00", "both monthly"),
        ("monthly tue 10:00", "which week of the month"),
        ("first monday 9am", "did you mean"),
        ("monthly fifth friday 10:00", "last"),
        ("monthly on the 15th at 9am", "cron 0 9 15 * *"),
        ("every 2 months first mon 9am", "every few months"),
        ("daily 9am", "cron"),
        ("0 9 * * 1-5", "start with `cron`"),
        ("every 3 tue 10:00", "every 3 weeks"),
    ],
)
def test_bad_cadence_says_what_was_wrong_and_shows_examples(text, hint):
    with pytest.raises(CadenceError) as excinfo:
        parse_cadence(text)
    message = str(excinfo.value)
    assert hint.lower() in message.lower()
    for example in CADENCE_EXAMPLES:
        assert f"`{example}`" in message


def test_cadence_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_cadence("whenever")


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "hourly", "at": time(10)},
        {"kind": "weekly", "at": time(10)},
        {"kind": "weekly", "at": time(10), "weekday": 7},
        {"kind": "weekly", "at": time(10), "weekday": 1, "interval_weeks": 0},
        {"kind": "weekly", "at": time(10), "weekday": 1, "interval_weeks": 13},
        {"kind": "weekly", "at": time(10), "weekday": 1, "nth": 1},
        {"kind": "weekly", "at": time(10, 0, 30), "weekday": 1},
        {"kind": "weekly", "at": time(10, tzinfo=UTC), "weekday": 1},
        {"kind": "monthly", "at": time(10), "weekday": 1},
        {"kind": "monthly", "at": time(10), "weekday": 1, "nth": 5},
        {"kind": "monthly", "at": time(10), "weekday": 1, "nth": 0},
        {"kind": "cron", "at": time(0)},
        {"kind": "cron", "at": time(0), "cron": "0 9 * * 1", "weekday": 1},
        {"kind": "cron", "at": time(0), "cron": "nonsense"},
    ],
)
def test_inconsistent_cadence_fields_are_rejected(fields):
    with pytest.raises(CadenceError) as excinfo:
        Cadence(**fields)
    assert "`cron 0 9 * * 1-5`" in str(excinfo.value)


# ---------------------------------------------------------- times, days, durations, zones


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10:00", time(10)),
        ("9:30", time(9, 30)),
        ("09:30", time(9, 30)),
        ("10am", time(10)),
        ("10 AM", time(10)),
        ("4:15pm", time(16, 15)),
        ("4:15 p.m.", time(16, 15)),
        ("12am", time(0)),
        ("12pm", time(12)),
        ("16h", time(16)),
        ("16h30", time(16, 30)),
        ("9.45", time(9, 45)),
        ("noon", time(12)),
        ("Midnight", time(0)),
        ("23:59", time(23, 59)),
        ("10:00:00", time(10)),
    ],
)
def test_parse_time_accepts_common_forms(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text", ["", "25:00", "24:00", "10:60", "13pm", "0am", "10", "ten", "10:00:30", "1:2:3:4"]
)
def test_bad_time_gives_error_with_examples(text):
    with pytest.raises(CadenceError) as excinfo:
        parse_time(text)
    assert "`10:00`" in str(excinfo.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon", 0), ("tue", 1), ("tues", 1), ("Tuesday", 1), ("TUESDAYS", 1), ("wed", 2),
        ("thurs", 3), ("Thu.", 3), ("friday", 4), ("sat", 5), ("Sunday", 6),
    ],
)  # fmt: skip
def test_parse_weekday_accepts_abbreviations_and_full_names(text, expected):
    assert parse_weekday(text) == expected


@pytest.mark.parametrize("text", ["", "t", "tomorrow", "funday", "1"])
def test_bad_weekday_gives_error_with_examples(text):
    with pytest.raises(CadenceError) as excinfo:
        parse_weekday(text)
    assert "`Monday`" in str(excinfo.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("30 min", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("1h30", timedelta(minutes=90)),
        ("1h 30m", timedelta(minutes=90)),
        ("1 hour and 30 minutes", timedelta(minutes=90)),
        ("an hour", timedelta(hours=1)),
        ("1.5h", timedelta(minutes=90)),
        ("90 minutes", timedelta(minutes=90)),
        ("2 hours", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1 day", timedelta(days=1)),
        ("2 Weeks", timedelta(weeks=2)),
    ],
)
def test_parse_duration_accepts_common_forms(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "0m", "0 hours", "-30m", "30", "abc", "3 fortnights", "1d2", "400 days", "h"]
)
def test_bad_duration_gives_error_with_examples(text):
    with pytest.raises(CadenceError) as excinfo:
        parse_duration(text)
    assert "`30m`" in str(excinfo.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Europe/London", "Europe/London"),
        ("europe/london", "Europe/London"),
        ("AMERICA/NEW_YORK", "America/New_York"),
        ("America/New York", "America/New_York"),
        (" Asia/Kolkata ", "Asia/Kolkata"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
    ],
)
def test_parse_timezone_is_case_insensitive(text, expected):
    assert parse_timezone(text) == ZoneInfo(expected)


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("London", "Europe/London"),
        ("Europe/Lodnon", "Europe/London"),
        ("EST", "America/New_York"),
        ("IST", "Asia/Kolkata"),
        ("Mars/Olympus_Mons", None),
        ("", None),
        ("../../etc/passwd", None),
    ],
)
def test_unknown_timezone_suggests_the_region_format(text, suggestion):
    with pytest.raises(CadenceError) as excinfo:
        parse_timezone(text)
    message = str(excinfo.value)
    assert "`Europe/London`" in message
    if suggestion:
        assert f"Did you mean `{suggestion}`?" in message
