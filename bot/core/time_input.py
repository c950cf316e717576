"""Parsing times, days, durations and time zones as people type them in Slack.

Each parser returns a value or raises :class:`~bot.core.cadence.CadenceError` whose text
says what was wrong, with examples, and can be posted to Slack as-is.
"""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from datetime import time, timedelta

from bot.core.cadence import CadenceError
from bot.core.time_words import TimeProblem, examples, match_time, match_weekday, normalise_meridiem

MAX_DURATION = timedelta(days=366)
_TIME_EXAMPLES = ("10:00", "9:30am", "4pm")


def parse_time(text: str) -> time:
    """Parse a wall-clock time: "10:00", "9:30", "10am", "4:15pm", "16h", "16h30", "noon".

    Bare numbers ("10") are rejected as ambiguous.  The result is naive, to the minute.
    """
    if not isinstance(text, str) or not text.strip():
        raise CadenceError(f"Please give a time, for example {examples(_TIME_EXAMPLES)}.")
    token = normalise_meridiem(text.strip().lower())
    try:
        parsed = match_time(token)
    except TimeProblem as exc:
        raise CadenceError(f"{exc} Try {examples(_TIME_EXAMPLES)}.") from None
    if parsed is None:
        raise CadenceError(
            f"`{text.strip()}` isn't a time I understand. Try {examples(_TIME_EXAMPLES)}."
        )
    return parsed


def parse_weekday(text: str) -> int:
    """Parse a day of the week ("tue", "tues", "Tuesday", "tuesdays") -> 0=Monday..6=Sunday."""
    weekday = match_weekday(text) if isinstance(text, str) else None
    if weekday is None:
        raise CadenceError(
            f"`{text}` isn't a day of the week. Try {examples(['Monday', 'tue', 'Thursday'])}."
        )
    return weekday


_DURATION_UNITS = {
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), timedelta(weeks=1)),
    **dict.fromkeys(("d", "day", "days"), timedelta(days=1)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), timedelta(hours=1)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), timedelta(minutes=1)),
}
_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)")
_DURATION_EXAMPLES = ("30m", "1h30", "2 days")


def parse_duration(text: str) -> timedelta:
    """Parse a positive duration: "30m", "30 min", "1h", "1h30", "90 minutes", "2 hours",
    "1d", "1 day", "1 hour and 15 minutes", "an hour", "1.5h", "2w".

    Zero, negative, unit-less, unparseable or longer-than-a-year input -> CadenceError.
    """

    def fail(reason: str) -> CadenceError:
        return CadenceError(
            f"`{text}` isn't a duration I understand: {reason}. Try {examples(_DURATION_EXAMPLES)}."
        )

    if not isinstance(text, str) or not text.strip():
        raise CadenceError(f"Please give a duration, for example {examples(_DURATION_EXAMPLES)}.")
    cleaned = text.strip().lower()
    if cleaned.startswith("-"):
        raise fail("it must be positive")
    cleaned = re.sub(r"\ban?\b", "1", cleaned)
    cleaned = re.sub(r"\band\b|,", " ", cleaned).strip()

    total = timedelta()
    position = 0
    previous_unit: timedelta | None = None
    while position < len(cleaned):
        match = _DURATION_PART.match(cleaned, position)
        if match is None:
            raise fail(f"I don't understand `{cleaned[position:].strip()}`")
        amount, unit_word = float(match[1]), match[2]
        if unit_word:
            unit = _DURATION_UNITS.get(unit_word)
            if unit is None:
                raise fail(f"unknown unit `{unit_word}` (use minutes, hours, days or weeks)")
        elif previous_unit == timedelta(hours=1) and match.end() == len(cleaned):
            unit = timedelta(minutes=1)  # "1h30"
        else:
            raise fail(f"add a unit after `{match[1]}`, e.g. `{match[1]}m` or `{match[1]}h`")
        total += amount * unit
        previous_unit = unit
        position = match.end()
        while position < len(cleaned) and cleaned[position].isspace():
            position += 1
    if total <= timedelta():
        raise fail("it must be longer than zero")
    if total > MAX_DURATION:
        raise fail("that's longer than a year")
    return total


# ----------------------------------------------------------------------- time zones


_TZ_ABBREVIATIONS = {
    "est": "America/New_York", "edt": "America/New_York", "et": "America/New_York",
    "cst": "America/Chicago", "cdt": "America/Chicago", "ct": "America/Chicago",
    "mst": "America/Denver", "mdt": "America/Denver", "mt": "America/Denver",
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles", "pt": "America/Los_Angeles",
    "bst": "Europe/London", "gb": "Europe/London", "uk": "Europe/London",
    "ist": "Asia/Kolkata", "cet": "Europe/Paris",
    "cest": "Europe/Paris", "eet": "Europe/Athens", "wet": "Europe/Lisbon",
    "aest": "Australia/Sydney", "aedt": "Australia/Sydney", "jst": "Asia/Tokyo",
    "sgt": "Asia/Singapore", "hkt": "Asia/Hong_Kong",
}  # fmt: skip
_UTC_NAMES = {"utc": "UTC", "gmt": "UTC", "z": "UTC", "zulu": "UTC"}
_TZ_EXAMPLES = ("Europe/London", "America/New_York", "Asia/Kolkata")


@functools.cache
def _zone_names() -> dict[str, str]:
    """Lower-cased IANA region names (those with a '/') -> canonical spelling."""
    return {name.lower(): name for name in zoneinfo.available_timezones() if "/" in name}


def parse_timezone(name: str) -> zoneinfo.ZoneInfo:
    """Resolve an IANA time zone name case-insensitively ("europe/london", "America/New York").

    "UTC" (and "GMT") give UTC.  Legacy aliases and abbreviations without a region
    ("EST", "CET", "GB") are refused with a suggestion, because they rarely mean what
    people expect (e.g. tzdata's "EST" never observes daylight saving).
    """
    raw = name.strip() if isinstance(name, str) else ""
    key = re.sub(r"\s+", "_", raw).lower()
    hint = f"Use a region name such as {examples(_TZ_EXAMPLES)}."
    if not key:
        raise CadenceError(f"Please give a time zone. {hint}")
    if key in _UTC_NAMES or key in {"etc/utc", "etc/gmt"}:
        return zoneinfo.ZoneInfo("UTC")
    canonical = _zone_names().get(key)
    if canonical is not None:
        return zoneinfo.ZoneInfo(canonical)
    if not _zone_names() and "/" in key:  # no tz database listing available; try directly
        try:
            return zoneinfo.ZoneInfo(raw.replace(" ", "_"))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    suggestion = _TZ_ABBREVIATIONS.get(key)
    if suggestion is None:
        by_city = [full for low, full in _zone_names().items() if low.rsplit("/", 1)[-1] == key]
        close = difflib.get_close_matches(key, list(_zone_names()), n=1, cutoff=0.75)
        if by_city:
            suggestion = by_city[0]
        elif close:
            suggestion = _zone_names()[close[0]]
    did_you_mean = f" Did you mean `{suggestion}`?" if suggestion else ""
    raise CadenceError(f"I don't know the time zone `{raw}`.{did_you_mean} {hint}")
