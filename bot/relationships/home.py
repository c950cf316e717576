"""The App Home tab: your relationships, your side and role, and where to start."""

from __future__ import annotations

from typing import Any

from bot.relationships.blocks import memberships_blocks
from bot.relationships.domain import Membership
from bot.slack.blocks import button, context


def home_view(memberships: list[Membership]) -> dict[str, Any]:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Rapport"}},
        context(
            "Keeps the informal relationship between a client and its provider alive: "
            "pulse feedback from both sides, check-ins that keep happening, and early "
            "warnings when talk turns formal."
        ),
        *memberships_blocks(memberships),
        {
            "type": "actions",
            "elements": [
                button("Set up a relationship", "open_setup", style="primary"),
                button("Help", "show_help"),
            ],
        },
    ]
    return {"type": "home", "blocks": blocks}
