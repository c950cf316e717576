"""Block Kit and words for pulse surveys: usage, the prompt and reminder, the answer modals,
and the schedule, settings and questions texts (results: ``bot.pulse.results_blocks``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.pulse.prompts import RoundToSend
from bot.pulse.schedule import Schedule
from bot.slack import mrkdwn
from bot.slack.blocks import Blocks, button, context, section

SCORE_LABELS = {1: "very poorly", 2: "poorly", 3: "okay", 4: "well", 5: "very well"}
COMMENT_PROMPT = "What's one thing that would help?"
FEEDBACK_CALLBACK = "pulse_feedback"
COMMENT_CALLBACK = "pulse_comment"
CHANGE_ANSWER_ACTION = "pulse_change_answer"
SEND_NOW_ACTION = "pulse_send_now"  # a button doing /pulse send, valued with a relationship id
GIVE_FEEDBACK_ACTION = "pulse_give_feedback"  # a button doing /pulse (the feedback form)
STALE_BUTTON = "That button is out of date. `/pulse` lets you give feedback any time."
COMMENT_THANKS = "Thanks for your comment."
PICK_A_SCORE = "Pick a score from 1 to 5."

USAGE = """*Pulse: quick, anonymous feedback from both sides*
• `/pulse` — give feedback now (counts in the current or next round)
• `/pulse results` — how each side feels, the gaps, and the trend
• `/pulse schedule` — when the pulse goes out (owners also get an *Edit schedule* button)
• `/pulse help` — this list
*Owners*
• `/pulse schedule every 2 weeks on Tuesday at 10:00` — each person gets it at 10:00 \
in their own time zone (also `weekly on Monday at 9:30`, `monthly on the first Monday at 9:30`)
• `/pulse pause` / `/pulse resume` — for holidays and transitions: while paused nobody is \
asked or reminded
• `/pulse send` — open a round now
• `/pulse questions` — list; `/pulse questions add How is communication?`; \
`/pulse questions remove 2` (up to 5)
• `/pulse settings` — list; `/pulse settings min-group 4` (also `window 3`, `reminder 24`, \
`drop 0.5`, `gap 1.0`, `response 40`)
Add a relationship's name at the end if you're in several, e.g. `/pulse results Acme`."""


def usage_text(problem: str | None = None) -> str:
    return f"{problem}\n\n{USAGE}" if problem else USAGE


def when(instant: datetime) -> str:
    """A date Slack shows in the reader's own time zone."""
    fallback = instant.strftime("%a %d %b %H:%M UTC")
    return f"<!date^{int(instant.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


# ------------------------------------------------------------------------------- prompt


def prompt_text(pulse_round: RoundToSend) -> str:
    return (
        f"Quick pulse for {mrkdwn.escape(pulse_round.relationship_name)}: "
        f"{mrkdwn.escape(pulse_round.questions[0][1])} (1 = very poorly … 5 = very well)"
    )


def prompt_blocks(
    pulse_round: RoundToSend,
    scores: dict[int, int] | None = None,
    commented: bool = False,
    changing: int | None = None,
) -> Blocks:
    """The DM: each question with buttons 1–5; once answered, a thank-you showing the answer
    and a "Change my answer" button, which brings the buttons back (``changing``)."""
    scores = scores or {}
    blocks: Blocks = [
        section(
            f"*Quick pulse for {mrkdwn.escape(pulse_round.relationship_name)}* · "
            f"anonymous, open until {when(pulse_round.closes_at)}"
        )
    ]
    for key, question in pulse_round.questions:
        value = f"{pulse_round.round_id}:{key}"
        score = scores.get(key)
        if score is not None and key != changing:
            blocks.append(
                {
                    **section(
                        f"{mrkdwn.escape(question)}\n✅ Thanks! You answered "
                        f"*{score} — {SCORE_LABELS[score]}*."
                    ),
                    "accessory": button("Change my answer", CHANGE_ANSWER_ACTION, value),
                }
            )
        else:
            blocks.append(section(f"*{mrkdwn.escape(question)}*"))
            blocks.append(_score_buttons(value, chosen=score))
    if len(scores) < len(pulse_round.questions) or changing is not None:
        blocks.append(context("1 = very poorly · 2 = poorly · 3 = okay · 4 = well · 5 = very well"))
    comment = "Change your comment" if commented else "Add a comment"
    blocks.append(
        {
            "type": "actions",
            "elements": [button(comment, "pulse_comment", str(pulse_round.round_id))],
        }
    )
    return blocks


def _score_buttons(value: str, chosen: int | None = None) -> dict[str, Any]:
    return {
        "type": "actions",
        "elements": [
            button(str(n), f"pulse_answer_{n}", value, style="primary" if n == chosen else None)
            for n in range(1, 6)
        ],
    }


def answered_text(scores: dict[int, int]) -> str:
    given = ", ".join(f"{s} — {SCORE_LABELS[s]}" for s in scores.values())
    return f"Thanks! Your answer: {given}."


def reminder_text(pulse_round: RoundToSend) -> str:
    return (
        f"A gentle nudge: the pulse for {mrkdwn.escape(pulse_round.relationship_name)} closes "
        f"{when(pulse_round.closes_at)}. One click above is enough, and it stays anonymous."
    )


CLOSED_TEXT = "This round has closed"


# ------------------------------------------------------------------------------- modals


def _score_select() -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": "score",
        "label": {"type": "plain_text", "text": "Your score"},
        "element": {
            "type": "radio_buttons",
            "action_id": "value",
            "options": [
                {"text": {"type": "plain_text", "text": f"{n} — {label}"}, "value": str(n)}
                for n, label in SCORE_LABELS.items()
            ],
        },
    }


def _comment_input(optional: bool) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": "comment",
        "optional": optional,
        "label": {"type": "plain_text", "text": COMMENT_PROMPT},
        "element": {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": True,
            "max_length": 2000,
        },
    }


def feedback_modal(relationship_id: int, relationship_name: str, question: str) -> dict:
    return {
        "type": "modal",
        "callback_id": FEEDBACK_CALLBACK,
        "private_metadata": str(relationship_id),
        "title": {"type": "plain_text", "text": "Pulse"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(f"*{mrkdwn.escape(relationship_name)}*\n{mrkdwn.escape(question)}"),
            _score_select(),
            _comment_input(optional=True),
            context("Anonymous: results only show groups of several people, never names."),
        ],
    }


def comment_modal(round_id: int, channel: str, ts: str) -> dict:
    return {
        "type": "modal",
        "callback_id": COMMENT_CALLBACK,
        "private_metadata": json.dumps({"round": round_id, "channel": channel, "ts": ts}),
        "title": {"type": "plain_text", "text": "Add a comment"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _comment_input(optional=False),
            context("Shown to owners without your name, and only once enough people answered."),
        ],
    }


def thanks_modal(relationship_name: str) -> dict:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Pulse"},
        "close": {"type": "plain_text", "text": "Done"},
        "blocks": [
            section(
                f"Thanks! Your feedback on *{mrkdwn.escape(relationship_name)}* is in, anonymously."
            )
        ],
    }


# ----------------------------------------------------------------------------- schedule


def schedule_text(name: str, schedule: Schedule) -> str:
    title = f"*Pulse for {mrkdwn.escape(name)}*"
    if schedule.paused:
        state = "⏸ Paused. `/pulse resume` starts it again."
    else:
        next_day = (
            schedule.next_round_day.strftime("%a %d %b %Y") if schedule.next_round_day else "—"
        )
        state = f"Next round: {next_day}."
    return (
        f"{title}: {schedule.cadence.describe()}, in each person's own time zone. {state}\n"
        f"Open for {schedule.window_days} days; a reminder {schedule.reminder_hours} hours "
        f"before it closes to those who haven't answered. Results show groups of at least "
        f"{schedule.min_group}."
    )


def schedule_set_text(name: str, schedule: Schedule) -> str:
    return "Done. " + schedule_text(name, schedule)


def paused_text(name: str, paused: bool) -> str:
    """``/pulse pause``: ``paused`` now, or it already was."""
    if paused:
        return f"⏸ Pulse for *{mrkdwn.escape(name)}* is paused. `/pulse resume` starts it again."
    return f"Pulse for *{mrkdwn.escape(name)}* was already paused."


def resumed_text(name: str, schedule: Schedule | None) -> str:
    """``/pulse resume``: back on ``schedule``, or None when it wasn't paused."""
    if schedule is None:
        return f"Pulse for *{mrkdwn.escape(name)}* isn't paused."
    return "▶️ Pulse is back on. " + schedule_text(name, schedule)


def round_opened_text(name: str, people: int, closes_at: datetime) -> str:
    return (
        f"A pulse round for *{mrkdwn.escape(name)}* is open: I'm sending it to {people} people "
        f"within a minute. It closes {when(closes_at)}."
    )


def setting_changed_text(name: str, setting: str, value: str) -> str:
    return f"Done: `{mrkdwn.escape(setting)}` is now {value} for *{mrkdwn.escape(name)}*."


def settings_text(name: str, schedule: Schedule) -> str:
    return (
        f"*Pulse settings for {mrkdwn.escape(name)}*\n"
        f"• `min-group` {schedule.min_group} answers\n"
        f"• `window` {schedule.window_days} days\n"
        f"• `reminder` {schedule.reminder_hours} hours before the close\n"
        f"• `drop` alert when a side's average drops by {schedule.drop_alert:g}\n"
        f"• `gap` alert when the client–provider gap reaches {schedule.gap_alert:g}\n"
        f"• `response` alert when a side's response rate is under "
        f"{schedule.response_alert * 100:g}%\n"
        "Change one with e.g. `/pulse settings min-group 4`."
    )


def questions_text(name: str, questions: list[tuple[int, str]]) -> str:
    lines = [f"{n}. {mrkdwn.escape(text)}" for n, (_, text) in enumerate(questions, start=1)]
    return (
        f"*Pulse questions for {mrkdwn.escape(name)}*\n"
        + "\n".join(lines)
        + "\nOwners: `/pulse questions add <question>`, `/pulse questions remove <number>`."
    )


def question_added_text(name: str, questions: list[tuple[int, str]]) -> str:
    return "Added. New rounds ask these:\n" + questions_text(name, questions)


def question_removed_text(removed: str, name: str, questions: list[tuple[int, str]]) -> str:
    return f"Removed “{mrkdwn.escape(removed)}”.\n" + questions_text(name, questions)
