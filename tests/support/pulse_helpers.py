"""Helpers for the pulse tests: run the pulse tick the way the scheduler does, read prompts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.pulse.models import PulseRound
from bot.services import Services
from bot.slack.pacing import WorkspacePacers
from scheduler.pulse_jobs import PulseTick, run_pulse
from tests.support.fake_slack import Call
from tests.support.helpers import scheduler_services


@contextmanager
def job_context(rapport) -> Iterator[Services]:
    services = scheduler_services(rapport)
    try:
        yield services
    finally:
        services.close()


def tick(services: Services) -> PulseTick:
    return run_pulse(services, WorkspacePacers.unpaced())


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def prompts(fake, user: str | None = None) -> list[Call]:
    """Pulse prompts (DMs with score buttons), optionally to one person."""
    return [
        call
        for call in fake.calls_to("chat.postMessage")
        if _has_action(call.args.get("blocks") or [], "pulse_answer_1")
        and (user is None or call.args["channel"] == user)
    ]


def reminders(fake) -> list[Call]:
    return [c for c in fake.calls_to("chat.postMessage") if c.args.get("thread_ts")]


def alerts(fake) -> list[Call]:
    return [
        c
        for c in fake.calls_to("chat.postMessage")
        if _has_action(c.args.get("blocks") or [], "schedule_catch_up")
    ]


def _has_action(blocks: list[dict[str, Any]], action_id: str) -> bool:
    return any(
        element.get("action_id") == action_id
        for block in blocks
        if block.get("type") == "actions"
        for element in block["elements"]
    )


def answer_value(call: Call, question: int = 0) -> str:
    """The value of the n-th question's score buttons in a prompt."""
    values = [
        element["value"]
        for block in call.args["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if element["action_id"] == "pulse_answer_1"
    ]
    return values[question]


def rounds(db) -> list[PulseRound]:
    with db.transaction() as session:
        return list(session.scalars(select(PulseRound).order_by(PulseRound.id)))


def click(rapport, user: str, score: int, value: str, ts: str = "1700000001.000001"):
    return rapport.slack.block_action(
        f"pulse_answer_{score}",
        value=value,
        user=user,
        container={"type": "message", "message_ts": ts, "channel_id": "D" + user[1:]},
    )


def give_feedback(rapport, user: str, score: int):
    """``/pulse`` with no arguments, then the feedback modal submitted with ``score``."""
    pulse(rapport, "", user=user)
    (opened,) = rapport.fake.wait_for(
        "views.open", lambda c: c.args["view"]["callback_id"] == "pulse_feedback"
    )
    return rapport.slack.view_submission(
        "pulse_feedback",
        {"score": {"value": {"type": "radio_buttons", "selected_option": {"value": str(score)}}}},
        user=user,
        private_metadata=opened.args["view"]["private_metadata"],
    )


def pulse(rapport, text: str, user: str = "UALICE", **kwargs: Any):
    return rapport.slack.command(text, command="/pulse", user=user, **kwargs)
