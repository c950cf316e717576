"""Drift alerts end to end: signed message events in, alerts out through the fake Slack."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from bot.drift.models import DriftCalming
from bot.relationships import domain as rel
from bot.relationships.members import map_organisation
from bot.relationships.models import Side
from scheduler.drift_jobs import alert_unanswered, purge_old_signals
from tests.support.drift_helpers import (
    FORMAL,
    FRIENDLY,
    alert_posts,
    decided_alerts,
    delete,
    edit,
    job_context,
    say,
    signals,
    unanswered_alerts_now,
)
from tests.support.helpers import make_relationship


def test_message_is_scored_by_side_and_its_text_is_not_stored(rapport, watched):
    say(rapport, "UALICE", FORMAL[0])
    say(rapport, "UPRIYA", FRIENDLY[0])
    formal, friendly = signals(rapport)
    assert (formal.side, friendly.side) == ("client", "provider")
    assert formal.score >= 0.5 > friendly.score
    assert "contract_reference" in formal.cue_kinds.split(",")
    stored = json.dumps([[str(v) for v in vars(s).values()] for s in (formal, friendly)])
    for fragment in ("advised", "clause", "MSA", "Coffee"):
        assert fragment not in stored


def test_unwatched_channel_bots_and_joins_are_ignored(rapport, watched):
    say(rapport, "UALICE", FORMAL[0], channel="CRANDOM")
    say(rapport, "UALICE", FORMAL[0], bot_id="B0OTHER")
    say(rapport, "UALICE", "Alice joined", subtype="channel_join")
    say(rapport, "UBOTRAPPORT", FORMAL[1])  # Rapport itself (Bolt drops its own events)
    assert signals(rapport) == []


def test_duplicate_deliveries_and_retries_count_once_and_alert_once(rapport, watched):
    for text in FORMAL[:2]:
        say(rapport, "UALICE", text)
    event = {
        "type": "message",
        "channel": "CSHARED",
        "user": "UALICE",
        "text": FORMAL[2],  # the third formal message: tips the formal-tone alert
        "ts": f"{rapport.clock.now().timestamp() + 5:.6f}",
    }
    for retry in (None, 1, 2):
        assert rapport.slack.event(event, event_id="Ev0SAME", retry_num=retry).status == 200
    assert len(signals(rapport)) == 3
    assert [alert.kind for alert in decided_alerts(rapport)] == ["formal_tone"]
    rapport.fake.wait_for("chat.postMessage")  # the one alert's background send is done
    assert len(alert_posts(rapport)) == 1


def test_an_edit_is_reassessed_and_a_deletion_drops_the_signal(rapport, watched):
    ts = say(rapport, "UALICE", FORMAL[1])
    assert signals(rapport)[0].score >= 0.5
    edit(rapport, "UALICE", ts, FRIENDLY[1])
    assert signals(rapport)[0].score < 0.5
    delete(rapport, ts)
    assert signals(rapport) == []


def test_duplicate_edits_and_deletions_change_nothing_the_second_time(rapport, watched):
    say(rapport, "UPRIYA", FRIENDLY[0])
    for text in FORMAL[:2]:
        say(rapport, "UALICE", text)
    third = say(rapport, "UALICE", "see you thursday")
    for retry in (None, 1):  # Slack retries the edit with the same event id
        edit(rapport, "UALICE", third, FORMAL[2], event_id="Ev0EDIT", retry_num=retry)
    assert [s.score >= 0.5 for s in signals(rapport)] == [False, True, True, True]
    assert [alert.kind for alert in decided_alerts(rapport)] == ["formal_tone"]
    rapport.fake.wait_for("chat.postMessage")
    assert len(alert_posts(rapport)) == 1
    for retry in (None, 1):
        delete(rapport, third, event_id="Ev0DELETE", retry_num=retry)
    assert len(signals(rapport)) == 3
    assert third not in {s.message_ts for s in signals(rapport)}


def test_deleting_a_thread_parent_with_replies_drops_its_signal(rapport, watched):
    parent = say(rapport, "UALICE", FORMAL[1])
    say(rapport, "UPRIYA", "on it", thread_ts=parent)
    # A parent with replies isn't deleted outright: Slack leaves a tombstone in its place.
    tombstone = {
        "type": "message",
        "subtype": "tombstone",
        "user": "USLACKBOT",
        "text": "This message was deleted.",
        "hidden": True,
        "ts": parent,
        "thread_ts": parent,
        "reply_count": 1,
    }
    changed = {"type": "message", "subtype": "message_changed", "channel": "CSHARED"}
    assert rapport.slack.event({**changed, "message": tombstone, "hidden": True}).status == 200
    remaining = {s.message_ts for s in signals(rapport)}
    assert len(remaining) == 1 and parent not in remaining  # the reply still counts


def test_a_deleted_reply_no_longer_answers_formal_requests(rapport, watched):
    say(rapport, "UALICE", FORMAL[1])
    say(rapport, "UALICE", FORMAL[2])
    first = say(rapport, "UPRIYA", "let me check")
    second = say(rapport, "UPRIYA", "checking with the team now")
    delete(rapport, first)  # the second reply still answers both
    rapport.clock.advance(hours=25)
    assert unanswered_alerts_now(rapport) == 0
    delete(rapport, second)  # now nothing from the provider side answers them
    assert unanswered_alerts_now(rapport) == 1


def test_a_message_edited_to_formal_after_the_other_side_replied_is_answered(rapport, watched):
    printer = say(rapport, "UALICE", "can you look at the printer?")
    badge = say(rapport, "UALICE", "and the badge reader too")
    say(rapport, "UPRIYA", "on it, calling you now")
    edit(rapport, "UALICE", printer, FORMAL[1])
    edit(rapport, "UALICE", badge, FORMAL[2])
    rapport.clock.advance(hours=25)
    assert unanswered_alerts_now(rapport) == 0


def test_a_formal_reply_in_a_thread_is_answered_by_the_next_reply_from_the_other_side(
    rapport, watched
):
    for _ in range(2):
        parent = say(rapport, "UALICE", "printer on floor 3 is jammed again")
        say(rapport, "UPRIYA", FORMAL[0], thread_ts=parent)
        say(rapport, "UALICE", "fair enough, let's talk at 2", thread_ts=parent)
    rapport.clock.advance(hours=25)
    assert unanswered_alerts_now(rapport) == 0


def test_a_formal_message_delivered_after_the_reply_to_it_is_answered(rapport, watched):
    start = rapport.clock.now().timestamp()
    say(rapport, "UPRIYA", "we're on it, calling you now")  # posted after the two below
    for n, text in enumerate(FORMAL[1:3]):  # Slack's retries deliver these late
        late = {"type": "message", "channel": "CSHARED", "user": "UALICE", "text": text}
        rapport.slack.event({**late, "ts": f"{start - 60 + n:.6f}"}, retry_num=1)
    assert [s.score >= 0.5 for s in signals(rapport)] == [True, True, False]
    rapport.clock.advance(hours=25)
    assert unanswered_alerts_now(rapport) == 0


def test_a_private_channel_is_watched_like_a_public_one(rapport, watched):
    say(rapport, "UALICE", FORMAL[0], channel_type="group")
    (signal,) = signals(rapport)
    assert signal.side == "client" and signal.score >= 0.5


def test_slack_connect_author_counts_for_their_organisation_and_strangers_are_unknown(
    rapport, watched
):
    with rapport.db.transaction() as session:
        relationship = rel.get_relationship(session, "T0ACME", watched)
        map_organisation(session, relationship, "UALICE", "T0STELLAR", "Stellar", Side.PROVIDER)
    say(rapport, "UEXTERNAL", FRIENDLY[0], user_team="T0STELLAR")
    say(rapport, "USTRANGER", FRIENDLY[0], user_team="T0ELSEWHERE")
    assert [s.side for s in signals(rapport)] == ["provider", "unknown"]


def test_slack_connect_message_in_the_envelope_slack_really_sends(rapport, watched):
    with rapport.db.transaction() as session:
        relationship = rel.get_relationship(session, "T0ACME", watched)
        map_organisation(session, relationship, "UALICE", "T0STELLAR", "Stellar", Side.PROVIDER)
    ts = f"{rapport.clock.now().timestamp() + 3:.6f}"
    event = {
        "type": "message",
        "channel": "CSHARED",
        "channel_type": "group",
        "user": "UEXTERNAL",
        "text": FORMAL[0],
        "ts": ts,
        "team": "T0STELLAR",
        "user_team": "T0STELLAR",
        "source_team": "T0STELLAR",
        "blocks": [],
    }
    envelope = {
        "token": "legacy-verification-token",
        "team_id": "T0ACME",
        "context_team_id": "T0ACME",
        "context_enterprise_id": None,
        "api_app_id": "A0RAPPORT",
        "event": event,
        "type": "event_callback",
        "event_id": "Ev0CONNECT",
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": "T0ACME", "user_id": "UBOTRAPPORT", "is_bot": True, "enterprise_id": None}
        ],
        "is_ext_shared_channel": True,
        "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ",
    }
    assert rapport.slack.post(json.dumps(envelope), "application/json").status == 200
    (signal,) = signals(rapport)
    assert (signal.message_ts, signal.author_id, signal.side) == (ts, "UEXTERNAL", "provider")
    assert signal.score >= 0.5


def test_a_40000_character_message_is_scored_to_its_last_line(rapport, watched):
    opening = "Please be advised that as per clause 7.2 of the MSA the following applies.\n"
    closing_line = "\nService credits will apply for every day of delay."
    body = "Ticket 4411: reset the badge reader on floor 3 and note the time. " * 700
    text = opening + body[: 40_000 - len(opening) - len(closing_line)] + closing_line
    assert len(text) == 40_000
    say(rapport, "UALICE", text)
    (signal,) = signals(rapport)
    assert signal.score >= 0.5
    assert set(signal.cue_kinds.split(",")) == {
        "formal_register",
        "contract_reference",
        "sla_penalty",  # from the very last line
    }


def test_an_edit_between_two_40000_character_messages_in_any_script_is_scored(rapport, watched):
    """Slack's largest edit: message and previous_message, each 40,000 characters with rich-text
    blocks repeating them, every character JSON-escaped (an emoji as a \\uXXXX\\uXXXX pair)."""

    def longest(opening: str, closing_line: str) -> str:
        filler = "𝔥𝔢𝔩𝔩𝔬 😀🎉🙏 naïve ✓ " * 3000
        text = opening + filler[: 40_000 - len(opening) - len(closing_line)] + closing_line
        assert len(text) == 40_000
        return text

    def message(text: str) -> dict:
        section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
        blocks = [{"type": "rich_text", "block_id": "b1", "elements": [section]}]
        return {"type": "message", "user": "UALICE", "text": text, "blocks": blocks, "ts": ts}

    before = longest("Morning all! ", " see you thursday")
    ts = say(rapport, "UALICE", before)
    assert signals(rapport)[0].cue_kinds == ""
    after = longest(
        "Please be advised that as per clause 7.2 of the MSA the following applies.\n",
        "\nService credits will apply for every day of delay.",
    )
    event = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "CSHARED",
        "hidden": True,
        "message": {**message(after), "edited": {"user": "UALICE", "ts": ts}},
        "previous_message": message(before),
    }
    assert rapport.slack.event(event).status == 200
    (signal,) = signals(rapport)
    assert set(signal.cue_kinds.split(",")) == {
        "formal_register",
        "contract_reference",
        "sla_penalty",  # from the very last line
    }


def test_formal_tone_alert_reaches_the_alerts_channel_once_with_figures_not_text(rapport, watched):
    for text in FRIENDLY[:2]:
        say(rapport, "UPRIYA", text)
    for text in FORMAL[:3]:
        say(rapport, "UALICE", text)
    (alert,) = rapport.fake.wait_for(
        "chat.postMessage", lambda c: "drift_acknowledge" in json.dumps(c.args.get("blocks"))
    )
    assert alert.args["channel"] == "CALERTS"
    body = json.dumps(alert.args["blocks"], ensure_ascii=False)
    assert "Formal tone rising in <#CSHARED>" in body
    assert "3 of the last 5 messages" in body and "up from 0" in body
    # the cues of the tipping message, grouped by kind
    cues = alert.args["blocks"][0]["text"]["text"].splitlines()[2]
    assert cues == (
        'Cues: formal register ("hereby", "notify you that"), '
        'SLA / penalty ("sla breach", "service credits")'
    )
    assert "https://slack.com/archives/CSHARED/p" in body
    for fragment in ("this request is out of scope.", "before any work starts", "March"):
        assert fragment not in body
    actions = [
        e["action_id"]
        for b in alert.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert actions == ["schedule_catch_up", "drift_acknowledge", "drift_not_drift"]
    say(rapport, "UALICE", FORMAL[3])  # a little worse: still within the cooldown
    say(rapport, "UPRIYA", FRIENDLY[2])
    assert len(alert_posts(rapport)) == 1


def test_formal_tone_that_fell_since_last_week_is_not_called_rising(rapport, watched):
    for text in FORMAL:  # alerts at the third and (much worse) the fifth
        say(rapport, "UALICE", text + " Sent last week.")
    rapport.clock.advance(days=8)
    for text in FORMAL[:3]:
        say(rapport, "UALICE", text + " Sent this week.")
    alerts = rapport.fake.wait_for(
        "chat.postMessage", lambda c: "drift_acknowledge" in json.dumps(c.args.get("blocks")), 3
    )
    latest = max(alerts, key=lambda c: int(c.args["blocks"][-1]["elements"][1]["value"]))
    body = json.dumps(latest.args["blocks"])
    assert "Formal tone still high in <#CSHARED>" in body and "rising" not in body
    assert "3 of the last 3 messages (7 days)" in body and "down from 5 the 7 days before" in body
    assert "up from" not in body


def test_much_worse_figures_alert_again_within_the_day(rapport, watched):
    for text in FORMAL[:3]:
        say(rapport, "UALICE", text)
    rapport.fake.wait_for("chat.postMessage")
    for text in FORMAL[3:]:
        say(rapport, "UALICE", text + " (again)")
    alerts = rapport.fake.wait_for(
        "chat.postMessage",
        lambda c: "drift_acknowledge" in json.dumps(c.args.get("blocks")),
        count=2,
    )
    assert "5 of the last 5" in json.dumps(alerts[1].args["blocks"])


def test_friendly_talk_with_trigger_words_never_alerts(rapport, watched):
    for _ in range(3):
        for text, user in zip(FRIENDLY, ("UALICE", "UPRIYA", "UCARL", "UPAT"), strict=True):
            say(rapport, user, text)
    assert all(s.score < 0.5 for s in signals(rapport))
    assert alert_posts(rapport) == []


def test_without_alerts_channel_owners_of_both_sides_get_a_dm(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    for text in FORMAL[:3]:
        say(rapport, "UPRIYA", text)
    posts = rapport.fake.wait_for(
        "chat.postMessage", lambda c: "drift_acknowledge" in json.dumps(c.args.get("blocks")), 2
    )
    assert sorted(p.args["channel"] for p in posts) == ["UALICE", "UPAT"]


def test_not_drift_from_an_owner_calms_those_cues_and_others_are_refused(rapport, watched):
    for text in FORMAL[:3]:
        say(rapport, "UALICE", text)
    (alert,) = rapport.fake.wait_for("chat.postMessage")
    alert_id = next(
        e["value"]
        for b in alert.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "drift_not_drift"
    )
    rapport.slack.block_action("drift_not_drift", value=alert_id, user="UCARL")
    (refusal,) = rapport.fake.wait_for("response_url")
    assert "Only owners" in refusal.args["text"]
    before = signals(rapport)[2].score
    rapport.slack.block_action("drift_not_drift", value=alert_id, user="UPAT")
    answer = rapport.fake.wait_for("response_url", count=2)[-1]
    assert answer.args["replace_original"] is True and "not drift" in answer.args["text"]
    with rapport.db.transaction() as session:
        kinds = {c.kind: c.presses for c in session.scalars(select(DriftCalming))}
    assert kinds == {"formal_register": 1, "sla_penalty": 1}  # the tipping message's cues
    say(rapport, "UALICE", FORMAL[2])
    assert signals(rapport)[-1].score < before


def test_acknowledge_replaces_the_buttons_with_who_acknowledged(rapport, watched):
    for text in FORMAL[:3]:
        say(rapport, "UALICE", text)
    (alert,) = rapport.fake.wait_for("chat.postMessage")
    alert_id = alert.args["blocks"][-1]["elements"][1]["value"]
    rapport.slack.block_action("drift_acknowledge", value=alert_id, user="UALICE")
    (answer,) = rapport.fake.wait_for("response_url")
    assert answer.args["text"] == "Acknowledged by <@UALICE>."


def test_unanswered_formal_requests_alert_once_after_the_limit(rapport, watched):
    say(rapport, "UALICE", FORMAL[1])
    say(rapport, "UALICE", FORMAL[2])
    context = job_context(rapport)
    rapport.clock.advance(hours=23)
    assert alert_unanswered(context) == 0
    rapport.clock.advance(hours=2)
    assert alert_unanswered(context) == 1
    assert alert_unanswered(context) == 0
    post = rapport.fake.calls_to("chat.postMessage")[-1]
    assert "2 formal messages have had no reply from the other side for over 24 hours" in (
        json.dumps(post.args["blocks"])
    )


def test_a_reply_from_the_other_side_in_the_thread_answers_a_formal_request(rapport, watched):
    first = say(rapport, "UALICE", FORMAL[1])
    say(rapport, "UALICE", FORMAL[2])
    say(rapport, "UPRIYA", "On it, I'll call you in 5", thread_ts=first)
    say(rapport, "UCARL", "me too", thread_ts=first)  # same side: not an answer
    rapport.clock.advance(hours=25)
    assert alert_unanswered(job_context(rapport)) == 0  # only one still open; the floor is 2


def test_one_way_traffic_alert(rapport, watched):
    for n in range(10):
        say(rapport, "UALICE", f"Update {n}: tickets moved to the new queue")
    (post,) = rapport.fake.wait_for("chat.postMessage")
    body = json.dumps(post.args["blocks"])
    assert "One-way traffic in <#CSHARED>" in body
    assert "10 messages from the client side" in body and "none from the provider side" in body


def test_gentle_nudge_only_when_owners_turn_it_on(rapport, watched):
    say(rapport, "UPRIYA", FORMAL[0])
    assert "nudges are on" in rapport.slack.command("drift nudge on", user="UALICE").text
    say(rapport, "UPRIYA", FORMAL[1] + " Please be advised this is out of scope per clause 9.")
    (nudge,) = rapport.fake.wait_for("chat.postEphemeral")
    assert nudge.args["user"] == "UPRIYA" and nudge.args["channel"] == "CSHARED"
    assert "<@UALICE>" in nudge.args["text"]


def test_signals_past_retention_are_purged(rapport, watched):
    say(rapport, "UALICE", FRIENDLY[0])
    rapport.clock.advance(days=181)
    say(rapport, "UALICE", FRIENDLY[1])
    assert purge_old_signals(job_context(rapport)) == 1
    assert len(signals(rapport)) == 1
