"""Pulse schedules and prompt fan-out, end to end: signed /pulse commands, the pulse tick
run by hand with a fake clock, and the fake Slack recording every DM."""

from __future__ import annotations

from contextlib import closing
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from bot.pulse.models import PulseAnswer, PulseRecipient, PulseRound
from bot.slack import outbox
from bot.slack.fan_out import LocalLocks, WorkspaceFanOut
from bot.slack.message_keys import pulse_prompt
from bot.slack.outbox import Outgoing
from bot.slack.pacing import Pacer, WorkspacePacers
from scheduler.pulse_jobs import run_pulse
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship
from tests.support.pulse_helpers import (
    give_feedback,
    job_context,
    prompts,
    pulse,
    reminders,
    rounds,
    tick,
    utc,
)

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
        assert len(prompts(rapport.fake)) == 4
        # a crash after Slack accepted the prompts but before they were recorded (so before
        # the round was noted as prompted)
        with rapport.db.transaction() as session:
            session.execute(delete(PulseRecipient))
            session.execute(update(PulseRound).values(prompted_generation=None))
        again = tick(context)
        assert tick(context).prompts == {}  # and once more: nothing left
    assert again.prompts == {"duplicate": 4}
    assert len(prompts(rapport.fake)) == 4
    with rapport.db.transaction() as session:
        statuses = session.scalars(select(PulseRecipient.status)).all()
    assert statuses == ["sent"] * 4


def test_someone_added_after_everyone_had_their_prompt_is_prompted_at_the_next_tick(rapport):
    _people(rapport)
    rapport.fake.add_user("UDAN", tz="Europe/London")
    make_relationship(rapport.db, rapport.clock)
    pulse(rapport, "send")
    with job_context(rapport) as context:
        assert tick(context).prompts == {"sent": 4}
        with rapport.db.read() as session:  # noted once its prompts were out: nobody left
            assert session.scalar(select(PulseRound.prompted_generation)) is not None
        assert tick(context).prompts == {}
        assert "added" in rapport.slack.command("add <@UDAN> provider").text
        assert tick(context).prompts == {"sent": 1}
        assert tick(context).prompts == {}
    assert len(prompts(rapport.fake, "UDAN")) == 1
    assert len(prompts(rapport.fake)) == 5


def test_a_round_left_with_nobody_to_prompt_by_a_removal_is_noted_by_the_next_tick(rapport):
    _people(rapport)
    rapport.fake.add_user("UDAN", tz="America/Los_Angeles")
    make_relationship(rapport.db, rapport.clock)
    assert "added" in rapport.slack.command("add <@UDAN> provider").text
    pulse(rapport, "schedule weekly on Tuesday at 10:00")

    def noted() -> bool:
        with rapport.db.read() as session:
            return session.scalar(select(PulseRound.prompted_generation)) is not None

    with job_context(rapport) as context:
        rapport.clock.current = utc(2026, 3, 3, 15, 0)  # 10:00 in New York, 07:00 for UDAN
        assert tick(context).prompts == {"sent": 4}
        assert not noted()  # UDAN's prompt is still to come
        assert "removed" in rapport.slack.command("remove <@UDAN>").text
        rapport.clock.advance(minutes=1)
        assert tick(context).prompts == {}
        assert noted()
        assert "added" in rapport.slack.command("add <@UDAN> provider").text
        rapport.clock.current = utc(2026, 3, 3, 18, 0)  # 10:00 for UDAN
        assert tick(context).prompts == {"sent": 1}
    assert len(prompts(rapport.fake, "UDAN")) == 1


class Died(BaseException):
    """The scheduler process dies here: nothing after it runs."""


def test_pulse_prompts_in_flight_when_schedulers_died_go_out_exactly_once(rapport, monkeypatch):
    _people(rapport)
    make_relationship(rapport.db, rapport.clock)
    pulse(rapport, "send")
    (opened,) = rounds(rapport.db)
    now = rapport.clock.now()
    # one scheduler claimed Priya's prompt and died before Slack saw it
    claimed = Outgoing(TEAM_ID, pulse_prompt(opened.id, "UPRIYA"), "UPRIYA", "Quick pulse")
    assert outbox.claim(rapport.db, claimed, now)
    record = outbox._record

    def dies_once_carl_is_posted(db, key, status, **values):
        if key == pulse_prompt(opened.id, "UCARL"):
            raise Died  # Slack posted Carl's prompt; the ledger never heard
        record(db, key, status, **values)

    with monkeypatch.context() as dying, job_context(rapport) as context:
        dying.setattr(outbox, "_record", dies_once_carl_is_posted)
        context.fan_out.close()  # one send at a time: nothing else is in flight as it dies
        one_at_a_time = WorkspaceFanOut(rapport.clock, LocalLocks(), in_flight=1)
        with closing(one_at_a_time), pytest.raises(Died):
            tick(replace(context, fan_out=one_at_a_time))
    assert [c.args["channel"] for c in prompts(rapport.fake)] == ["UCARL"]  # the first
    rapport.clock.advance(minutes=11)  # both claims are stale now
    with job_context(rapport) as context:
        again = tick(context)
    assert again.prompts == {"sent": 4}  # Carl's found in Slack; Priya's and the others sent
    assert sorted(c.args["channel"] for c in prompts(rapport.fake)) == [
        "UALICE",
        "UCARL",
        "UPAT",
        "UPRIYA",
    ]
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
    (limited,) = [c for c in calls if c.fault == "ratelimited"]
    (retried,) = [
        c for c in calls if c.args["channel"] == limited.args["channel"] and c.fault is None
    ]
    assert retried.at - limited.at >= 0.9


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


class CountingPacer(Pacer):
    """Counts the paced calls instead of sleeping."""

    def __init__(self) -> None:
        super().__init__(0)
        self.waits = 0

    def wait(self) -> None:
        self.waits += 1


class CountingPacers(WorkspacePacers):
    """One counting pacer for every workspace and kind of call."""

    def __init__(self) -> None:
        super().__init__()
        self.counter = CountingPacer()

    def pacer(self, team_id: str, kind: str) -> Pacer:
        return self.counter


def test_pulse_waits_for_a_zone_slack_could_not_give_instead_of_guessing_utc(rapport):
    for user in ZONES:
        rapport.fake.add_user(user, tz="America/Los_Angeles")
    make_relationship(rapport.db, rapport.clock)
    pulse(rapport, "schedule weekly on Tuesday at 10:00")
    rapport.fake.fail("users.info", "internal_error", times=None)
    with job_context(rapport) as context:
        rapport.clock.current = utc(2026, 3, 3, 10, 0)  # 02:00 in Los Angeles
        tick(context)
        assert prompts(rapport.fake) == []
        rapport.fake.clear_faults()
        rapport.clock.current = utc(2026, 3, 3, 17, 59)  # Los Angeles 09:59 (PST)
        tick(context)
        assert prompts(rapport.fake) == []
        rapport.clock.current = utc(2026, 3, 3, 18, 0)  # Los Angeles 10:00
        tick(context)
    assert len(prompts(rapport.fake)) == 4


def test_pulse_prompts_everyone_once_the_latest_zone_is_due_even_without_zones(rapport):
    _people(rapport)
    make_relationship(rapport.db, rapport.clock)
    pulse(rapport, "schedule weekly on Tuesday at 10:00")
    rapport.fake.fail("users.info", "internal_error", times=None)
    with job_context(rapport) as context:
        rapport.clock.current = utc(2026, 3, 3, 21, 59)
        tick(context)
        assert prompts(rapport.fake) == []
        asked = len(rapport.fake.calls_to("users.info"))
        rapport.clock.current = utc(2026, 3, 3, 22, 0)  # 10:00 at UTC-12: due everywhere
        tick(context)
    assert len(prompts(rapport.fake)) == 4
    assert len(rapport.fake.calls_to("users.info")) == asked  # no zone needed any more


def test_pulse_zone_lookups_are_paced_with_the_prompts_and_cached(rapport):
    _people(rapport)
    make_relationship(rapport.db, rapport.clock)
    pulse(rapport, "schedule weekly on Tuesday at 10:00")
    pacers = CountingPacers()
    with job_context(rapport) as context:
        rapport.clock.current = utc(2026, 3, 3, 4, 30)  # Kolkata 10:00
        run_pulse(context, pacers)
        assert len(rapport.fake.calls_to("users.info")) == 4
        assert pacers.counter.waits == 4 + len(prompts(rapport.fake)) == 5
        rapport.clock.current = utc(2026, 3, 3, 10, 0)  # London 10:00
        run_pulse(context, pacers)
    assert len(rapport.fake.calls_to("users.info")) == 4  # the zones were cached
    assert pacers.counter.waits == 4 + len(prompts(rapport.fake)) == 7


def test_pulse_pause_stops_a_round_ad_hoc_feedback_opened_but_keeps_the_feedback(rapport):
    _people(rapport)
    make_relationship(rapport.db, rapport.clock)
    give_feedback(rapport, "UCARL", 3)
    (upcoming,) = rounds(rapport.db)  # Tuesday's round, opened ahead for the feedback
    assert "paused" in pulse(rapport, "pause").text
    assert "is paused" in pulse(rapport, "send").text
    with job_context(rapport) as context:
        for now in (utc(2026, 3, 3, 16, 0), upcoming.closes_at - timedelta(hours=1)):
            rapport.clock.current = now
            tick(context)
    assert prompts(rapport.fake) == [] and reminders(rapport.fake) == []
    with rapport.db.transaction() as session:
        assert session.scalars(select(PulseAnswer.round_id)).all() == [upcoming.id]


def _schedule_form(every: str | None, weekday: str | None, at: str | None, window: str) -> dict:
    """The schedule modal's state as Slack submits it."""

    def option(value: str | None) -> dict:
        return {"selected_option": {"value": value} if value else None}

    return {
        "every": {"value": {"type": "static_select", **option(every)}},
        "weekday": {"value": {"type": "static_select", **option(weekday)}},
        "at": {"value": {"type": "timepicker", "selected_time": at}},
        "window": {"value": {"type": "number_input", "value": window}},
    }


def test_pulse_schedule_modal_lets_owners_set_cadence_day_time_and_window(rapport):
    relationship_id = make_relationship(rapport.db, rapport.clock)
    assert "pulse_edit_schedule" not in pulse(rapport, "schedule", user="UCARL").body
    shown = pulse(rapport, "schedule").json()
    (button,) = shown["blocks"][-1]["elements"]
    assert (button["text"]["text"], button["value"]) == ("Edit schedule", str(relationship_id))

    rapport.slack.block_action("pulse_edit_schedule", value=button["value"], user="UCARL")
    assert "Only owners" in rapport.fake.wait_for("response_url")[0].args["text"]
    rapport.slack.block_action("pulse_edit_schedule", value=button["value"])
    view = rapport.fake.wait_for("views.open")[0].args["view"]
    fields = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert fields["every"]["initial_option"]["value"] == "every-2-weeks"
    assert fields["weekday"]["initial_option"]["text"]["text"] == "Tuesday"
    assert fields["at"]["initial_time"] == "10:00"
    assert fields["window"]["initial_value"] == "3"

    meta = view["private_metadata"]
    refused = rapport.slack.view_submission(
        "pulse_schedule", _schedule_form(None, None, None, "99"), private_metadata=meta
    ).json()
    assert refused["response_action"] == "errors"
    assert set(refused["errors"]) == {"every", "weekday", "at", "window"}
    assert "from 1 to 14" in refused["errors"]["window"]
    assert not any(c in str(refused["errors"]) for c in "*<>`")  # plain text, no mentions
    replayed = rapport.slack.view_submission(
        "pulse_schedule",
        _schedule_form("weekly", "3", "09:30", "5"),
        user="UCARL",
        private_metadata=meta,
    ).json()
    assert "Only owners of Acme ⇄ Stellar" in replayed["errors"]["every"]

    saved = rapport.slack.view_submission(
        "pulse_schedule", _schedule_form("weekly", "3", "09:30", "5"), private_metadata=meta
    ).json()
    assert saved["response_action"] == "update"
    assert "weekly on Thursday at 09:30" in str(saved["view"]["blocks"])
    now = pulse(rapport, "schedule", user="UCARL").text
    assert "weekly on Thursday at 09:30" in now and "Next round: Thu 05 Mar 2026" in now
    assert "Open for 5 days" in now


def test_pulse_schedule_modal_monthly_keeps_the_week_and_window_alone_keeps_the_rhythm(rapport):
    make_relationship(rapport.db, rapport.clock)
    pulse(rapport, "schedule monthly on the last Friday at 16:00")
    monthly = rapport.slack.view_submission(
        "pulse_schedule", _schedule_form("monthly", "0", "09:00", "3"), private_metadata="1"
    ).json()
    assert "monthly on the last Monday at 09:00" in str(monthly["view"]["blocks"])
    pulse(rapport, "schedule every 2 weeks on Tuesday at 10:00")  # Tue 3, 17, 31 March…
    rapport.clock.current = utc(2026, 3, 9, 9, 0)  # a week on, only the window changes
    rapport.slack.view_submission(
        "pulse_schedule", _schedule_form("every-2-weeks", "1", "10:00", "4"), private_metadata="1"
    )
    with job_context(rapport) as context:
        rapport.clock.current = utc(2026, 3, 10, 23, 0)
        tick(context)
        assert rounds(rapport.db) == []  # the fortnight didn't restart on 9 March
        rapport.clock.current = utc(2026, 3, 17, 23, 0)
        tick(context)
    (opened,) = rounds(rapport.db)
    assert opened.day.isoformat() == "2026-03-17"
    assert opened.closes_at == utc(2026, 3, 21, 22, 0)  # 10:00 at UTC-12, plus 4 days
