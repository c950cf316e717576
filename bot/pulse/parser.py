"""Parsing the text after ``/pulse`` into a ``PulseCommand``.

A relationship's name may follow any subcommand (``/pulse results Acme``). For
``/pulse schedule …`` the longest leading part that reads as a schedule is the schedule
and the rest is the name. Problems raise ``UsageError`` with a message for the person.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.cadence import CadenceError, parse_cadence
from bot.relationships.parser import UsageError
from bot.slack import mrkdwn

_CADENCE_WORDS = {
    "every",
    "weekly",
    "monthly",
    "fortnightly",
    "biweekly",
    "on",
    "at",
    "other",
    "first",
    "second",
    "third",
    "fourth",
    "last",
    "cron",
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
}


@dataclass(frozen=True)
class PulseCommand:
    action: str  # feedback, help, schedule, set-schedule, pause, resume, send, results,
    # questions, add-question, remove-question, settings, set-setting
    name: str | None = None  # relationship name typed at the end, if any
    cadence: str | None = None
    text: str | None = None  # question text, or a setting's value
    number: int | None = None
    setting: str | None = None


def _rest(words: list[str]) -> str | None:
    """A name or question typed at the end, decoded from Slack's escaping."""
    return mrkdwn.unescape(" ".join(words).strip()) or None


def _looks_like_cadence(word: str) -> bool:
    word = word.lower()
    return word[:1].isdigit() or word[:3] in _CADENCE_WORDS or word in _CADENCE_WORDS


def _schedule(words: list[str]) -> PulseCommand:
    if not words:
        return PulseCommand("schedule")
    for end in range(len(words), 0, -1):
        try:
            parse_cadence(" ".join(words[:end]))
        except CadenceError:
            continue
        return PulseCommand("set-schedule", name=_rest(words[end:]), cadence=" ".join(words[:end]))
    if _looks_like_cadence(words[0]):
        try:
            parse_cadence(" ".join(words))
        except CadenceError as error:
            raise UsageError(
                f"{error}\nExample: `/pulse schedule every 2 weeks on Tuesday at 10:00`"
            ) from None
    return PulseCommand("schedule", name=_rest(words))


def parse_pulse_command(text: str) -> PulseCommand:
    words = text.split()
    if not words:
        return PulseCommand("feedback")
    action, words = words[0].lower(), words[1:]
    if action == "help":
        return PulseCommand("help")
    if action in ("pause", "resume", "send", "results"):
        return PulseCommand(action, name=_rest(words))
    if action == "schedule":
        return _schedule(words)
    if action == "questions":
        sub = words[0].lower() if words else ""
        if sub == "add":
            question = _rest(words[1:])
            if question is None:
                raise UsageError(
                    "What should I ask? e.g. `/pulse questions add How is communication going?`"
                )
            return PulseCommand("add-question", text=question)
        if sub == "remove":
            if len(words) < 2 or not words[1].isdigit():
                raise UsageError(
                    "Which one? Give its number from `/pulse questions`, "
                    "e.g. `/pulse questions remove 2`."
                )
            return PulseCommand("remove-question", number=int(words[1]), name=_rest(words[2:]))
        return PulseCommand("questions", name=_rest(words))
    if action == "settings":
        if len(words) >= 2 and any(c.isdigit() for c in words[1]):
            return PulseCommand(
                "set-setting", setting=words[0].lower(), text=words[1], name=_rest(words[2:])
            )
        if words and words[0].lower() in (
            "min-group",
            "window",
            "reminder",
            "drop",
            "gap",
            "response",
        ):
            raise UsageError(f"Give a value, e.g. `/pulse settings {words[0].lower()} 3`.")
        return PulseCommand("settings", name=_rest(words))
    raise UsageError(f"I don't know `/pulse {mrkdwn.echo(action)}`.")
