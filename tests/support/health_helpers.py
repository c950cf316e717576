"""Helpers for the health tests: relationships with enough people on both sides for pulse
figures to show, pulse rounds answered and closed, channel talk, and the reply read back."""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from bot.health.models import HealthSnapshot
from bot.pulse.models import PulseRound
from scheduler.health_jobs import refresh_snapshots
from tests.support.drift_helpers import FORMAL, FRIENDLY, say
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship, run_as_scheduler
from tests.support.pulse_helpers import answer_value, click, job_context, prompts, pulse, tick
from tests.support.slack_requests import Response

CLIENT = ("UC1", "UC2", "UC3")  # with the owner UALICE: four on the client side
PROVIDER = ("UP1", "UP2", "UP3")  # with the owner UPAT: four on the provider side


def health_relationship(rapport, name: str = "Acme ⇄ Stellar", **kwargs: Any) -> int:
    """UALICE and UPAT own it, three more people on each side, #CSHARED watched."""
    kwargs.setdefault("channels", ("CSHARED",))
    return make_relationship(
        rapport.db,
        rapport.clock,
        name,
        client_members=CLIENT,
        provider_members=PROVIDER,
        **kwargs,
    )


def pulse_round(rapport, scores: dict[str, int], name: str = "", owner: str = "UALICE") -> None:
    """``/pulse send`` (for relationship ``name``), prompts, ``scores`` clicked, then the
    clock moved past the round's close."""
    assert "is open" in pulse(rapport, f"send {name}".strip(), user=owner).text
    with rapport.db.read() as session:  # before the tick opens any scheduled round
        round_id = session.scalars(select(PulseRound.id).order_by(PulseRound.id.desc())).first()
    with job_context(rapport) as services:
        tick(services)
    for user, score in scores.items():
        (prompt,) = [
            p for p in prompts(rapport.fake, user) if answer_value(p).startswith(f"{round_id}:")
        ]
        assert click(rapport, user, score, answer_value(prompt)).status == 200
    rapport.clock.advance(days=3, minutes=1)


def chatter(rapport, formal: int, messages: int, channel: str = "CSHARED") -> None:
    """``messages`` messages in ``channel``: ``formal`` formal ones from the client side,
    each answered by the provider side, and friendly ones from both sides."""
    for n in range(formal):
        say(rapport, "UALICE", FORMAL[n % len(FORMAL)], channel=channel)
        say(rapport, "UPAT", FRIENDLY[0], channel=channel)
    for n in range(messages - 2 * formal):
        say(rapport, ("UC1", "UP1")[n % 2], FRIENDLY[(n % 2) * 2], channel=channel)


def health(rapport, text: str = "", user: str = "UALICE", **kwargs: Any) -> Response:
    """The reply the person sees: the ack when it says something (a refusal, the formula),
    else what the command's response URL was then sent, once Slack took it."""
    response_url = rapport.fake.response_url("health", kwargs.get("team", TEAM_ID))
    response = rapport.slack.command(
        f"health {text}".strip(), user=user, response_url=response_url, **kwargs
    )
    assert response.status == 200
    if response.body:
        return response
    path = urlsplit(response_url).path
    (*_, reply) = rapport.fake.wait_for(
        "response_url", lambda call: call.path == path and call.fault is None
    )
    return Response(200, json.dumps(reply.args))


def shown(response: Response) -> str:
    """The reply's text as the person reads it: sections and context lines, or the text."""
    body = response.json()
    texts = []
    for block in body.get("blocks") or []:
        if block["type"] == "section":
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts.extend(element["text"] for element in block["elements"])
    return "\n".join(texts) or body.get("text", "")


def buttons(response: Response) -> list[tuple[str, str, str]]:
    """(label, action id, value) of every button in the reply."""
    return [
        (element["text"]["text"], element["action_id"], element["value"])
        for block in response.json().get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def store_snapshots(rapport) -> int:
    """The weekly job, run once as a scheduler process would."""
    return run_as_scheduler(rapport, refresh_snapshots)


def snapshots(rapport) -> list[HealthSnapshot]:
    with rapport.db.read() as session:
        return list(
            session.scalars(
                select(HealthSnapshot).order_by(
                    HealthSnapshot.relationship_id, HealthSnapshot.week_start
                )
            )
        )


def wait_for_snapshot(rapport, week: date, timeout: float = 5.0) -> HealthSnapshot:
    """The snapshot of ``week``, once the command has stored it after its ack."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [s for s in snapshots(rapport) if s.week_start == week]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no snapshot for the week of {week}")


def snapshots_stored(rapport, timeout: float = 10.0) -> int:
    """How many health snapshots are stored, once there is one (a reply's is stored after
    it, and after its figures are kept as recently shown), or after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (stored := snapshots(rapport)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return len(stored)
