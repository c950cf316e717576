"""Helpers for the App Home tests: opening Home the way Slack does, reading back the view the
fake Slack was given, running the refresh job, and drift alerts as the drift job leaves them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.drift.models import DriftAlert
from bot.home.models import HomeView
from bot.slack.pacing import Pacer
from scheduler.home_jobs import refresh_homes
from tests.support.due_work import wait_until
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import run_as_scheduler


def open_home(rapport, user: str = "UALICE") -> dict[str, Any]:
    """Open the Home tab as ``user``; the view published for them."""
    before = len(published_to(rapport, user))
    response = rapport.slack.event(
        {"type": "app_home_opened", "user": user, "channel": f"D{user[1:]}", "tab": "home"}
    )
    assert response.status == 200
    calls = rapport.fake.wait_for(
        "views.publish", lambda call: call.args["user_id"] == user, count=before + 1
    )
    wait_until(lambda: opened_home(rapport, user), f"{user}'s Home recorded")
    return calls[-1].args["view"]


def opened_home(rapport, user: str) -> bool:
    """Whether Rapport has recorded that ``user`` opened Home (just after publishing it)."""
    with rapport.db.read() as session:
        return session.scalar(select(HomeView.id).where(HomeView.user_id == user)) is not None


def published_to(rapport, user: str) -> list[dict[str, Any]]:
    """Every view published for ``user`` so far, oldest first."""
    return [
        call.args["view"]
        for call in rapport.fake.calls_to("views.publish")
        if call.args["user_id"] == user
    ]


def checkin(rapport, text: str, user: str = "UALICE"):
    response = rapport.slack.command(text, command="/checkin", user=user)
    assert response.status == 200
    return response


def refresh(rapport) -> int:
    """The Home refresh job, run once as a scheduler process would."""
    return run_as_scheduler(rapport, refresh_homes, Pacer(0))


def text_of(view: dict[str, Any]) -> str:
    """Everything a reader sees in the view's sections, contexts and headers."""
    texts = []
    for block in view["blocks"]:
        if block["type"] in ("section", "header"):
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts.extend(element["text"] for element in block["elements"])
    return "\n".join(texts)


def buttons(view: dict[str, Any]) -> list[tuple[str, str]]:
    """(action id, value) of every button, in actions blocks and as section accessories."""
    elements = [
        element
        for block in view["blocks"]
        for element in (
            block.get("elements", []) if block["type"] == "actions" else [block.get("accessory")]
        )
        if element and element.get("type") == "button"
    ]
    return [(element["action_id"], element.get("value", "")) for element in elements]


def images(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [block for block in view["blocks"] if block["type"] == "image"]


def add_alert(rapport, relationship_id: int, kind: str = "formal_tone", channel="CSHARED") -> int:
    """A drift alert as the drift job decides it, sent just now and not yet answered."""
    now = rapport.clock.now()
    with rapport.db.transaction() as session:
        alert = DriftAlert(
            team_id=TEAM_ID,
            relationship_id=relationship_id,
            channel_id=channel,
            kind=kind,
            figure=5,
            day=now.date().isoformat(),
            cue_kinds="",
            sent_at=now,
        )
        session.add(alert)
        session.flush()
        return alert.id


def dumped(view: dict[str, Any]) -> str:
    return json.dumps(view, ensure_ascii=False)
