"""Drift alert messages: a headline, the figures, the cues, a link — never the message text."""

from __future__ import annotations

from typing import Any

from bot import mrkdwn
from bot.blocks import Blocks, button, context, section
from bot.drift_alerts import AlertNotice
from bot.drift_settings import THRESHOLDS, WordsOverview
from bot.drift_signals import Excerpt
from bot.figures import decimal_text
from bot.models import Side

NEXT_STEP = "A quick informal call usually does more than another formal reply."


def message_link(channel_id: str, ts: str) -> str:
    return f"https://slack.com/archives/{channel_id}/p{ts.replace('.', '')}"


def headline(notice: AlertNotice) -> str:
    channel = mrkdwn.channel(notice.channel_id)
    rising = notice.figures.formal > notice.figures.formal_before
    return {
        "formal_tone": f"Formal tone {'rising' if rising else 'still high'} in {channel}",
        "unanswered": f"Formal requests going unanswered in {channel}",
        "one_way": f"One-way traffic in {channel}",
    }[notice.kind]


def trend(now: int, before: int) -> str:
    """How a figure compares with the previous window: "up from 1", "down from 5", …"""
    if now == before:
        return "the same as"
    return f"{'up' if now > before else 'down'} from {before}"


def figures_text(notice: AlertNotice) -> str:
    figures, days = notice.figures, notice.window_days
    if notice.kind == "formal_tone":
        text = (
            f"{figures.formal} of the last {figures.messages} messages "
            f"({days} days) cite the contract, scope or formal process, "
            f"{trend(figures.formal, figures.formal_before)} the {days} days before."
        )
        if figures.unanswered:
            text += (
                f" {figures.unanswered} formal requests have had no reply for over "
                f"{notice.unanswered_hours} hours."
            )
        return text
    if notice.kind == "unanswered":
        return (
            f"{figures.unanswered} formal messages have had no reply from the other side "
            f"for over {notice.unanswered_hours} hours."
        )
    client = figures.by_side.get(Side.CLIENT.value, 0)
    provider = figures.by_side.get(Side.PROVIDER.value, 0)
    talking, silent = ("client", "provider") if client > provider else ("provider", "client")
    return (
        f"{max(client, provider)} messages from the {talking} side in the last {days} days, "
        f"and none from the {silent} side."
    )


def alert_message(notice: AlertNotice) -> tuple[str, Blocks]:
    title = headline(notice)
    lines = [f":warning: *{title}* — *{mrkdwn.escape(notice.relationship_name)}*"]
    lines.append(figures_text(notice))
    if notice.cues:
        lines.append("Cues: " + ", ".join(mrkdwn.escape(cue) for cue in notice.cues[:6]))
    if notice.message_ts:
        lines.append(f"<{message_link(notice.channel_id, notice.message_ts)}|See the message>")
    blocks: Blocks = [
        section("\n".join(lines)),
        context(NEXT_STEP),
        {
            "type": "actions",
            "elements": [
                button(
                    "Schedule an informal catch-up",
                    "schedule_catch_up",
                    str(notice.relationship_id),
                    style="primary",
                ),
                button("Acknowledge", "drift_acknowledge", str(notice.alert_id)),
                button("Not drift", "drift_not_drift", str(notice.alert_id)),
            ],
        },
    ]
    return f"{title} ({notice.relationship_name})", blocks


def answered_blocks(original: list[dict[str, Any]], note: str) -> Blocks:
    """The alert with its buttons replaced by who did what."""
    kept = [block for block in original if block.get("type") != "actions"]
    return [*kept, context(note)]


def settings_text(name: str, settings: dict[str, str], words: WordsOverview) -> str:
    lines = [f"*Drift alerts for {mrkdwn.escape(name)}*"]
    lines.append(
        f"• nudge: {settings['nudge']} (a private note to the author of a very formal message)"
    )
    lines.append(f"• other bots' messages: {settings['bots']}")
    lines += [
        f"• `{key}` {settings[key]} — {threshold.meaning}" for key, threshold in THRESHOLDS.items()
    ]
    lines.append(words_text(words))
    return "\n".join(lines)


def words_text(words: WordsOverview) -> str:
    if words.kind:
        shown = ", ".join(f"“{mrkdwn.escape(word)}”" for word in words.kind_words[:150])
        return f"*{words.kind}* cues ({len(words.kind_words)}): {shown}"
    counts = ", ".join(f"{name} {count}" for name, count in words.counts.items())
    lines = [f"*Cue words in force:* {counts}"]
    if words.added:
        lines.append(
            "*Added by owners:* "
            + ", ".join(f"{kind}: “{mrkdwn.escape(phrase)}”" for kind, phrase in words.added)
        )
    if words.removed:
        lines.append(
            "*Switched off:* "
            + ", ".join(f"{kind}: “{mrkdwn.escape(phrase)}”" for kind, phrase in words.removed)
        )
    lines.append("`/rapport drift words list <kind>` shows every word of a kind.")
    return "\n".join(lines)


def excerpts_text(name: str, excerpts: list[Excerpt]) -> str:
    if not excerpts:
        return (
            f"No excerpts are kept for *{mrkdwn.escape(name)}*. Owners can keep the first 140 "
            "characters of formal messages for a few days with "
            "`/rapport drift set excerpt-days 7` (0 switches it off and deletes them)."
        )
    lines = [f"*Recent formal messages in {mrkdwn.escape(name)}* (owners only)"]
    for excerpt in excerpts:
        link = message_link(excerpt.channel_id, excerpt.message_ts)
        lines.append(
            f"• {excerpt.side}, {decimal_text(excerpt.score, 2)} <{link}|↗> "
            f"“{mrkdwn.escape(excerpt.text)}”"
        )
    return "\n".join(lines)
