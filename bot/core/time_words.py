"""Words for days and times that the schedule parsers share.

Matching here never raises :class:`~bot.core.cadence.CadenceError`: a token either is a
day or a time (the value), is not one (None), or looks like a time but is impossible
(:class:`TimeProblem`, whose text is a full sentence to show the person).
"""

from __future__ import annotations

import re
from datetime import time

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_ABBREVIATIONS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_ALIASES: dict[str, int] = {}
for _index, (_full, _short) in enumerate(zip(DAY_NAMES, DAY_ABBREVIATIONS, strict=True)):
    for _alias in (_full.lower(), _short, _full.lower() + "s"):
        _WEEKDAY_ALIASES[_alias] = _index
_WEEKDAY_ALIASES.update({"tues": 1, "weds": 2, "thur": 3, "thurs": 3})


_TIME_12H = re.compile(r"(\d{1,2})(?:[:.h](\d{2}))?(am|pm)")
_TIME_24H = re.compile(r"(\d{1,2})[:.](\d{2})(?::(\d{2}))?")
_TIME_H = re.compile(r"(\d{1,2})h(\d{2})?")
_NAMED_TIMES = {"noon": time(12, 0), "midday": time(12, 0), "midnight": time(0, 0)}


def examples(values: tuple[str, ...] | list[str]) -> str:
    """Examples quoted for a Slack message: `a`, `b` or `c`."""
    quoted = [f"`{value}`" for value in values]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def match_weekday(token: str) -> int | None:
    """0=Monday..6=Sunday for "tue", "tues", "Tuesday", "tuesdays"; None for anything else."""
    return _WEEKDAY_ALIASES.get(token.strip().lower().rstrip("."))


def normalise_meridiem(text: str) -> str:
    """'4:15 P.M.' -> '4:15pm' (expects lower-case input)."""
    text = re.sub(r"\b([ap])\.m\.?(?=\s|$|,)", r"\1m", text)
    return re.sub(r"(\d)\s+([ap]m)\b", r"\1\2", text)


class TimeProblem(ValueError):
    """A token looks like a time but isn't valid; the text is a full sentence."""


def _time_problem(text: str, reason: str) -> TimeProblem:
    return TimeProblem(f"`{text}` isn't a valid time: {reason}")


def match_time(token: str) -> time | None:
    """Parse a single normalised token as a time.

    Returns None when the token doesn't look like a time at all; raises TimeProblem
    when it looks like one but is impossible ("25:00", "13pm") or ambiguous ("10").
    """
    if token in _NAMED_TIMES:
        return _NAMED_TIMES[token]
    if match := _TIME_12H.fullmatch(token):
        hour, minute = int(match[1]), int(match[2] or 0)
        if not 1 <= hour <= 12:
            raise _time_problem(token, "with am/pm the hour must be between 1 and 12.")
        if minute > 59:
            raise _time_problem(token, "minutes go up to 59.")
        hour = hour % 12 + (12 if match[3] == "pm" else 0)
        return time(hour, minute)
    match = _TIME_24H.fullmatch(token) or _TIME_H.fullmatch(token)
    if match:
        hour, minute = int(match[1]), int(match[2] or 0)
        if hour > 23:
            raise _time_problem(token, "hours go up to 23.")
        if minute > 59:
            raise _time_problem(token, "minutes go up to 59.")
        if match.re is _TIME_24H and match[3] not in (None, "00"):
            raise _time_problem(token, "schedules work to the minute, leave out the seconds.")
        return time(hour, minute)
    if token.isdigit():
        raise _time_problem(token, f"is that `{token}:00`, `{token}am` or `{token}pm`?")
    if re.fullmatch(r"\d[\d:.h]*(?:[ap]m)?", token) and re.search(r"[:.h]|[ap]m", token):
        raise _time_problem(token, "expected hours and minutes.")
    return None


def format_time(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"
