"""Drift events as Slack sends them, and what the drift feature stored and sent."""

from __future__ import annotations

import itertools
import json
from contextlib import closing

from sqlalchemy import select

from bot.drift.models import DriftAlert, DriftSignal
from bot.services import Services
from scheduler.drift_jobs import alert_unanswered
from tests.support.helpers import scheduler_services

FORMAL = [
    "Please be advised that as per clause 7.2 of the MSA this request is out of scope.",
    "Kindly note that CR-1042 must go through formal change control before any work starts.",
    "We hereby notify you of an SLA breach; service credits will apply for March.",
    "As per section 4.1 of the contract, this is a chargeable change request.",
    "Please be advised we are escalating this to your director as per the SLA.",
]
FRIENDLY = [
    "Morning all! Coffee's on me at the Thursday catch-up :coffee:",
    "no need for a formal change request, just ping me and we'll sort it",
    "the contract renewal party is Friday 🎉",
    "can you change the request body in the API? thanks!",
]

_seconds = itertools.count(1)


def say(rapport, user, text, *, channel="CSHARED", thread_ts=None, event_id=None, **extra):
    """Post a message event as Slack would, timestamped by the fake clock."""
    ts = f"{rapport.clock.now().timestamp() + next(_seconds) / 1000:.6f}"
    event = {
        "type": "message",
        "channel": channel,
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        **extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    response = rapport.slack.event(event, event_id=event_id)
    assert response.status == 200
    return ts


def signals(rapport) -> list[DriftSignal]:
    with rapport.db.transaction() as session:
        return list(session.scalars(select(DriftSignal).order_by(DriftSignal.posted_at)))


def alert_posts(rapport) -> list:
    return [
        call
        for call in rapport.fake.calls_to("chat.postMessage")
        if "drift_acknowledge" in json.dumps(call.args.get("blocks"))
    ]


def job_context(rapport) -> Services:
    return scheduler_services(rapport)


def unanswered_alerts_now(rapport) -> int:
    """Run the scheduler's unanswered-requests job once, as a scheduler process would."""
    with closing(job_context(rapport)) as services:
        return alert_unanswered(services)


def decided_alerts(rapport) -> list[DriftAlert]:
    """Alerts decided (before the acknowledgement), whether or not Slack has been called yet."""
    with rapport.db.transaction() as session:
        return list(session.scalars(select(DriftAlert)))


def edit(rapport, user, ts, text, **delivery):
    """Slack's message_changed event for a message someone edited."""
    message = {"type": "message", "user": user, "text": text, "ts": ts}
    event = {"type": "message", "subtype": "message_changed", "channel": "CSHARED"}
    response = rapport.slack.event({**event, "message": message}, **delivery)
    assert response.status == 200


def delete(rapport, ts, **delivery):
    """Slack's message_deleted event."""
    event = {"type": "message", "subtype": "message_deleted", "channel": "CSHARED"}
    assert rapport.slack.event({**event, "deleted_ts": ts}, **delivery).status == 200
