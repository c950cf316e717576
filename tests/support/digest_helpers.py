"""Helpers for the weekly digest tests: a relationship with an index, the digest tick run as
a scheduler process runs it, and the digests Slack received."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.slack.pacing import Pacer
from scheduler.digest_jobs import DigestTick, run_digests
from tests.support.fake_slack import Call
from tests.support.health_helpers import health_relationship, pulse_round
from tests.support.helpers import run_as_scheduler

EVERYONE_ANSWERS = {"UALICE": 4, "UC1": 3, "UC2": 4, "UC3": 3, "UPAT": 5, "UP1": 4, "UP2": 4}
HEADING = "*Weekly health digest*"


def relationship_with_index(rapport, **kwargs: Any) -> int:
    """Acme ⇄ Stellar (owners UALICE and UPAT) with one closed pulse round: an index."""
    relationship_id = health_relationship(rapport, channels=(), **kwargs)
    pulse_round(rapport, EVERYONE_ANSWERS)
    return relationship_id


def digest_tick(rapport) -> DigestTick:
    """One digest tick in a scheduler process of its own, unpaced."""
    return run_as_scheduler(rapport, run_digests, Pacer(0))


def digests(fake, channel: str | None = None) -> list[Call]:
    """Digests Slack accepted, optionally to one person or channel, in order."""
    return [
        call
        for call in fake.done("chat.postMessage")
        if HEADING in str(call.args.get("blocks") or "")
        and (channel is None or call.args["channel"] == channel)
    ]


def posted_keys(fake) -> list[str]:
    """The ledger keys of the digests Slack took (not those it refused), sorted."""
    return sorted(
        message["metadata"]["event_payload"]["key"]
        for messages in fake.messages.values()
        for message in messages
        if message.get("metadata", {})
        .get("event_payload", {})
        .get("key", "")
        .startswith("health-digest:")
    )


def recipients(fake) -> list[str]:
    return [call.args["channel"] for call in digests(fake)]


def text_of(call: Call) -> str:
    """What the reader sees: every section and context line."""
    texts = []
    for block in call.args.get("blocks") or []:
        if block["type"] == "section":
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts.extend(element["text"] for element in block["elements"])
    return "\n".join(texts)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)
