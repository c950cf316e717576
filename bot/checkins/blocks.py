"""Block Kit and words for check-ins: replies, reminders, follow-ups, lapse alerts."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.checkins.commands import CheckInView
from bot.checkins.history import History
from bot.checkins.occurrences import OccurrenceFacts
from bot.checkins.parser import USAGE, reminders_text
from bot.checkins.schedule import FollowUp, Lapse, Reminder
from bot.core.figures import percent_text
from bot.slack import mrkdwn
from bot.slack.blocks import MESSAGE_BLOCKS, button, context, section, sections

Blocks = list[dict[str, Any]]

NEW_ACTION = "checkin_new"  # a button doing /checkin new, valued with a relationship id

HELP_TEXT = (
    "*Check-ins keep the rhythm after go-live.* I remind people before each one, ask "
    "afterwards whether it happened, and tell the owners when the rhythm lapses.\n"
    + "\n".join(f"• {line}" for line in USAGE.values())
    + "\nSchedules look like `weekly tue 10:00`, `every 2 weeks thu 14:30`, "
    "`monthly first monday 09:30` or `cron 0 9 * * 1`."
)

OUTCOME_WORDS = {
    "held": "✅ held",
    "skipped": "⏭️ skipped",
    "rescheduled": "🔁 rescheduled",
    "unknown": "❔ unknown",
}


def when(instant: datetime, tz: str) -> str:
    """E.g. "Tue 3 Mar, 10:00 (Europe/London)"."""
    local = instant.astimezone(ZoneInfo(tz))
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M} ({tz})"


def created_text(view: CheckInView, viewer_tz: str | None = None) -> str:
    tz = viewer_tz or view.tz
    upcoming = f" Next one: {when(view.next_start, tz)}." if view.next_start else ""
    if view.next_skipped_reason:
        upcoming += f" It stays skipped: {mrkdwn.escape(view.next_skipped_reason)}."
    if view.lifted_skip:
        upcoming += (
            f" The skip of {when(view.lifted_skip, tz)} no longer applies: the new schedule "
            "moved it. `/checkin skip` skips the next one again."
        )
    return (
        f"Check-in *{mrkdwn.escape(view.title)}* saved: {mrkdwn.escape(view.schedule)}, "
        f"with {mrkdwn.people(view.participants)}.{upcoming} "
        f"I'll remind everyone {reminders_text(view.reminders)} before."
    )


def saved_text(view: CheckInView, channel_note: str | None) -> str:
    """The DM confirming a check-in saved from the modal, with any step left for its channel."""
    text = created_text(view)
    return f"{text}\n{channel_note}" if channel_note else text


def invite_note(channel_id: str) -> str:
    return (
        f"One more step: type `/invite @Rapport` in {mrkdwn.channel(channel_id)} so I can "
        "post the reminders there."
    )


def removed_text(title: str) -> str:
    return f"Removed the check-in *{mrkdwn.escape(title)}*."


def skipped_text(title: str, start: datetime, tz: str) -> str:
    return (
        f"Skipping *{mrkdwn.escape(title)}* on {when(start, tz)}: no reminders for that one. "
        "The one after goes ahead as usual."
    )


def rsvp_text(title: str, attending: bool) -> str:
    answer = "you'll be there" if attending else "you can't make it"
    return f"Thanks, noted that {answer} for *{mrkdwn.escape(title)}*."


def list_title(relationship: str) -> str:
    return f"Check-ins of {mrkdwn.escape(relationship)}"


def history_title(relationship: str) -> str:
    return f"Check-in history of {mrkdwn.escape(relationship)}"


def list_blocks(relationship: str, views: list[CheckInView], viewer_tz: str) -> Blocks:
    if not views:
        return [
            section(
                f"*{mrkdwn.escape(relationship)}* has no check-ins yet. "
                f"Add one: {USAGE['add']} or `/checkin new`."
            )
        ]
    entries = []
    for view in views:
        upcoming = when(view.next_start, viewer_tz) if view.next_start else "not planned"
        if view.next_skipped_reason:
            upcoming += f" — skipped: {mrkdwn.escape(view.next_skipped_reason)}"
        channel = f" · in {mrkdwn.channel(view.channel_id)}" if view.channel_id else ""
        entries.append(
            f"*{view.number}. {mrkdwn.escape(view.title)}* — {mrkdwn.escape(view.schedule)}"
            f"\nNext: {upcoming}\nWith {mrkdwn.people(view.participants)}{channel}"
        )
    return [
        section(f"*Check-ins of {mrkdwn.escape(relationship)}*"),
        *sections(entries, MESSAGE_BLOCKS - 2, joiner="\n\n", what="more check-ins"),
        context("`/checkin edit <number>` · `/checkin skip <number> <reason>`"),
    ]


def _percent(held: int, scheduled: int) -> str:
    return f"{percent_text(held / scheduled)} ({held} of {scheduled})" if scheduled else "—"


def history_blocks(report: History) -> Blocks:
    blocks: Blocks = [
        section(
            f"*Check-in history of {mrkdwn.escape(report.relationship)}*\n"
            f"Adherence over the last 8 weeks: {_percent(report.held, report.scheduled)}"
        )
    ]
    if report.adherence:
        blocks.append(
            section(
                "\n".join(
                    f"• *{mrkdwn.escape(item.title)}*: {_percent(item.held, item.scheduled)}, "
                    f"streak {item.streak}"
                    for item in report.adherence
                )
            )
        )
    if not report.recent:
        blocks.append(context("No check-in has taken place yet."))
        return blocks
    lines = []
    for item in report.recent:
        line = (
            f"• {when(item.starts_at, item.tz)} *{mrkdwn.escape(item.title)}*: "
            f"{OUTCOME_WORDS[item.outcome]}"
        )
        if item.reason:
            line += f" — {mrkdwn.escape(item.reason)}"
        if item.note:
            line += f"\n    _{mrkdwn.escape(item.note)}_"
        lines.append(line)
    blocks.append(section("\n".join(lines)))
    blocks.append(context("Unanswered follow-ups count as unknown, not as held."))
    return blocks


def starts_in(start: datetime, now: datetime, tz: str) -> str:
    """How soon ``start`` is from ``now``, on the clock and calendar of ``tz``: "in 15
    minutes, at 10:00 (Tue 3 Mar, Europe/London)", "today at 10:00 (…)", "tomorrow at
    10:00 (…)", "in 6 days, at 10:00 (…)". Counted from the time actually left, so a
    reminder sent late never says "tomorrow" an hour before."""
    local, today = start.astimezone(ZoneInfo(tz)), now.astimezone(ZoneInfo(tz)).date()
    minutes = math.ceil((start - now).total_seconds() / 60)
    days = (local.date() - today).days
    if minutes < 60:
        relative = f"in {minutes} minute{'s' if minutes != 1 else ''},"
    elif days == 0:
        relative = "today"
    elif days == 1:
        relative = "tomorrow"
    else:
        relative = f"in {days} days,"
    return f"{relative} at {local:%H:%M} ({local:%a} {local.day} {local:%b}, {tz})"


def reminder_message(reminder: Reminder, tz: str) -> tuple[str, Blocks]:
    facts = reminder.facts
    title = mrkdwn.escape(facts.title)
    soon = starts_in(facts.starts_at, reminder.now, tz)
    text = f"Reminder: {facts.title} {soon}"
    coming = f"Coming: {mrkdwn.people(reminder.coming)}" if reminder.coming else "No answers yet"
    if reminder.not_coming:
        coming += f" · can't make it: {mrkdwn.people(reminder.not_coming)}"
    blocks: Blocks = [
        section(f"🗓️ *{title}* {soon}\nWith {mrkdwn.people(facts.participants)}"),
        context(coming),
        rsvp_buttons(facts.occurrence_id),
    ]
    return mrkdwn.escape(text), blocks


def rsvp_buttons(occurrence_id: int) -> dict[str, Any]:
    """*I'll be there* / *Can't make it*, wherever a coming check-in shows (reminder, Home)."""
    return {
        "type": "actions",
        "elements": [
            button("I'll be there", "checkin_rsvp_yes", str(occurrence_id), "primary"),
            button("Can't make it", "checkin_rsvp_no", str(occurrence_id)),
        ],
    }


def follow_up_message(follow_up: FollowUp) -> tuple[str, Blocks]:
    facts = follow_up.facts
    title = mrkdwn.escape(facts.title)
    value = str(facts.occurrence_id)
    return f"Did {title} happen?", [
        section(f"Did *{title}* happen ({when(facts.starts_at, facts.tz)})?"),
        {
            "type": "actions",
            "elements": [
                button("Held", "checkin_outcome_held", value, "primary"),
                button("Skipped", "checkin_outcome_skipped", value),
                button("Rescheduled", "checkin_outcome_rescheduled", value),
            ],
        },
        context("You can add a short note next; participants will see it in `/checkin history`."),
    ]


def lapse_message(lapse: Lapse) -> tuple[str, Blocks]:
    name = mrkdwn.escape(lapse.relationship)
    title = mrkdwn.escape(lapse.title or "")
    if lapse.kind == "in-a-row":
        text = (
            f"*{title}* ({name}) hasn't been confirmed as held {lapse.count} times in a row. "
            "Check-ins often fade quietly after go-live; a short informal catch-up helps."
        )
    elif lapse.kind == "quiet":
        text = (
            f"No check-in of *{name}* has been held for {lapse.count} weeks. "
            "This is when relationships drift apart: worth a call between the owners."
        )
    else:
        text = (
            f"*{title}* ({name}) was stretched from {mrkdwn.escape(lapse.before or '')} to "
            f"{mrkdwn.escape(lapse.after or '')}. Fewer check-ins is how the honeymoon fizzles "
            "out; consider an informal catch-up in between."
        )
    blocks: Blocks = [
        section(f"⚠️ {text}"),
        {
            "type": "actions",
            "elements": [
                button(
                    "Schedule an informal catch-up",
                    "schedule_catch_up",
                    str(lapse.relationship_id),
                    "primary",
                )
            ],
        },
    ]
    plain = text.replace("*", "")
    return plain, blocks


def answered_blocks(original: Blocks, note: str) -> Blocks:
    """The message with its buttons replaced by who answered what."""
    kept = [block for block in original if block.get("type") != "actions"]
    return [*kept, context(note)]


def outcome_note(facts: OccurrenceFacts, user_id: str) -> str:
    return f"{mrkdwn.user(user_id)} said: {OUTCOME_WORDS[facts.outcome or 'unknown']}."
