"""Helpers for the intros tests: the tick as the scheduler runs it, unpaced, and what it sent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.intros.models import IntroGroup, IntroGroupMember
from bot.services import Services
from bot.slack.pacing import Pacer
from scheduler.intros_jobs import IntroPacers, IntrosTick, run_intros
from tests.support.fake_slack import Call


def tick(services: Services) -> IntrosTick:
    return run_intros(services, IntroPacers(Pacer(0), Pacer(0)))


def posts(fake, where=lambda call: True) -> list[Call]:
    return [c for c in fake.done("chat.postMessage") if where(c)]


def actions(call: Call) -> list[str]:
    return [
        element["action_id"]
        for block in call.args.get("blocks") or []
        if block.get("type") == "actions"
        for element in block["elements"]
    ]


def button_value(call: Call, action_id: str) -> str:
    return next(
        element["value"]
        for block in call.args.get("blocks") or []
        if block.get("type") == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    )


def invitations(fake) -> list[Call]:
    return posts(fake, lambda c: "intro_count_me_in" in actions(c))


def intros(fake) -> list[Call]:
    """Intro messages: in a group DM, or one DM each."""
    return posts(fake, lambda c: c.args.get("text", "").startswith("Meet "))


def follow_ups(fake) -> list[Call]:
    return posts(fake, lambda c: "intro_met_yes" in actions(c))


def groups(db) -> list[set[str]]:
    """Every group made so far, as sets of user ids, oldest first."""
    with db.transaction() as session:
        rows = session.execute(
            select(IntroGroupMember.group_id, IntroGroupMember.user_id).order_by(
                IntroGroupMember.group_id
            )
        ).all()
    found: dict[int, set[str]] = {}
    for group_id, user_id in rows:
        found.setdefault(group_id, set()).add(user_id)
    return list(found.values())


def group_rows(db) -> list[IntroGroup]:
    with db.transaction() as session:
        return list(session.scalars(select(IntroGroup).order_by(IntroGroup.id)))


def intros_command(rapport, text: str, user: str = "UALICE", **kwargs: Any) -> str:
    """``/rapport intros <text>``: the reply's text and the text of all its blocks."""
    return reply_text(rapport.slack.command(f"intros {text}".strip(), user=user, **kwargs))


def reply_text(reply) -> str:
    """A command's reply: its text and the text of all its blocks."""
    body = reply.json() if reply.body.startswith("{") else {"text": reply.body}
    return "\n".join([body.get("text", ""), *map(_block_text, body.get("blocks") or [])])


def _block_text(block: dict[str, Any]) -> str:
    if "text" in block:
        return block["text"]["text"]
    return " ".join(_text(element) for element in block.get("elements", []))


def _text(element: dict[str, Any]) -> str:
    text = element.get("text", "")
    return text if isinstance(text, str) else text.get("text", "")
