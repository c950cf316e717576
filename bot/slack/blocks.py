"""Block Kit building blocks every feature's views share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.slack.mrkdwn import escape

Blocks = list[dict[str, Any]]
SECTION_TEXT = 3000  # Slack refuses a section whose text is longer
SECTION_LIMIT = SECTION_TEXT - 100  # what a text cut to fit a section is cut to, with a margin
MESSAGE_BLOCKS = 50  # ... and a message of more blocks

STALE_BUTTON = "That button is out of date. Run the command again for a fresh one."
# Slack lets a form open for 3 s after the command or click: past that it refuses
FORM_TOO_LATE = "That form couldn't be opened in time (Slack allows 3 seconds). Please try again."
FORM_BUSY = (
    "Rapport is very busy right now, so that form wouldn't open in time. "
    "Please try again in a few seconds."
)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def sections(items: Sequence[str], most: int, joiner: str = "\n", what: str = "more") -> Blocks:
    """``items`` (mrkdwn, in order) in as few sections as hold them within Slack's limit,
    ``joiner`` between two in a section, and at most ``most`` sections: the items left out
    are counted at the end ("… and 12 more"). An item too long for a section on its own is
    cut at a space."""
    packs: list[list[str]] = []
    for item in (_cut(item, SECTION_TEXT) for item in items):
        if packs and len(joiner.join([*packs[-1], item])) <= SECTION_TEXT:
            packs[-1].append(item)
        else:
            packs.append([item])
    kept = packs[:most]
    left_out = sum(len(pack) for pack in packs[most:])
    if left_out:
        last = kept[-1]
        while last and len(joiner.join([*last, f"… and {left_out} {what}"])) > SECTION_TEXT:
            last.pop()
            left_out += 1
        last.append(f"… and {left_out} {what}")
    return [section(joiner.join(pack)) for pack in kept]


def _cut(text: str, longest: int) -> str:
    if len(text) <= longest:
        return text
    return text[: longest - 1].rsplit(" ", 1)[0] + "…"


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


ALT_TEXT_LIMIT = 2000  # Slack's limit for an image's alt_text


def picture(file_id: str | None, alt_text: str, title: str | None = None) -> dict[str, Any]:
    """An image block showing an uploaded file (``bot.slack.files``), or, with no file (its
    upload failed), its alt text as a section, so the figures still reach the reader."""
    if file_id is None:
        return section(escape(alt_text))
    block: dict[str, Any] = {
        "type": "image",
        "slack_file": {"id": file_id},
        "alt_text": alt_text[:ALT_TEXT_LIMIT],
    }
    if title:
        block["title"] = {"type": "plain_text", "text": title[:ALT_TEXT_LIMIT]}
    return block
