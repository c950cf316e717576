"""``/checkin …`` text into commands, and the usage lines and examples it answers with.

Problems raise ``UsageError`` (or ``CadenceError``) whose message says how to fix them.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.core.cadence import Cadence, CadenceError, parse_cadence
from bot.core.time_input import parse_duration, parse_timezone
from bot.relationships.domain import RapportError
from bot.slack import mrkdwn

DEFAULT_REMINDERS = (24 * 60, 15)  # minutes before the start
DEFAULT_DURATION = timedelta(minutes=30)
TITLE_MAX = 80
REASON_MAX = 200
MAX_REMINDER = timedelta(days=14)

_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")

USAGE = {
    "help": "`/checkin help`",
    "add": '`/checkin add "Ops catch-up" weekly tue 10:00 @alice @bob '
    "[tz Europe/London] [for 30m] [in #channel] [remind 1d,15m] [from 2026-04-07]`",
    "new": "`/checkin new`",
    "list": "`/checkin list`",
    "edit": "`/checkin edit <number|title>`",
    "remove": "`/checkin remove <number|title>`",
    "skip": "`/checkin skip <number|title> <reason>`",
    "history": "`/checkin history`",
}
ADD_EXAMPLES = (
    '`/checkin add "Ops catch-up" weekly tue 10:00 @alice @bob`',
    '`/checkin add "Steering committee" monthly first monday 09:30 @carl @pat '
    "tz Europe/London for 1h in #acme-stellar`",
    '`/checkin add "Coffee" every 2 weeks thu 15:00 @priya`',
)


class UsageError(RapportError):
    """A command that can't be understood; the message says how to fix it."""


def usage(action: str, problem: str) -> UsageError:
    return UsageError(f"{problem}\nUsage: {USAGE[action]}")


@dataclass(frozen=True)
class CheckInDraft:
    """What ``/checkin add`` or the modal collects; ``tz`` None = the creator's own."""

    title: str
    cadence: Cadence
    participants: tuple[str, ...]
    tz: str | None = None
    duration: timedelta = DEFAULT_DURATION
    channel_id: str | None = None
    reminders: tuple[int, ...] = DEFAULT_REMINDERS  # minutes before
    starts_on: date | None = None  # no occurrence before this local date


@dataclass(frozen=True)
class CheckInCommand:
    action: str
    ref: str | None = None  # "2" or a title
    reason: str | None = None
    draft: CheckInDraft | None = None


def _tokens(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def parse_command(text: str) -> CheckInCommand:
    """``/checkin …`` text → command; raises UsageError or CadenceError with examples."""
    tokens = _tokens(text.strip())
    if not tokens:
        return CheckInCommand("help")
    action, rest = tokens[0].lower(), tokens[1:]
    if action in ("help", "new", "list", "history"):
        return CheckInCommand(action)
    if action == "add":
        return CheckInCommand("add", draft=parse_add(rest))
    if action in ("edit", "remove"):
        if not rest:
            raise usage(action, "Which check-in? Give its number from `/checkin list` or title.")
        return CheckInCommand(action, ref=mrkdwn.unescape(" ".join(rest)))
    if action == "skip":
        if len(rest) < 2:
            raise usage("skip", "Say which check-in and why, e.g. `/checkin skip 1 Bank holiday`.")
        reason = mrkdwn.unescape(" ".join(rest[1:]))[:REASON_MAX]
        return CheckInCommand("skip", ref=mrkdwn.unescape(rest[0]), reason=reason)
    raise UsageError(
        f"I don't know `/checkin {mrkdwn.echo(tokens[0])}`. Try:\n"
        + "\n".join(f"• {line}" for line in USAGE.values())
    )


def parse_add(tokens: list[str]) -> CheckInDraft:
    if not tokens or _USER.match(tokens[0]):
        raise UsageError(
            "Give the check-in a title in quotes, then when and who. For example:\n"
            + "\n".join(f"• {example}" for example in ADD_EXAMPLES)
        )
    title = " ".join(mrkdwn.unescape(tokens[0]).split())
    if len(title) > TITLE_MAX:
        raise UsageError(f"Keep the title under {TITLE_MAX} characters.")
    people, schedule, options = _add_words(tokens[1:])
    if not schedule:
        raise CadenceError(
            "When should it happen? For example `weekly tue 10:00`, "
            "`every 2 weeks thu 14:30` or `monthly first monday 09:30`."
        )
    cadence = parse_cadence(" ".join(schedule))
    duration = options.get("duration", DEFAULT_DURATION)
    if duration <= timedelta(0) or duration > timedelta(hours=12):
        raise UsageError("A check-in lasts between a minute and 12 hours, e.g. `for 30m`.")
    return CheckInDraft(title, cadence, tuple(dict.fromkeys(people)), **options)


def _add_words(tokens: list[str]) -> tuple[list[str], list[str], dict[str, Any]]:
    """The words after ``add``'s title: people, schedule words, and the options given by a
    keyword (``tz``, ``for``, ``remind``, ``from``, ``in``) as ``CheckInDraft`` fields."""
    people: list[str] = []
    schedule: list[str] = []
    options: dict[str, Any] = {}
    words = iter(tokens)
    for token in words:
        lowered = token.lower()
        if match := _USER.match(token):
            people.append(match[1])
        elif lowered == "tz":
            name = next(words, "")
            options["tz"] = parse_timezone(name).key if name else None
            if options["tz"] is None:
                raise usage("add", "Say which time zone after `tz`, e.g. `tz Europe/London`.")
        elif lowered == "for":
            options["duration"] = parse_duration(next(words, ""))
        elif lowered == "remind":
            options["reminders"] = parse_reminders(next(words, ""))
        elif lowered in ("from", "starting"):
            options["starts_on"] = parse_start_date(next(words, ""))
        elif lowered == "in":
            target = next(words, "")
            if not (match := _CHANNEL.match(target)):
                raise usage("add", "Pick the channel after `in` from Slack's list, e.g. `in #ops`.")
            options["channel_id"] = match[1]
        elif token.startswith("@"):
            raise usage(
                "add",
                f"I can't tell who {mrkdwn.escape(token)} is. Pick people from Slack's list "
                "as you type @.",
            )
        else:
            schedule.append(token)
    return people, schedule, options


def parse_reminders(text: str) -> tuple[int, ...]:
    """ "1d,15m" → (1440, 15): minutes before the start, largest first."""
    try:
        offsets = [parse_duration(part) for part in text.split(",") if part.strip()]
    except CadenceError as error:
        raise UsageError(f"{error}\nReminders look like `remind 1d,15m` or `remind 2h`.") from error
    if not offsets or not 1 <= len(offsets) <= 3:
        raise UsageError("Give one to three reminder times, e.g. `remind 1d,15m`.")
    if any(o < timedelta(minutes=1) or o > MAX_REMINDER for o in offsets):
        raise UsageError("Reminders go from a minute to 14 days before, e.g. `remind 1d,15m`.")
    return tuple(sorted({int(o.total_seconds() // 60) for o in offsets}, reverse=True))


def reminders_text(minutes: tuple[int, ...]) -> str:
    """(1440, 15) → "1d, 15m" (what ``parse_reminders`` reads back)."""
    parts = []
    for value in minutes:
        if value % 1440 == 0:
            parts.append(f"{value // 1440}d")
        elif value % 60 == 0:
            parts.append(f"{value // 60}h")
        else:
            parts.append(f"{value}m")
    return ", ".join(parts)


def parse_start_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"I can't read “{mrkdwn.echo(text)}” as a date. Write it as YYYY-MM-DD, "
            "e.g. `from 2026-04-07`."
        ) from None
