"""``/checkin`` text → commands and reminder wording, without Slack: the pure rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.checkins.blocks import starts_in
from bot.checkins.parser import UsageError, parse_command, parse_reminders, reminders_text
from bot.core.cadence import CadenceError


def test_checkin_add_reads_title_schedule_people_and_options():
    command = parse_command(
        'add "Ops catch-up" every 2 weeks thu 14:30 <@UALICE|alice> <@UPAT> '
        "tz europe/london for 1h in <#COPS|ops> remind 2h,1d from 2026-04-07"
    )
    draft = command.draft
    assert command.action == "add" and draft is not None
    assert draft.title == "Ops catch-up"
    assert draft.cadence.to_spec() == "every 2 weeks thu 14:30"
    assert draft.participants == ("UALICE", "UPAT")
    assert draft.tz == "Europe/London"
    assert draft.duration == timedelta(hours=1)
    assert draft.channel_id == "COPS"
    assert draft.reminders == (1440, 120)
    assert draft.starts_on == date(2026, 4, 7)


def test_checkin_add_defaults_to_creators_zone_and_usual_reminders():
    draft = parse_command('add "Coffee" weekly tue 10:00 <@UPAT>').draft
    assert draft is not None
    assert draft.tz is None and draft.reminders == (1440, 15)
    assert draft.duration == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("add", "title"),
        ('add "Ops" <@UPAT>', "weekly tue 10:00"),
        ('add "Ops" @alice weekly tue 10:00', "Slack's list"),
        ('add "Ops" weekly tue 10:00 in general', "in #ops"),
        ("edit", "Usage"),
        ("skip 1", "Usage"),
        ("frobnicate", "/checkin history"),
    ],
)
def test_checkin_bad_commands_say_how_to_fix_them(text, expected):
    with pytest.raises((UsageError, CadenceError)) as error:
        parse_command(text)
    assert expected in str(error.value)


def test_checkin_unparseable_schedule_and_zone_give_examples():
    with pytest.raises(CadenceError, match="weekly"):
        parse_command('add "Ops" sometimes maybe <@UPAT>')
    with pytest.raises(CadenceError, match="Europe/London"):
        parse_command('add "Ops" weekly tue 10:00 <@UPAT> tz Mars/Olympus')


def test_checkin_unknown_subcommand_is_escaped():
    with pytest.raises(UsageError) as error:
        parse_command("<!channel>")
    assert "<!channel>" not in str(error.value)


def test_checkin_reminder_offsets_round_trip():
    assert parse_reminders("1d, 15m") == (1440, 15)
    assert reminders_text((1440, 120, 15)) == "1d, 2h, 15m"
    with pytest.raises(UsageError):
        parse_reminders("30d")
    with pytest.raises(UsageError):
        parse_reminders("1d,2d,3d,4d")


@pytest.mark.parametrize(
    ("now", "tz", "expected"),
    [
        (datetime(2026, 3, 3, 9, 45, tzinfo=UTC), "Europe/London", "in 15 minutes, at 10:00"),
        (datetime(2026, 3, 3, 9, 59, 30, tzinfo=UTC), "Europe/London", "in 1 minute, at 10:00"),
        (datetime(2026, 3, 3, 8, 0, tzinfo=UTC), "Europe/London", "today at 10:00"),
        (datetime(2026, 3, 2, 20, 0, tzinfo=UTC), "Europe/London", "tomorrow at 10:00"),
        (datetime(2026, 3, 2, 20, 0, tzinfo=UTC), "Asia/Kolkata", "today at 15:30"),
        (datetime(2026, 2, 25, 10, 0, tzinfo=UTC), "America/New_York", "in 6 days, at 05:00"),
    ],
)
def test_reminder_says_how_soon_from_the_time_actually_left(now, tz, expected):
    start = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert starts_in(start, now, tz) == f"{expected} (Tue 3 Mar, {tz})"
