"""Drift alert messages: a headline, the figures, the cues, a link — never the message text."""

from __future__ import annotations

from typing import Any

from bot.core.figures import decimal_text
from bot.drift.alerts import AlertNotice, NotDrift
from bot.drift.domain import DEFAULT_THRESHOLD, Assessment
from bot.drift.retention import Excerpt
from bot.drift.settings import MAX_WORDS, THRESHOLDS, WordsOverview
from bot.relationships.models import Side
from bot.slack import mrkdwn
from bot.slack.blocks import Blocks, button, context, section

LIST_CHARS = 2_500  # of words in one reply: under the 3,000 Slack shows in a section
TRY_ECHO_CHARS = 300  # of a tried message shown back
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
            f"({days} days) read as formal or cold, "
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
    if notice.tone:
        lines.append(f"Sounds like: {notice.tone}")
    if notice.message_ts:
        lines.append(f"<{message_link(notice.channel_id, notice.message_ts)}|See the message>")
    blocks: Blocks = [
        section("\n".join(lines)),
        context(NEXT_STEP),
        alert_buttons(notice.relationship_id, notice.alert_id),
    ]
    return f"{title} ({mrkdwn.escape(notice.relationship_name)})", blocks


def alert_buttons(relationship_id: int, alert_id: int) -> dict[str, Any]:
    """What an owner can do about an alert, wherever it shows (its message, App Home)."""
    return {
        "type": "actions",
        "elements": [
            button(
                "Schedule an informal catch-up",
                "schedule_catch_up",
                str(relationship_id),
                style="primary",
            ),
            button("Acknowledge", "drift_acknowledge", str(alert_id)),
            button("Not drift", "drift_not_drift", str(alert_id)),
        ],
    }


def not_drift_note(user_id: str, changed: NotDrift) -> str:
    """Who said "Not drift" on an alert, and what it changed for the relationship."""
    changes = []
    if changed.calmed:
        changes.append("those cues will count for less")
    if changed.eases_score:
        changes.append("drift scores will be a little less eager")
    said = f"{mrkdwn.user(user_id)} marked this as not drift"
    return f"{said}: {' and '.join(changes)} in this relationship." if changes else f"{said}."


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
    lines.append(
        f"• owners' “Not drift” answers: {settings['feedback']} (a message counts as formal "
        f"from a model score of {settings['formal_bar']}; each answer raises it a little, "
        f"to {settings['highest_bar']} at most)"
    )
    lines += [
        f"• `{key}` {settings[key]} — {threshold.meaning}" for key, threshold in THRESHOLDS.items()
    ]
    lines.append(words_text(words))
    return "\n".join(lines)


def kind_title(kind: str, label: str) -> str:
    """A kind as people see it: the name commands take, and its label when that says more.

    >>> kind_title("sla_penalty", "SLA / penalty"), kind_title("escalation", "escalation")
    ('`sla_penalty` (SLA / penalty)', '`escalation`')
    """
    name = f"`{kind}`"
    return name if label == kind.replace("_", " ") else f"{name} ({mrkdwn.escape(label)})"


def _pages(items: list[str], chars: int = LIST_CHARS) -> list[list[str]]:
    """``items`` cut into pages of at most ``chars`` characters, joined with commas."""
    cut: list[list[str]] = [[]]
    used = 0
    for item in items:
        if cut[-1] and used + len(item) + 2 > chars:
            cut.append([])
            used = 0
        cut[-1].append(item)
        used += len(item) + 2
    return cut


def _summary(items: list[str], more: str) -> str:
    """The first page of ``items`` (safe mrkdwn), then how many more there are."""
    shown = _pages(items)[0]
    left_out = f" … and {len(items) - len(shown)} more{more}" if len(shown) < len(items) else ""
    return ", ".join(shown) + left_out


def _quoted(word: str) -> str:
    return f"“{mrkdwn.escape(word)}”"


def words_text(words: WordsOverview, page: int = 1) -> str:
    """Owners' changes and counts, or one page of a kind's words: always short enough for
    a Slack message, however many words are stored."""
    if words.kind:
        kind_pages = _pages([_quoted(word) for word in words.kind_words])
        page = min(page, len(kind_pages))
        title = kind_title(words.kind, words.labels.get(words.kind, words.kind))
        text = f"*{title}* cues ({len(words.kind_words)}): " + ", ".join(kind_pages[page - 1])
        if len(kind_pages) > 1:
            text += f"\nPage {page} of {len(kind_pages)}."
            if page < len(kind_pages):
                text += f" `/rapport drift words list {words.kind} {page + 1}` shows the next."
        return text
    counts = ", ".join(
        f"{kind_title(name, words.labels.get(name, name))} {count}"
        for name, count in words.counts.items()
    )
    lines = [f"*Cue words in force:* {counts}"]
    more = " (`/rapport drift words list <kind>` shows a kind's)"
    for title, changes in (("Added by owners", words.added), ("Switched off", words.removed)):
        if changes:
            items = [f"{kind}: {_quoted(phrase)}" for kind, phrase in changes]
            lines.append(f"*{title} ({len(items)}):* " + _summary(items, more))
    lines.append("`/rapport drift words list <kind>` shows every word of a kind.")
    return "\n".join(lines)


def words_left_text(left: int) -> str:
    if left <= 0:
        return f"That was the last of the {MAX_WORDS} words a relationship can add."
    return f"{left} more {'word' if left == 1 else 'words'} can be added."


def try_text(name: str, message: str, assessment: Assessment) -> str:
    """What a tried message scores in a relationship and why, in cue words (which
    `drift words remove` takes), the message shown back escaped."""
    typed = mrkdwn.unescape(message)
    if len(typed) > TRY_ECHO_CHARS:
        typed = typed[: TRY_ECHO_CHARS - 1] + "…"
    shown = mrkdwn.escape(typed)
    verdict = "counts as formal" if assessment.is_formal else "doesn't count as formal"
    lines = [
        f"*{mrkdwn.escape(name)}* would score “{shown}” {assessment.score:.2f}: {verdict} "
        f"(formal from {DEFAULT_THRESHOLD:.2f})."
    ]
    for title, cues in (("Cues", assessment.cues), ("Negated, not counted", assessment.negated)):
        by_kind: dict[str, dict[str, None]] = {}
        for cue in cues:
            by_kind.setdefault(kind_title(cue.kind, cue.label), {})[_quoted(cue.word)] = None
        if by_kind:
            lines.append(
                f"{title}: " + "; ".join(f"{k} {', '.join(w)}" for k, w in by_kind.items())
            )
    if assessment.unexplained_tone:
        lines.append(f"Sounds like: {assessment.unexplained_tone}.")
    if assessment.dampeners:
        lines.append(f"Softened by: {', '.join(assessment.dampeners)}.")
    lines.append("Nothing was stored. `/rapport drift words add|remove <kind> <words>` tunes it.")
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
