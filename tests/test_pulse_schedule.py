"""Pulse schedules and prompt fan-out, end to end: signed /pulse commands, the pulse tick
run by hand with a fake clock, and the fake Slack recording every DM."""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.pulse_models import PulseRecipient
from tests.helpers import make_relationship
from tests.pulse_helpers import job_context, prompts, pulse, rounds, tick, utc

ZONES = {
    "UALICE": "America/New_York",
    "UCARL": "Europe/London",
    "UPAT": "Asia/Kolkata",
    "UPRIYA": "Europe/London",
}


def _people(rapport) -> None:
    for user, zone in ZONES.items():
        rapport.fake.add_user(user, tz=zone)


def test_pulse_schedule_defaults_then_owner_sets_it(rapport):
    make_relationship(rapport.db, rapport.clock)
    shown = pulse(rapport, "schedule")
    assert "every 2 weeks on Tuesday at 10:00" in shown.text
    assert "own time zone" in shown.text

    changed = pulse(rapport, "schedule weekly on Tuesday at 10:00")
    assert "weekly on Tuesday at 10:00" in changed.text
    assert "Next round: Tue 03 Mar 2026" in changed.text
    assert "weekly on Tuesday at 10:00" in pulse(rapport, "schedule", user="UCARL").text


def test_pulse_schedule_is_for_owners_only(rapport):
    make_relationship(rapport.db, rapport.clock)
    refused = pulse(rapport, "schedule weekly on Friday at 9:00", user="UCARL")
    assert "Only owners" in refused.text
    assert "every 2 weeks on Tuesday" in pulse(rapport, "schedule").text


def test_pulse_schedule_with_a_trailing_relationship_name(rapport):
    make_relationship(rapport.db, rapport.clock, "Acme Desk")
    make_relationship(rapport.db, rapport.clock, "Beta Ops")
    assert "several" in pulse(rapport, "schedule").text
    changed = pulse(rapport, "schedule weekly on Monday at 9:00 Beta Ops")
    assert "Beta Ops" in changed.text and "weekly on Monday at 09:00" in changed.text
    assert "every 2 weeks" in pulse(rapport, "schedule Acme Desk").text


def test_pulse_prompts_each_member_at_their_own_local_ten_across_a_dst_change(rapport):
    _people(rapport)
    make_relationship(rapport.db, rapport.clock)
    pulse(rapport, "schedule weekly on Tuesday at 10:00")
    with job_context(rapport) as context:
        rapport.clock.current = utc(2026, 3, 3, 4, 29)  # Kolkata 09:59
        tick(context)
        assert prompts(rapport.fake) == []
        rapport.clock.current = utc(2026, 3, 3, 4, 30)  # Kolkata 10:00
        tick(context)
        assert [c.args["channel"] for c in prompts(rapport.fake)] == ["UPAT"]
        rapport.clock.current = utc(2026, 3, 3, 10, 0)  # London 10:00 (GMT)
        tick(context)
        assert {c.args["channel"] for c in prompts(rapport.fake)} == {"UPAT", "UCARL", "UPRIYA"}
        rapport.clock.current = utc(2026, 3, 3, 14, 59)  # New York 09:59 (EST)
        tick(context)
        assert prompts(rapport.fake, "UALICE") == []
        rapport.clock.current = utc(2026, 3, 3, 15, 0)  # New York 10:00 (EST, UTC-5)
        tick(context)
        assert len(prompts(rapport.fake, "UALICE")) == 1

        # 8 March: New York moves to EDT (UTC-4); London stays on GMT until 29 March
        rapport.clock.current = utc(2026, 3, 10, 10, 0)
        tick(context)
        assert len(prompts(rapport.fake, "UCARL")) == 2
        assert len(prompts(rapport.fake, "UALICE")) == 1
        rapport.clock.current = utc(2026, 3, 10, 14, 0)  # New York 10:00 EDT
        tick(context)
        assert len(prompts(rapport.fake, "UALICE")) == 2

        # 31 March: London is on BST (UTC+1), so its 10:00 is 09:00 UTC. The rounds of
        # 17 and 24 March closed while nothing ran: skipped, never sent late.
        rapport.clock.current = utc(2026, 3, 31, 8, 59)
        tick(context)
        assert len(prompts(rapport.fake, "UCARL")) == 2
        rapport.clock.current = utc(2026, 3, 31, 9, 0)
        tick(context)
        assert len(prompts(rapport.fake, "UCARL")) == 3
    assert len(rounds(rapport.db)) == 3
    assert all(r.day.weekday() == 1 for r in rounds(rapport.db))


def test_pulse_prompt_is_a_dm_with_five_buttons_and_a_comment_button(rapport):
    _people(rapport)
    make_relationship(rapport.db, rapport.clock)
    pulse(rapport, "send")
    with job_context(rapport) as context:
        tick(context)
    (prompt,) = prompts(rapport.fake, "UCARL")
    actions = [b for b in prompt.args["blocks"] if b["type"] == "actions"]
    assert [e["text"]["text"] for e in actions[0]["elements"]] == ["1", "2", "3", "4", "5"]
    assert actions[-1]["elements"][0]["action_id"] == "pulse_comment"
    assert "How well is the partnership working for you this week?" in str(prompt.args)
    assert rapport.fake.calls_to("conversations.open") == []  # posted to the user id directly


def test_pulse_tick_twice_and_after_a_crash_never_duplicates_a_prompt(rapport):
    _people(rapport)
    make_relationship(rapport.db, rapport.clock)
    pulse(rapport, "send")
    with job_context(rapport) as context:
        tick(context)
        tick(context)
        assert len(prompts(rapport.fake)) == 4
        # a crash after Slack accepted the prompts but before they were recorded
        with rapport.db.transaction() as session:
            session.execute(delete(PulseRecipient))
        again = tick(context)
    assert again.prompts == {"duplicate": 4}
    assert len(prompts(rapport.fake)) == 4
    with rapport.db.transaction() as session:
        statuses = session.scalars(select(PulseRecipient.status)).all()
    assert statuses == ["sent"] * 4


def test_pulse_fan_out_keeps_going_past_a_deactivated_user_and_records_it(rapport):
    _people(rapport)
    make_relationship(rapport.db, rapport.clock)
    pulse(rapport, "send")
    rapport.fake.fail("chat.postMessage", "account_inactive")
    with job_context(rapport) as context:
        first = tick(context)
        second = tick(context)
    assert first.prompts == {"failed": 1, "sent": 3}
    assert second.prompts == {}
    with rapport.db.transaction() as session:
        failed = session.scalars(
            select(PulseRecipient.error).where(PulseRecipient.status == "failed")
        ).all()
    assert failed == ["account_inactive"]


def test_pulse_rate_limited_prompt_is_retried_after_retry_after(rapport):
    _people(rapport)
    make_relationship(rapport.db, rapport.clock)
    pulse(rapport, "send")
    rapport.fake.rate_limit("chat.postMessage", retry_after=1)
    with job_context(rapport) as context:
        done = tick(context)
    assert done.prompts == {"sent": 4}
    calls = prompts(rapport.fake)
    assert len(calls) == 5  # the first was answered 429 and retried after Retry-After
    assert calls[0].args["channel"] == calls[1].args["channel"]
    assert calls[1].at - calls[0].at >= 0.9


def test_pulse_pause_and_resume(rapport):
    _people(rapport)
    make_relationship(rapport.db, rapport.clock)
    pulse(rapport, "schedule weekly on Tuesday at 10:00")
    assert "paused" in pulse(rapport, "pause").text
    assert "already paused" in pulse(rapport, "pause").text
    assert "Only owners" in pulse(rapport, "resume", user="UCARL").text
    with job_context(rapport) as context:
        rapport.clock.current = utc(2026, 3, 3, 16, 0)
        tick(context)
        assert prompts(rapport.fake) == []
        assert "Paused" in pulse(rapport, "schedule").text
        resumed = pulse(rapport, "resume")
        assert "back on" in resumed.text and "Next round: Tue 10 Mar 2026" in resumed.text
        tick(context)  # resuming doesn't send the round missed while paused
        assert prompts(rapport.fake) == []
        rapport.clock.current = utc(2026, 3, 10, 16, 0)
        tick(context)
    assert len(prompts(rapport.fake)) == 4


def test_pulse_send_opens_a_round_now_for_owners_only(rapport):
    make_relationship(rapport.db, rapport.clock)
    assert "Only owners" in pulse(rapport, "send", user="UCARL").text
    sent = pulse(rapport, "send")
    assert "is open" in sent.text and "4 people" in sent.text
    assert "already open" in pulse(rapport, "send").text
