"""Text people typed never reaches Slack as markup, anywhere Rapport writes.

A relationship, its organisations, a check-in, a skip reason, a pulse question and a cue
word are all named ``<!channel> <https://evil.example|click> <@U123>``; then every feature
that posts, updates, answers or uploads is driven through signed requests and the
scheduler jobs. No call the fake Slack recorded, and no acknowledgement, may carry that
markup in any string Slack reads as mrkdwn: a ``<!channel>`` there pings everyone, a
``<https://…|click>`` is a disguised link and ``<@U123>`` a mention. Only plain-text
objects, typed-in field values and file titles, which Slack shows literally, may hold it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bot.delivery.failures import QUIET
from scheduler.checkin_jobs import run_checkin_tick
from scheduler.delivery_jobs import report_delivery_failures
from tests.relationships.test_setup import setup_values
from tests.support.drift_helpers import FORMAL, FRIENDLY, say
from tests.support.health_helpers import health
from tests.support.pulse_helpers import answer_value, click, job_context, prompts, pulse, tick
from tests.support.slack_requests import Response

HOSTILE = "<!channel> <https://evil.example|click> <@U123>"
MARKUP = ("<!channel>", "<https://evil", "<@U123>")
NAME = f"Acme {HOSTILE}"
# strings Slack shows literally or not at all: typed-in field values, button and option
# values, uploaded files' titles
UNREAD = ("initial_value", "value", "title")
PEOPLE = {"UALICE": "UTC", "UPAT": "UTC", "UCARL": "UTC", "UPRIYA": "UTC"}


def typed(text: str) -> str:
    """``text`` as a slash command delivers it (``should_escape``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a Slack call's arguments that Slack may read as mrkdwn, with where
    it is: all but plain_text objects, message metadata and the ``UNREAD`` strings."""
    if isinstance(value, str):
        if value.startswith(("{", "[")):  # a JSON-encoded argument (blocks, view, files)
            try:
                yield from mrkdwn_strings(json.loads(value), path)
                return
            except ValueError:
                pass
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from mrkdwn_strings(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        if value.get("type") == "plain_text":
            return
        for key, item in value.items():
            if key in ("metadata", "private_metadata") or (key in UNREAD and isinstance(item, str)):
                continue
            yield from mrkdwn_strings(item, f"{path}.{key}")


def markup_found(name: str, arguments: Any) -> list[str]:
    return [
        f"{name}{path}: {text!r}"
        for path, text in mrkdwn_strings(arguments)
        if any(mark in text for mark in MARKUP)
    ]


def test_typed_markup_reaches_slack_escaped_from_every_feature(rapport):
    fake, acks = rapport.fake, []

    def command(text: str, user: str = "UALICE", command: str = "/rapport") -> Response:
        acks.append(answer := rapport.slack.command(text, user=user, command=command))
        return answer

    for user, tz in PEOPLE.items():
        fake.add_user(user, tz=tz)
    fake.add_channel("CSHARED", "acme-stellar", members=("UALICE", "UPRIYA"), is_member=True)
    fake.add_channel("CALERTS", "acme-owners", members=("UALICE", "UPAT"), is_member=True)

    # set-up, members, channels and settings, each echoing the name back
    values = setup_values(
        name=NAME,
        client_org=HOSTILE,
        provider_org=HOSTILE,
        client_members=["UCARL"],
        provider_members=["UPRIYA"],
    )
    acks.append(rapport.slack.view_submission("relationship_setup", values, user="UALICE"))
    fake.wait_for("chat.postMessage", lambda c: c.args["channel"] == "UALICE")
    command("watch <#CSHARED|acme-stellar>")
    fake.wait_for("response_url", lambda c: "Watching" in c.args.get("text", ""))
    command("alerts <#CALERTS|acme-owners>")
    fake.wait_for("response_url", lambda c: "will go to" in c.args.get("text", ""))
    for text in ("list", "show", f"use {typed(NAME)}", f"show {typed(HOSTILE)}"):
        command(text)
    command("add <@UMIRA> client manager")
    command("remove <@UMIRA>")
    command(f"drift words add formal_register {typed(HOSTILE)}")
    for text in ("drift", "drift words list formal_register", "drift nudge on", "drift excerpts"):
        command(text)
    command("drift set formal-share 30%")
    command("drift bots on")
    rapport.slack.event(
        {"type": "app_home_opened", "user": "UALICE", "channel": "D1", "tab": "home"}
    )
    fake.wait_for("views.publish")

    # typed words echoed in error messages
    word = typed("<!channel>")
    for text in (
        f"show {typed(HOSTILE)}",
        f"drift set {word} 3",
        f"drift set formal-share {word}",
        f"drift words add {word} kindly",
        f"drift words remove formal_register {word}x",
        f"add <@UMIRA> {word}",
        f"watch {word}",
        f"{word} now",
    ):
        command(text)
    for text in (
        f"schedule every {word} at 10:00",
        f"schedule weekly on {word} at 10:00",
        f"settings {word} 3",
        f"settings min-group {word}",
        f"questions remove {word}",
        f"{word}",
    ):
        acks.append(pulse(rapport, text))
    for text in (
        f'add "Sync" weekly {word} 10:00 <@UALICE>',
        f'add "Sync" weekly tue {word} <@UALICE>',
        f'add "Sync" weekly tue 10:00 <@UALICE> tz {word}',
        f'add "Sync" weekly tue 10:00 <@UALICE> for {word}',
        f'add "Sync" weekly tue 10:00 <@UALICE> remind {word}',
        f'add "Sync" weekly tue 10:00 <@UALICE> from {word}',
        f"skip {word} holiday",
        f"{word}",
    ):
        command(text, command="/checkin")

    # a drift alert, in the alerts channel
    for text in FRIENDLY[:2]:
        say(rapport, "UPRIYA", text)
    # markup first: after a formal message, the retrained model hears a link labelled
    # "click" as less formal, and the third would no longer tip the alert
    for text in FORMAL[:3]:
        say(rapport, "UALICE", f"{HOSTILE} {text}")
    fake.wait_for("chat.postMessage", lambda c: "drift_acknowledge" in json.dumps(c.args))

    # pulse: a question, a round, prompts, an answer, reminders, results, alerts
    acks.append(pulse(rapport, f"questions add {typed(HOSTILE)}"))
    for text in ("questions", "schedule", "settings", "send", "results", ""):
        acks.append(pulse(rapport, text))
    fake.refuse("UPRIYA", "user_not_found")  # reported to the owners below
    with job_context(rapport) as services:
        tick(services)
        (prompt,) = prompts(fake, "UCARL")
        click(rapport, "UCARL", 4, answer_value(prompt))
        fake.wait_for("chat.update")
        rapport.clock.advance(days=2, hours=12)
        tick(services)
        rapport.clock.advance(days=1)
        tick(services)
        acks.append(pulse(rapport, "results"))

    # check-ins: saved, listed, skipped, reminded, RSVPed, followed up, lapsed
    add = f'add "{typed(HOSTILE)}" weekly tue 10:00 <@UALICE> <@UPAT> tz UTC'
    for text in (add, "list", f"skip 1 {typed(HOSTILE)}", "list", "history"):
        acks.append(command(text, command="/checkin"))
    with job_context(rapport) as services:
        for day in (9, 10, 12, 16, 17, 19):
            rapport.clock.current = datetime(2026, 3, day, 10, 30, tzinfo=UTC)
            run_checkin_tick(services)
        reminder = next(
            c for c in fake.calls_to("chat.postMessage") if "checkin_rsvp_yes" in json.dumps(c.args)
        )
        occurrence = reminder.args["blocks"][-1]["elements"][0]["value"]
        rapport.slack.block_action("checkin_rsvp_yes", value=occurrence, user="UPAT")
        fake.wait_for("response_url", lambda c: "Thanks, noted" in c.args.get("text", ""))
        assert fake.wait_for("chat.postMessage", lambda c: "in a row" in c.args.get("text", ""))

        # the refused pulse prompt, reported once
        rapport.clock.advance(seconds=QUIET.total_seconds())
        report_delivery_failures(services)
        fake.wait_for("chat.postMessage", lambda c: "couldn't reach" in c.args.get("text", ""))

    # the health index, with the lapsed check-in named in the owners' view
    assert "Open lapses: *" in json.dumps(health(rapport).json(), ensure_ascii=False)

    # the export, and the last provider owner forgetting themselves
    command("export")
    fake.wait_for("files.completeUploadExternal")
    command("forget-me", user="UPAT")
    rapport.slack.block_action("forget_me_confirm", value="UPAT", user="UPAT")
    fake.wait_for("chat.postMessage", lambda c: "no provider owner" in c.args.get("text", ""))

    posted = [call.args.get("text", "") for call in fake.calls_to("chat.postMessage")]
    for kind in ("Quick pulse for", "A gentle nudge", "📭", "Reminder:", "Did "):
        assert any(text.startswith(kind) for text in posted), kind

    found = [problem for call in fake.calls for problem in markup_found(call.method, call.args)]
    for answer in acks:
        found += markup_found("ack", answer.json() if answer.body.startswith("{") else answer.body)
    assert found == []
    shown = [text for call in fake.calls for _, text in mrkdwn_strings(call.args)]
    assert any(typed(HOSTILE) in text for text in shown)  # it was there, escaped
    replies = [answer.body for answer in acks]
    escaped_twice = [text for text in shown + replies if "&amp;lt;" in text or "&amp;gt;" in text]
    assert escaped_twice == []  # echoed as typed, not as "&lt;"
