"""Check-ins end to end: signed slash commands, buttons and modals against the fake Slack,
with the scheduler tick run directly under an injected clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import select

from bot.checkin_models import Occurrence
from scheduler.checkin_jobs import run_checkin_tick
from tests.helpers import make_relationship, scheduler_services

ADD = '"Ops catch-up" weekly tue 10:00 <@UALICE> <@UPAT> <@UPRIYA> tz Europe/London'


def tick(rapport) -> int:
    """One scheduler tick in a fresh process-like context (new services and client)."""
    services = scheduler_services(rapport)
    try:
        return run_checkin_tick(services)
    finally:
        services.close()


def checkin(rapport, text: str, user: str = "UALICE"):
    return rapport.slack.command(text, command="/checkin", user=user)


def dms(rapport, marker: str) -> list:
    return [
        call
        for call in rapport.fake.calls_to("chat.postMessage")
        if marker in call.args.get("text", "")
    ]


def setup(rapport) -> int:
    for user, tz in (
        ("UALICE", "America/New_York"),
        ("UPAT", "Europe/London"),
        ("UPRIYA", "Asia/Kolkata"),
        ("UCARL", "Europe/London"),
        ("UEVE", "Europe/London"),
    ):
        rapport.fake.add_user(user, tz=tz)
    return make_relationship(rapport.db, rapport.clock)


def occurrences(rapport) -> list[Occurrence]:
    with rapport.db.transaction() as session:
        return list(session.scalars(select(Occurrence).order_by(Occurrence.starts_at)))


def test_checkin_reminders_reach_three_time_zones_once(rapport):
    setup(rapport)
    reply = checkin(rapport, f"add {ADD}")
    assert "Ops catch-up" in reply.text and "saved" in reply.text
    assert tick(rapport) == 0  # Monday 09:00 UTC: the day-before reminder is due at 10:00

    rapport.clock.current = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert tick(rapport) == 3
    sent = {call.args["channel"]: call.args["text"] for call in dms(rapport, "Reminder")}
    assert "05:00 (America/New_York)" in sent["UALICE"]
    assert "10:00 (Europe/London)" in sent["UPAT"]
    assert "15:30 (Asia/Kolkata)" in sent["UPRIYA"]
    buttons = dms(rapport, "Reminder")[0].args["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == ["checkin_rsvp_yes", "checkin_rsvp_no"]

    assert tick(rapport) == 0  # run twice, and each tick is a fresh "process"
    assert tick(rapport) == 0
    assert len(dms(rapport, "Reminder")) == 3

    rapport.clock.current = datetime(2026, 3, 3, 9, 45, tzinfo=UTC)
    assert tick(rapport) == 3
    assert len(dms(rapport, "Reminder")) == 6


def test_checkin_rsvp_recorded_and_refused_for_non_members(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    occurrence = occurrences(rapport)[0]
    rapport.slack.block_action("checkin_rsvp_yes", value=str(occurrence.id), user="UPAT")
    thanks = rapport.fake.wait_for("response_url", lambda c: "be there" in c.args.get("text", ""))
    assert thanks
    rapport.slack.block_action("checkin_rsvp_yes", value=str(occurrence.id), user="UEVE")
    rapport.fake.wait_for("response_url", lambda c: "people in this" in c.args.get("text", ""))
    rapport.clock.current = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    tick(rapport)
    reminder = dms(rapport, "Reminder")[0]
    assert "Coming: <@UPAT>" in str(reminder.args["blocks"])


def test_checkin_stays_at_ten_local_across_both_dst_changes_and_no_burst_after_downtime(
    rapport,
):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    # the bot is down for four weeks, across the late-March change, and wakes 15 minutes
    # before the 31 March occurrence: only that occurrence's last reminder is sent
    rapport.clock.current = datetime(2026, 3, 31, 8, 45, tzinfo=UTC)
    tick(rapport)
    reminders = dms(rapport, "Reminder")
    assert len(reminders) == 3
    assert all("in 15 minutes" in call.args["text"] for call in reminders)
    upat = next(call for call in reminders if call.args["channel"] == "UPAT")
    assert "Tue 31 Mar, 10:00 (Europe/London)" in upat.args["text"]
    assert not dms(rapport, "Did ")  # stale follow-ups are dropped, not sent in a burst
    starts = [o.starts_at for o in occurrences(rapport)]
    assert datetime(2026, 3, 24, 10, 0, tzinfo=UTC) in starts  # GMT
    assert datetime(2026, 3, 31, 9, 0, tzinfo=UTC) in starts  # BST, still 10:00 local
    lapse_alerts = dms(rapport, "in a row")
    assert {call.args["channel"] for call in lapse_alerts} == {"UALICE", "UPAT"}
    tick(rapport)
    assert len(dms(rapport, "in a row")) == 2  # the same lapse never alerts twice


def test_checkin_october_clock_change_keeps_local_time(rapport):
    setup(rapport)
    rapport.clock.current = datetime(2026, 10, 19, 12, 0, tzinfo=UTC)
    checkin(rapport, f"add {ADD}")
    rapport.clock.current = datetime(2026, 10, 27, 9, 45, tzinfo=UTC)
    tick(rapport)
    starts = [o.starts_at for o in occurrences(rapport)]
    assert starts[:2] == [
        datetime(2026, 10, 20, 9, 0, tzinfo=UTC),  # BST
        datetime(2026, 10, 27, 10, 0, tzinfo=UTC),  # GMT
    ]
    assert len(dms(rapport, "in 15 minutes")) == 3


def test_checkin_follow_up_buttons_note_and_history(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    occurrence = occurrences(rapport)[0]
    rapport.clock.current = datetime(2026, 3, 3, 10, 30, tzinfo=UTC)
    tick(rapport)
    (follow_up,) = dms(rapport, "Did ")
    assert follow_up.args["channel"] == "UALICE"
    actions = [b["action_id"] for b in follow_up.args["blocks"][1]["elements"]]
    assert actions == [
        "checkin_outcome_held",
        "checkin_outcome_skipped",
        "checkin_outcome_rescheduled",
    ]
    assert tick(rapport) == 0

    rapport.slack.block_action("checkin_outcome_held", value=str(occurrence.id), user="UEVE")
    rapport.fake.wait_for("response_url", lambda c: "people in this" in c.args.get("text", ""))

    rapport.slack.block_action("checkin_outcome_held", value=str(occurrence.id), user="UALICE")
    (modal,) = rapport.fake.wait_for("views.open")
    assert modal.args["view"]["callback_id"] == "checkin_note"
    note = {"note": {"value": {"type": "plain_text_input", "value": "Good <!channel> chat"}}}
    answer = rapport.slack.view_submission(
        "checkin_note", note, user="UPAT", private_metadata=str(occurrence.id)
    )
    assert answer.status == 200

    history = checkin(rapport, "history", user="UPRIYA")
    body = str(history.json())
    assert "held" in body and "Good &lt;!channel&gt; chat" in body
    assert "100% (1 of 1)" in body and "streak 1" in body


def test_checkin_history_counts_unanswered_as_unknown(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    rapport.clock.current = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
    tick(rapport)
    body = str(checkin(rapport, "history").json())
    assert "unknown" in body and "0% (0 of 2)" in body and "streak 0" in body


def test_checkin_list_shows_next_occurrence_in_viewers_time_zone(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    checkin(rapport, "list", user="UPRIYA")
    (listing,) = rapport.fake.wait_for("response_url")
    assert "Tue 3 Mar, 15:30 (Asia/Kolkata)" in str(listing.args["blocks"])


def test_checkin_add_defaults_to_the_creators_time_zone(rapport):
    setup(rapport)
    checkin(rapport, 'add "Coffee" weekly wed 09:00 <@UPAT>')
    (reply,) = rapport.fake.wait_for("response_url")
    assert "America/New_York" in reply.args["text"]


def test_checkin_remove_and_skip_permissions(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    assert "Only owners" in checkin(rapport, "remove 1", user="UCARL").text
    assert "Only owners" in checkin(rapport, "skip 1 holiday", user="UCARL").text
    skipped = checkin(rapport, "skip Ops Bank holiday", user="UPRIYA").text
    assert "Skipping" in skipped
    rapport.clock.current = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    tick(rapport)
    assert not dms(rapport, "Reminder")  # a skipped occurrence gets no reminders
    assert "Removed" in checkin(rapport, "remove ops catch-up", user="UPAT").text
    assert "I can't find" in checkin(rapport, "remove 1", user="UPAT").text or "no check-in" in (
        checkin(rapport, "remove 1", user="UPAT").text
    )


def test_checkin_edit_modal_and_stretched_cadence_alerts_once(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    assert "Only owners" in checkin(rapport, "edit 1", user="UCARL").text
    checkin(rapport, "edit 1", user="UPAT")
    (opened,) = rapport.fake.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "checkin_save"
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Ops catch-up"}},
        "cadence": {"value": {"type": "plain_text_input", "value": "monthly first monday 09:30"}},
        "tz": {"value": {"type": "plain_text_input", "value": "Europe/London"}},
        "duration": {"value": {"type": "plain_text_input", "value": "45m"}},
        "participants": {"value": {"type": "multi_users_select", "selected_users": ["UPAT"]}},
        "channel": {"value": {"type": "conversations_select", "selected_conversation": None}},
    }
    bad = {**values, "cadence": {"value": {"type": "plain_text_input", "value": "sometimes"}}}
    refused = rapport.slack.view_submission(
        "checkin_save", bad, user="UPAT", private_metadata=view["private_metadata"]
    )
    assert refused.json()["response_action"] == "errors"
    saved = rapport.slack.view_submission(
        "checkin_save", values, user="UPAT", private_metadata=view["private_metadata"]
    )
    assert saved.status == 200 and saved.body in ("", "null")
    tick(rapport)
    tick(rapport)
    stretched = dms(rapport, "stretched")
    assert {call.args["channel"] for call in stretched} == {"UALICE", "UPAT"}
    button = stretched[0].args["blocks"][-1]["elements"][0]
    assert button["action_id"] == "schedule_catch_up"


def test_schedule_catch_up_opens_prefilled_modal_for_owners_only(rapport):
    relationship_id = setup(rapport)
    rapport.slack.block_action("schedule_catch_up", value=str(relationship_id), user="UCARL")
    rapport.fake.wait_for("response_url", lambda c: "Only owners" in c.args.get("text", ""))
    rapport.slack.block_action("schedule_catch_up", value=str(relationship_id), user="UALICE")
    (opened,) = rapport.fake.wait_for("views.open")
    view = opened.args["view"]
    assert view["blocks"][0]["element"]["initial_value"] == "Informal catch-up"
    people = next(block for block in view["blocks"] if block["block_id"] == "participants")
    assert set(people["element"]["initial_users"]) == {"UALICE", "UPAT"}


def test_checkin_quiet_relationship_alerts_owners_once(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    for day in (3, 10, 17, 24):
        rapport.clock.current = datetime(2026, 3, day, 10, 30, tzinfo=UTC)
        tick(rapport)
    rapport.clock.current = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)
    tick(rapport)
    tick(rapport)
    quiet = dms(rapport, "has been held for 3 weeks")
    assert {call.args["channel"] for call in quiet} == {"UALICE", "UPAT"}


def test_checkin_bad_input_is_explained(rapport):
    setup(rapport)
    assert "weekly" in checkin(rapport, 'add "Ops" whenever <@UPAT>').text
    assert (
        "Europe/London" in checkin(rapport, 'add "Ops" weekly tue 10:00 <@UPAT> tz Mars/Base').text
    )
    outside = checkin(rapport, 'add "Ops" weekly tue 10:00 <@UEVE> tz UTC').text
    assert "not part of" in outside
    assert "title" in checkin(rapport, "add").text
    assert "/checkin list" in checkin(rapport, "dance").text
    assert "Usage" in checkin(rapport, "skip 1").text
    assert "10:00" in checkin(rapport, 'add "Ops" weekly tue 25:99 <@UPAT>').text
    assert "<script>" not in checkin(rapport, "<script>").text


def test_checkin_bot_down_for_a_day_sends_only_the_reminder_still_useful(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    # down from Monday 09:00 to Monday 20:00: the day-before reminder is late but useful
    rapport.clock.current = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    assert tick(rapport) == 3
    assert all("tomorrow" in call.args["text"] for call in dms(rapport, "Reminder"))
    # down again until 5 minutes before the start: the 15-minute one is still sent, once
    rapport.clock.current = datetime(2026, 3, 3, 9, 55, tzinfo=UTC)
    assert tick(rapport) == 3
    # and back only after the start: nothing is sent for that occurrence any more
    rapport.clock.current = datetime(2026, 3, 9, 20, 0, tzinfo=UTC)
    tick(rapport)
    rapport.clock.current = datetime(2026, 3, 10, 10, 5, tzinfo=UTC)
    tick(rapport)
    assert len(dms(rapport, "Reminder")) == 9  # 3 (late day-before for 10 Mar) + 6 earlier


def test_checkin_two_processes_ticking_together_send_each_reminder_once(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    rapport.clock.current = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    failures: list[BaseException] = []

    def process() -> None:
        try:
            tick(rapport)
        except BaseException as error:  # surfaced below, not lost in the thread
            failures.append(error)

    threads = [threading.Thread(target=process) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(dms(rapport, "Reminder")) == 3


def test_checkin_custom_reminders_start_date_and_channel(rapport):
    setup(rapport)
    reply = checkin(
        rapport,
        'add "Steering" monthly first monday 09:30 <@UPAT> tz Europe/London for 1h '
        "in <#CSTEER|steering> remind 2h from 2026-04-01",
    ).text
    assert "2h before" in reply and "Mon 6 Apr, 09:30 (Europe/London)" in reply
    rapport.clock.current = datetime(2026, 4, 6, 6, 30, tzinfo=UTC)  # 07:30 BST
    tick(rapport)
    assert {call.args["channel"] for call in dms(rapport, "Reminder")} == {"UPAT", "CSTEER"}


def test_checkin_past_start_date_is_explained(rapport):
    setup(rapport)
    reply = checkin(rapport, f"add {ADD} from 2026-02-01").text
    assert "has already passed" in reply and "from 2026-03-03" in reply
    assert "YYYY-MM-DD" in checkin(rapport, f"add {ADD} from someday").text
    assert "remind 1d,15m" in checkin(rapport, f"add {ADD} remind soonish").text


def test_checkin_new_modal_prefills_creators_zone_and_saves(rapport):
    setup(rapport)
    checkin(rapport, "new")
    (opened,) = rapport.fake.wait_for("views.open")
    view = opened.args["view"]
    tz_block = next(block for block in view["blocks"] if block["block_id"] == "tz")
    assert tz_block["element"]["initial_value"] == "America/New_York"
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Retro <b>"}},
        "cadence": {"value": {"type": "plain_text_input", "value": "every 2 weeks fri 16:00"}},
        "tz": {"value": {"type": "plain_text_input", "value": "America/New_York"}},
        "duration": {"value": {"type": "plain_text_input", "value": "1h"}},
        "remind": {"value": {"type": "plain_text_input", "value": "1d"}},
        "participants": {
            "value": {"type": "multi_users_select", "selected_users": ["UALICE", "UEVE"]}
        },
        "channel": {"value": {"type": "conversations_select", "selected_conversation": None}},
    }
    refused = rapport.slack.view_submission(
        "checkin_save", values, private_metadata=view["private_metadata"]
    ).json()
    assert "not part of" in refused["errors"]["participants"]
    values["participants"]["value"]["selected_users"] = ["UALICE", "UPRIYA"]
    rapport.slack.view_submission("checkin_save", values, private_metadata=view["private_metadata"])
    (confirmation,) = rapport.fake.wait_for("chat.postMessage")
    assert "Retro &lt;b&gt;" in confirmation.args["text"]
    assert "Fri 6 Mar, 16:00 (America/New_York)" in confirmation.args["text"]


def test_checkin_lapse_alerts_go_to_the_alerts_channel_when_set(rapport):
    for user in ("UALICE", "UPAT", "UPRIYA"):
        rapport.fake.add_user(user)
    make_relationship(rapport.db, rapport.clock, alerts="CALERTS")
    checkin(rapport, f"add {ADD}")
    rapport.clock.current = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
    tick(rapport)
    tick(rapport)
    (alert,) = dms(rapport, "in a row")
    assert alert.args["channel"] == "CALERTS"
    assert alert.args["blocks"][-1]["elements"][0]["action_id"] == "schedule_catch_up"


def test_checkin_follow_up_goes_to_an_owner_when_the_creator_has_left(rapport):
    setup(rapport)
    checkin(rapport, 'add "Standup" weekly tue 10:00 <@UPRIYA> <@UPAT> tz UTC', user="UCARL")
    rapport.slack.command("remove <@UCARL>", user="UALICE")
    rapport.clock.current = datetime(2026, 3, 3, 10, 30, tzinfo=UTC)
    tick(rapport)
    (follow_up,) = dms(rapport, "Did ")
    assert follow_up.args["channel"] == "UPAT"


def test_checkin_reminder_slack_failed_is_retried_next_minute_without_duplicates(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    rapport.fake.fail("chat.postMessage", "fatal_error")
    rapport.clock.current = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert tick(rapport) == 2
    assert tick(rapport) == 0  # not due again yet
    rapport.clock.advance(minutes=1)
    assert tick(rapport) == 1
    assert tick(rapport) == 0
