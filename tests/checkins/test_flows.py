"""Check-ins end to end: signed slash commands, buttons and modals against the fake Slack,
with the scheduler tick run directly under an injected clock."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.checkins.models import Occurrence
from bot.slack.blocks import FORM_TOO_LATE
from bot.slack.models import SendStatus, SentMessage
from scheduler.checkin_jobs import run_checkin_tick
from tests.support.helpers import make_relationship, run_as_scheduler

ADD = '"Ops catch-up" weekly tue 10:00 <@UALICE> <@UPAT> <@UPRIYA> tz Europe/London'


def tick(rapport) -> int:
    """One scheduler tick in a fresh process-like context (new services and client)."""
    return run_as_scheduler(rapport, run_checkin_tick)


def checkin(rapport, text: str, user: str = "UALICE"):
    return rapport.slack.command(text, command="/checkin", user=user)


def tick_at(rapport, *moments: datetime) -> None:
    """The scheduler running at each of ``moments`` (and not in between)."""
    for moment in moments:
        rapport.clock.current = moment
        tick(rapport)


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
    assert "tomorrow at 05:00 (Tue 3 Mar, America/New_York)" in sent["UALICE"]
    assert "tomorrow at 10:00 (Tue 3 Mar, Europe/London)" in sent["UPAT"]
    assert "tomorrow at 15:30 (Tue 3 Mar, Asia/Kolkata)" in sent["UPRIYA"]
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
    sent = {call.args["channel"]: call.args["text"] for call in dms(rapport, "Reminder")}
    assert len(sent) == 3
    assert "in 15 minutes, at 10:00 (Tue 31 Mar, Europe/London)" in sent["UPAT"]
    # New York has been on summer time since 8 March: 10:00 BST is still 05:00 there;
    # Kolkata has no summer time, so the check-in moves an hour earlier for Priya
    assert "in 15 minutes, at 05:00 (Tue 31 Mar, America/New_York)" in sent["UALICE"]
    assert "in 15 minutes, at 14:30 (Tue 31 Mar, Asia/Kolkata)" in sent["UPRIYA"]
    assert not dms(rapport, "Did ")  # stale follow-ups are dropped, not sent in a burst
    starts = [o.starts_at for o in occurrences(rapport)]
    assert datetime(2026, 3, 24, 10, 0, tzinfo=UTC) in starts  # GMT
    assert datetime(2026, 3, 31, 9, 0, tzinfo=UTC) in starts  # BST, still 10:00 local
    # nobody was asked about the four missed ones: no lapse alert blames the people
    tick(rapport)
    assert not dms(rapport, "in a row") and not dms(rapport, "has been held")


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


def test_checkin_list_shows_each_check_ins_own_people_and_next_start_read_together(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    checkin(rapport, 'add "Steering" monthly first wed 14:00 <@UPAT> <@UCARL> tz Europe/London')
    checkin(rapport, 'add "Retro" weekly fri 16:00 <@UPRIYA> tz Europe/London')
    checkin(rapport, "skip Retro Team offsite", user="UALICE")
    checkin(rapport, "list", user="UPAT")  # his zone now known: the next list is in the ack
    rapport.fake.wait_for("response_url")
    entries = [  # a blank line between two check-ins
        entry
        for block in checkin(rapport, "list", user="UPAT").json()["blocks"]
        if block.get("type") == "section"
        for entry in block["text"]["text"].split("\n\n")
    ]
    ops, steering, retro = (
        next(text for text in entries if title in text) for title in ("Ops", "Steering", "Retro")
    )
    assert "<@UALICE>, <@UPAT>, <@UPRIYA>" in ops and "Tue 3 Mar, 10:00" in ops
    assert "<@UPAT>, <@UCARL>" in steering and "Wed 4 Mar, 14:00" in steering
    assert "<@UPRIYA>" in retro and "Team offsite" in retro and "<@UPAT>" not in retro
    assert "Team offsite" not in ops + steering


def test_a_checkin_list_of_sixty_and_of_hundreds_of_people_fits_one_message(rapport):
    """Slack takes 50 blocks in a message and 3,000 characters in a section (every ack is
    checked as Slack checks it): one section a check-in, or every person named, broke both."""
    crowd = tuple(f"UM{n:05d}" for n in range(300))
    rapport.fake.add_user("UPAT", tz="Europe/London")
    make_relationship(rapport.db, rapport.clock, client_members=crowd)
    everyone = " ".join(f"<@{user}>" for user in crowd)
    checkin(rapport, f'add "Town hall" monthly first wed 14:00 {everyone} tz Europe/London')
    for n in range(59):
        checkin(rapport, f'add "Catch-up {n:02d}" weekly tue 10:00 <@UPAT> tz Europe/London')
    checkin(rapport, "list", user="UPAT")  # his zone is asked first; then it's in the ack
    rapport.fake.wait_for("response_url")
    blocks = checkin(rapport, "list", user="UPAT").json()["blocks"]
    text = "\n".join(block["text"]["text"] for block in blocks if block["type"] == "section")
    assert len(blocks) < 50 and "Town hall" in text
    assert re.findall(r"Catch-up (\d\d)", text) == [f"{n:02d}" for n in range(59)]
    assert "<@UM00029> and 270 more" in text and "<@UM00030>" not in text


def test_checkin_list_answers_in_the_ack_while_the_viewers_zone_is_fresh(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    asked = checkin(rapport, "list", user="UPRIYA")  # her zone unknown: Slack is asked
    (later,) = rapport.fake.wait_for("response_url")
    assert asked.json() is None and "15:30 (Asia/Kolkata)" in str(later.args["blocks"])
    at_once = checkin(rapport, "list", user="UPRIYA")
    assert at_once.json()["blocks"] == later.args["blocks"]
    assert at_once.text == later.args["text"]
    rapport.clock.advance(days=1)  # a day old: asked again, answered after the ack
    assert checkin(rapport, "list", user="UPRIYA").json() is None
    rapport.fake.wait_for("response_url", count=2)
    zones = [c for c in rapport.fake.calls_to("users.info") if c.args["user"] == "UPRIYA"]
    assert len(zones) == 2


def test_an_empty_checkin_list_answers_in_the_ack_without_asking_slack_for_a_zone(rapport):
    setup(rapport)
    empty = checkin(rapport, "list", user="UPRIYA")  # her zone unknown, and none needed
    assert "has no check-ins yet" in empty.json()["blocks"][0]["text"]["text"]
    assert empty.json()["text"] == "Check-ins of Acme ⇄ Stellar"
    assert not rapport.fake.calls_to("users.info") and not rapport.fake.calls_to("response_url")


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
    assert "There's no check-in number 1" in checkin(rapport, "remove 1", user="UPAT").text


def test_a_checkin_form_slack_refuses_as_opened_too_late_is_explained(rapport):
    setup(rapport)
    rapport.fake.fail("views.open", "expired_trigger_id")  # the time zone lookup took too long
    checkin(rapport, "new")  # its form opens after the person's time zone is known
    (told,) = rapport.fake.wait_for("response_url", lambda c: c.args.get("text") == FORM_TOO_LATE)
    assert told.args["replace_original"] is False


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
    # down from Monday 09:00 to Monday 20:00: the day-before reminder is late but useful;
    # in Kolkata it is already Tuesday
    rapport.clock.current = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    assert tick(rapport) == 3
    sent = {call.args["channel"]: call.args["text"] for call in dms(rapport, "Reminder")}
    assert "tomorrow at 05:00 (Tue 3 Mar, America/New_York)" in sent["UALICE"]
    assert "tomorrow at 10:00 (Tue 3 Mar, Europe/London)" in sent["UPAT"]
    assert "today at 15:30 (Tue 3 Mar, Asia/Kolkata)" in sent["UPRIYA"]
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


def test_checkin_new_modal_takes_a_first_date(rapport):
    setup(rapport)
    checkin(rapport, "new")
    (opened,) = rapport.fake.wait_for("views.open")
    view = opened.args["view"]
    picker = next(block for block in view["blocks"] if block["block_id"] == "starts")
    assert picker["optional"] and picker["element"]["type"] == "datepicker"
    changes = {
        "title": "Retro",
        "cadence": "every 2 weeks fri 16:00",
        "participants": ["UALICE", "UPRIYA"],
    }
    past = form_values(view, starts="2026-02-01", **changes)
    refused = rapport.slack.view_submission(
        "checkin_save", past, private_metadata=view["private_metadata"]
    ).json()
    assert "1 Feb 2026 has already passed" in refused["errors"]["starts"]
    later = form_values(view, starts="2026-03-20", **changes)
    rapport.slack.view_submission("checkin_save", later, private_metadata=view["private_metadata"])
    (confirmation,) = rapport.fake.wait_for("chat.postMessage")
    assert "Fri 20 Mar, 16:00 (America/New_York)" in confirmation.args["text"]


def test_checkin_edit_modal_has_no_first_date(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    checkin(rapport, "edit 1", user="UPAT")
    view = rapport.fake.wait_for("views.open")[-1].args["view"]
    assert "starts" not in {block["block_id"] for block in view["blocks"]}


def test_checkin_lapse_and_quiet_alerts_go_to_the_alerts_channel_when_set(rapport):
    for user in ("UALICE", "UPAT", "UPRIYA"):
        rapport.fake.add_user(user)
    make_relationship(rapport.db, rapport.clock, alerts="CALERTS")
    checkin(rapport, f"add {ADD}")
    # each Tuesday's follow-up is asked and left unanswered; each lapse check runs on Thursday
    tick_at(rapport, *(datetime(2026, 3, day, 10, 30, tzinfo=UTC) for day in (3, 5, 10, 12)))
    (alert,) = dms(rapport, "in a row")
    assert alert.args["channel"] == "CALERTS"
    button = alert.args["blocks"][-1]["elements"][0]
    assert button["action_id"] == "schedule_catch_up"
    assert button["text"]["text"] == "Schedule an informal catch-up"
    assert not dms(rapport, "has been held")
    tick_at(rapport, *(datetime(2026, 3, day, 10, 30, tzinfo=UTC) for day in (17, 19, 24, 26)))
    (quiet,) = dms(rapport, "has been held for 3 weeks")  # 26 March: 24 days since creation
    assert quiet.args["channel"] == "CALERTS"
    assert quiet.args["blocks"][-1]["elements"][0]["action_id"] == "schedule_catch_up"


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


def form_values(view: dict, **changes: Any) -> dict:
    """The check-in modal's state as Slack submits it: the prefilled values, with
    ``changes`` (by block id) typed in or picked."""
    fields = {
        "plain_text_input": "value",
        "multi_users_select": "selected_users",
        "conversations_select": "selected_conversation",
        "datepicker": "selected_date",
    }
    values = {}
    for block in view["blocks"]:
        element = block["element"]
        initial = element.get("initial_value") or element.get("initial_users")
        initial = initial or element.get("initial_conversation") or element.get("initial_date")
        field = fields[element["type"]]
        value = changes.get(block["block_id"], initial)
        values[block["block_id"]] = {"value": {"type": element["type"], field: value}}
    return values


def edit(rapport, user: str = "UPAT", **changes: Any):
    """``/checkin edit 1``, then Save in the modal with ``changes``; the answer to Save."""
    opened = len(rapport.fake.calls_to("views.open"))
    checkin(rapport, "edit 1", user=user)
    view = rapport.fake.wait_for("views.open", count=opened + 1)[-1].args["view"]
    return rapport.slack.view_submission(
        "checkin_save",
        form_values(view, **changes),
        user=user,
        private_metadata=view["private_metadata"],
    )


def test_checkin_reminder_sent_late_is_worded_by_the_time_left(rapport):
    setup(rapport)
    # created two hours before the first one: the day-before reminder goes at once
    rapport.clock.current = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    checkin(rapport, f"add {ADD}")
    assert tick(rapport) == 3
    sent = {call.args["channel"]: call.args["text"] for call in dms(rapport, "Reminder")}
    assert sent["UPAT"] == "Reminder: Ops catch-up today at 10:00 (Tue 3 Mar, Europe/London)"
    assert "today at 05:00 (Tue 3 Mar, America/New_York)" in sent["UALICE"]
    assert "today at 15:30 (Tue 3 Mar, Asia/Kolkata)" in sent["UPRIYA"]
    assert not any("tomorrow" in text for text in sent.values())
    # and a tick delayed to six minutes before the start says so, not "in 15 minutes"
    rapport.clock.current = datetime(2026, 3, 3, 9, 54, tzinfo=UTC)
    assert tick(rapport) == 3
    late = [call.args for call in dms(rapport, "in 6 minutes, at 10:00")]
    assert {args["channel"] for args in late} == {"UPAT"}
    assert "in 6 minutes, at 10:00" in late[0]["blocks"][0]["text"]["text"]


def test_checkin_reminders_longer_than_the_cadence_are_refused(rapport):
    setup(rapport)
    refused = checkin(rapport, f"add {ADD} remind 14d").text
    assert "`remind 14d` is longer than the gap between check-ins" in refused
    assert "weekly on Tuesday at 10:00" in refused and "at most 7d before" in refused
    assert not occurrences(rapport)
    # a week ahead is the most: sent as the previous one starts, worded for the next
    assert "saved" in checkin(rapport, f"add {ADD} remind 7d,1h").text
    rapport.clock.current = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    tick(rapport)
    upat = next(call for call in dms(rapport, "Reminder") if call.args["channel"] == "UPAT")
    assert "in 7 days, at 10:00 (Tue 10 Mar, Europe/London)" in upat.args["text"]
    # the form says so next to the field
    answer = edit(rapport, remind="14d").json()
    assert answer["response_action"] == "errors"
    assert "at most 7d before" in answer["errors"]["remind"]


def test_checkin_edit_keeps_a_skip_while_the_start_stays(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    assert "Skipping" in checkin(rapport, "skip 1 Bank holiday", user="UPAT").text
    assert edit(rapport, title="Ops & coffee", duration="45m").status == 200
    (saved,) = rapport.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "UPAT")
    assert "It stays skipped: Bank holiday." in saved.args["text"]
    rapport.clock.current = datetime(2026, 3, 3, 10, 30, tzinfo=UTC)
    tick(rapport)
    assert not dms(rapport, "Reminder") and not dms(rapport, "Did ")
    body = str(checkin(rapport, "history").json())
    assert "Ops &amp; coffee" in body and "skipped" in body and "Bank holiday" in body


def test_checkin_edit_that_moves_the_start_says_the_skip_no_longer_applies(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    checkin(rapport, "skip 1 Bank holiday", user="UPAT")
    edit(rapport, cadence="weekly tue 11:00")
    (saved,) = rapport.fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "UPAT")
    assert "The skip of Tue 3 Mar, 10:00 (Europe/London) no longer applies" in saved.args["text"]
    assert "Next one: Tue 3 Mar, 11:00 (Europe/London)" in saved.args["text"]
    rapport.clock.current = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert tick(rapport) == 3


def test_checkin_outage_missed_occurrences_cause_no_alert_burst(rapport):
    setup(rapport)
    for number in range(4):
        checkin(rapport, f'add "C{number}" weekly tue 10:00 <@UALICE> <@UPAT> tz Europe/London')
    # down for three weeks: nobody was asked whether C0..C3 happened on 3, 10, 17, 24 March
    rapport.clock.current = datetime(2026, 3, 25, 9, 0, tzinfo=UTC)
    tick(rapport)
    tick(rapport)
    assert not dms(rapport, "in a row") and not dms(rapport, "has been held")
    body = str(checkin(rapport, "history").json())
    assert "unknown" in body and "0% (0 of 16)" in body


def test_checkin_lapses_seen_before_an_outage_give_one_alert_per_relationship(rapport):
    setup(rapport)
    for number in range(3):
        checkin(rapport, f'add "C{number}" weekly tue 10:00 <@UALICE> <@UPAT> tz Europe/London')
    # two follow-ups each, asked and left unanswered; then down over the lapse checks
    tick_at(rapport, *(datetime(2026, 3, day, 10, 30, tzinfo=UTC) for day in (3, 5, 10)))
    assert len(dms(rapport, "Did ")) == 6
    rapport.clock.current = datetime(2026, 3, 13, 12, 0, tzinfo=UTC)
    tick(rapport)
    tick(rapport)
    alerts = dms(rapport, "in a row")
    assert sorted(call.args["channel"] for call in alerts) == ["UALICE", "UPAT"]
    assert all("C0" in call.args["text"] for call in alerts)
    # the others are reported by their next lapse check, the first one not again
    tick_at(rapport, *(datetime(2026, 3, day, 10, 30, tzinfo=UTC) for day in (17, 19)))
    titles = sorted(call.args["text"].split(" (")[0] for call in dms(rapport, "in a row"))
    assert titles == ["C0", "C0", "C1", "C1", "C2", "C2"]


def test_checkin_held_on_the_second_day_arrives_before_any_lapse_alert(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    tick_at(rapport, *(datetime(2026, 3, day, 10, 30, tzinfo=UTC) for day in (3, 5, 10, 11)))
    assert len(dms(rapport, "Did ")) == 2 and not dms(rapport, "in a row")
    second = occurrences(rapport)[1]
    rapport.clock.current = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
    rapport.slack.block_action("checkin_outcome_held", value=str(second.id), user="UALICE")
    rapport.fake.wait_for("views.open")
    tick_at(rapport, datetime(2026, 3, 12, 10, 30, tzinfo=UTC))
    assert not dms(rapport, "in a row")


def test_checkin_follow_up_asked_late_gets_its_full_time_to_be_answered(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    tick_at(rapport, *(datetime(2026, 3, day, 10, 30, tzinfo=UTC) for day in (3, 5)))
    # down from before the 10 March one until two days later: its follow-up goes out late
    tick_at(rapport, datetime(2026, 3, 12, 9, 0, tzinfo=UTC))
    assert len(dms(rapport, "Did ")) == 2
    # its lapse check, due two days after the end, waits two days from the asking
    tick_at(rapport, datetime(2026, 3, 12, 10, 30, tzinfo=UTC))
    tick_at(rapport, datetime(2026, 3, 14, 8, 59, tzinfo=UTC))
    assert not dms(rapport, "in a row")
    tick_at(rapport, datetime(2026, 3, 14, 9, 0, tzinfo=UTC))
    assert sorted(call.args["channel"] for call in dms(rapport, "in a row")) == ["UALICE", "UPAT"]


def test_checkin_start_date_years_ahead_is_refused(rapport):
    setup(rapport)
    far = checkin(rapport, 'add "M" monthly last friday 10:00 <@UPAT> tz UTC from 9999-12-31')
    assert "31 Dec 9999 is too far ahead: start within two years" in far.text
    assert "from 2026-03-09" in far.text
    assert "saved" in checkin(rapport, f"add {ADD} from 2028-02-29").text


def test_checkin_member_taken_out_of_the_relationship_gets_no_more_reminders(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    rapport.slack.command("remove <@UPRIYA>", user="UALICE")
    rapport.clock.current = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert tick(rapport) == 2
    assert sorted(call.args["channel"] for call in dms(rapport, "Reminder")) == ["UALICE", "UPAT"]
    assert "UPRIYA" not in str(dms(rapport, "Reminder")[0].args["blocks"])
    listing = checkin(rapport, "list").json()  # in the ack: the tick learnt Alice's zone
    assert "Ops catch-up" in str(listing["blocks"]) and "UPRIYA" not in str(listing["blocks"])


def test_checkin_joins_its_public_channel_and_asks_for_an_invite_to_a_private_one(rapport):
    setup(rapport)
    rapport.fake.add_channel("COPS", "ops")
    rapport.fake.add_channel("GSTEER", "steering", is_private=True)
    checkin(rapport, f"add {ADD} in <#COPS|ops>")
    (joined,) = rapport.fake.wait_for("conversations.join")
    assert joined.args["channel"] == "COPS"
    rapport.clock.current = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert tick(rapport) == 4
    assert "COPS" in {call.args["channel"] for call in dms(rapport, "Reminder")}
    # moved to a private channel in the form: the confirmation says who must do what
    edit(rapport, channel="GSTEER")
    (saved,) = rapport.fake.wait_for("chat.postMessage", lambda c: "saved" in c.args["text"])
    assert "type `/invite @Rapport` in <#GSTEER>" in saved.args["text"]
    assert len(rapport.fake.calls_to("conversations.join")) == 1
    # until someone does, Slack refuses the channel's reminder; the people still get theirs
    rapport.clock.current = datetime(2026, 3, 3, 9, 45, tzinfo=UTC)
    assert tick(rapport) == 3
    with rapport.db.transaction() as session:
        ledger = session.scalars(select(SentMessage).where(SentMessage.channel == "GSTEER"))
        assert [(row.status, row.error) for row in ledger] == [
            (SendStatus.FAILED, "not_in_channel")
        ]


def test_checkin_private_channel_in_the_command_gets_an_invite_hint(rapport):
    setup(rapport)
    rapport.fake.add_channel("GSTEER", "steering", is_private=True)
    assert (
        "saved"
        in checkin(rapport, 'add "Steering" weekly thu 10:00 <@UPAT> tz UTC in <#GSTEER>').text
    )
    (hint,) = rapport.fake.wait_for("response_url", lambda c: "/invite" in c.args["text"])
    assert "type `/invite @Rapport` in <#GSTEER>" in hint.args["text"]
    assert not rapport.fake.calls_to("conversations.join")


def test_checkin_cron_schedule_end_to_end(rapport):
    setup(rapport)
    too_often = checkin(rapport, 'add "Sync" cron * * * * * <@UPAT> tz UTC').text
    assert "more than once a day" in too_often and "cron 0 9 * * 1-5" in too_often
    assert (
        "more than once a day" in checkin(rapport, 'add "S" cron 0 9,17 * * * <@UPAT> tz UTC').text
    )
    saved = checkin(
        rapport, 'add "Standup" cron 30 9 * * 1-5 <@UALICE> <@UPAT> tz Europe/London remind 15m'
    ).text
    assert "cron 30 9 * * 1-5 (Europe/London)" in saved
    assert "Next one: Mon 2 Mar, 09:30 (Europe/London)" in saved
    rapport.clock.current = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert tick(rapport) == 2
    upat = next(call for call in dms(rapport, "Reminder") if call.args["channel"] == "UPAT")
    assert "Standup in 15 minutes, at 09:30 (Mon 2 Mar, Europe/London)" in upat.args["text"]
    rapport.clock.current = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert tick(rapport) == 1
    (follow_up,) = dms(rapport, "Did Standup happen")
    assert follow_up.args["channel"] == "UALICE"
    starts = [o.starts_at for o in occurrences(rapport)]
    assert starts == [
        datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        datetime(2026, 3, 3, 9, 30, tzinfo=UTC),
    ]


def test_checkin_cant_make_it_shows_in_the_next_reminder(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    occurrence = occurrences(rapport)[0]
    rapport.slack.block_action("checkin_rsvp_no", value=str(occurrence.id), user="UPRIYA")
    (noted,) = rapport.fake.wait_for("response_url")
    assert noted.args["text"] == "Thanks, noted that you can't make it for *Ops catch-up*."
    rapport.slack.block_action("checkin_rsvp_yes", value=str(occurrence.id), user="UPAT")
    rapport.fake.wait_for("response_url", count=2)
    rapport.clock.current = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    tick(rapport)
    reminder = dms(rapport, "Reminder")[0]
    assert reminder.args["blocks"][1]["elements"][0]["text"] == (
        "Coming: <@UPAT> · can't make it: <@UPRIYA>"
    )


def test_checkin_skipped_and_rescheduled_answers_show_in_history(rapport):
    setup(rapport)
    checkin(rapport, f"add {ADD}")
    first, answers = occurrences(rapport)[0], []
    for day, outcome in ((3, "skipped"), (10, "rescheduled")):
        rapport.clock.current = datetime(2026, 3, day, 10, 30, tzinfo=UTC)
        tick(rapport)
        occurrence = occurrences(rapport)[len(answers)]
        rapport.slack.block_action(f"checkin_outcome_{outcome}", value=str(occurrence.id))
        answers.append(outcome)
        replaced = rapport.fake.wait_for("response_url", count=len(answers))[-1]
        assert replaced.args["replace_original"] is True
        assert outcome in replaced.args["text"]
        (modal,) = rapport.fake.wait_for("views.open", count=len(answers))[-1:]
        assert modal.args["view"]["private_metadata"] == str(occurrence.id)
    assert first.id != occurrence.id
    body = str(checkin(rapport, "history").json())
    assert "⏭️ skipped" in body and "🔁 rescheduled" in body
    assert "0% (0 of 2)" in body and "streak 0" in body
