"""Block Kit building blocks every feature's views share."""

from __future__ import annotations

from typing import Any

Blocks = list[dict[str, Any]]

STALE_BUTTON = "That button is out of date. Run the command again for a fresh one."


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def button(text: str, action_id: str, value: str = "", style: str | None = None) -> dict:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text[:75]},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element
