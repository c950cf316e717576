"""``/rapport intros …``: the words after ``intros`` into a tuple of plain values.

``()`` or a relationship name shows the settings; ``("on",)``, ``("every", weeks, weekday)``,
``("size", n)``, ``("default", "in"|"out")``, ``("history", months)`` are owners' changes;
``("me", "on"|"off")`` and ``("me", "pause", weeks)`` are the person's own say. Anything else
raises ``UsageError`` with what to type instead.
"""

from __future__ import annotations

from bot.core.time_words import match_weekday
from bot.intros.preferences import MAX_PAUSE_WEEKS
from bot.intros.settings import CADENCES, HISTORY_MONTHS, SIZES
from bot.relationships.parser import USAGE, UsageError
from bot.slack import mrkdwn

OPERATIONS = ("on", "off", "every", "size", "me", "default", "history")


def _problem(text: str) -> UsageError:
    return UsageError(f"{text}\nUsage: {USAGE['intros']}")


def _whole(word: str) -> int | None:
    return int(word) if word.isdigit() and len(word) < 4 else None


def parse_intros(words: list[str]) -> tuple[str, ...]:
    """The operation and its operands; ``("show", name)`` for anything not an operation."""
    lowered = [word.lower() for word in words]
    if not words or lowered[0] not in OPERATIONS:
        return ("show", mrkdwn.unescape(" ".join(words).strip()))
    operation, rest = lowered[0], lowered[1:]
    if operation in ("on", "off"):
        if rest:
            raise _problem(f"`intros {operation}` takes nothing after it.")
        return (operation,)
    if operation == "every":
        return _every(rest)
    if operation == "size":
        if len(rest) != 1 or _whole(rest[0]) not in SIZES:
            raise _problem("Intros come in pairs or trios: `/rapport intros size 2` or `size 3`.")
        return ("size", rest[0])
    if operation == "default":
        if rest not in (["in"], ["out"]):
            raise _problem(
                "Say whether people who never answered are paired: "
                "`/rapport intros default in` or `default out`."
            )
        return ("default", rest[0])
    if operation == "history":
        months = _whole(rest[0]) if len(rest) in (1, 2) else None
        if (
            months is None
            or not HISTORY_MONTHS[0] <= months <= HISTORY_MONTHS[1]
            or (rest[1:] not in ([], ["months"], ["month"]))
        ):
            raise _problem(
                f"Keep who met whom for {HISTORY_MONTHS[0]} to {HISTORY_MONTHS[1]} months, "
                "e.g. `/rapport intros history 12`."
            )
        return ("history", str(months))
    return _me(rest)


def _every(rest: list[str]) -> tuple[str, ...]:
    weeks = _whole(rest[0]) if rest else None
    unit_ok = rest[1:2] in (["week"], ["weeks"])
    if weeks not in CADENCES or not unit_ok:
        shown = mrkdwn.echo(" ".join(rest)) or "nothing"
        raise _problem(
            f"I can't use `{shown}` as a cadence: intros run every 1, 2 or 4 weeks, "
            "e.g. `/rapport intros every 2 weeks on tuesday`."
        )
    after = rest[2:]
    if not after:
        return ("every", str(weeks))
    day = match_weekday(after[1]) if len(after) == 2 and after[0] == "on" else None
    if day is None:
        raise _problem("Which day? e.g. `/rapport intros every 2 weeks on tuesday`.")
    return ("every", str(weeks), str(day))


def _me(rest: list[str]) -> tuple[str, ...]:
    if rest in (["on"], ["off"]):
        return ("me", rest[0])
    if rest[:1] == ["pause"]:
        weeks = _whole(rest[1]) if len(rest) in (2, 3) else None
        if weeks is not None and 1 <= weeks <= MAX_PAUSE_WEEKS and rest[2:] in ([], ["weeks"]):
            return ("me", "pause", str(weeks))
        raise _problem(
            f"Pause for 1 to {MAX_PAUSE_WEEKS} weeks, e.g. `/rapport intros me pause 4`."
        )
    raise _problem("`/rapport intros me on`, `me off` or `me pause <weeks>`.")
