"""Pure time and cadence logic for Rapport.

Everything in here is deterministic and free of Slack/DB concerns:

* parsing what people type in Slack ("every 2 weeks on Tuesday at 10am", "30 min",
  "europe/london", ...) into values, with friendly :class:`CadenceError` messages;
* computing when a recurring pulse survey / check-in happens.

Conventions
-----------
* Wall-clock times (``Cadence.at``) are naive local times; they are interpreted in
  whatever time zone the caller passes, so a 10:00 check-in stays at 10:00 local time
  across daylight-saving changes.
* Every ``datetime`` accepted must be timezone-aware; every instant returned is in UTC.
* ``anchor`` is the local date the schedule started.  No occurrence falls on a local date
  before it, and for "every N weeks" it decides which weeks count.
* Cron expressions use *standard crontab* semantics (0 or 7 = Sunday, and when both
  day-of-month and day-of-week are restricted either may match).  APScheduler 3.x differs
  on both points, so the expression is adapted before it is handed to
  ``CronTrigger.from_crontab``; the stored text stays standard crontab.
"""

from __future__ import annotations

import calendar
import contextlib
import difflib
import functools
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

__all__ = [
    "CADENCE_EXAMPLES",
    "KINDS",
    "Cadence",
    "CadenceError",
    "local_instant",
    "next_occurrence",
    "occurrence_day",
    "occurrences_between",
    "parse_cadence",
    "parse_duration",
    "parse_time",
    "parse_timezone",
    "parse_weekday",
    "typical_interval",
]


class CadenceError(ValueError):
    """Bad user input about schedules, times, durations or time zones.

    ``str(error)`` is a friendly, user-facing sentence that says what was wrong and
    shows examples of valid input; it can be posted to Slack as-is.
    """


KINDS = ("weekly", "monthly", "cron")
MAX_INTERVAL_WEEKS = 12
MAX_DURATION = timedelta(days=366)
DEFAULT_OCCURRENCE_LIMIT = 1000

CADENCE_EXAMPLES = (
    "weekly on Tuesday at 10:00",
    "every 2 weeks on Thursday at 14:30",
    "monthly on the first Monday at 09:30",
)
_CRON_EXAMPLE = "cron 0 9 * * 1-5"

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAY_ABBREVIATIONS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_ALIASES: dict[str, int] = {}
for _index, (_full, _short) in enumerate(zip(_DAY_NAMES, _DAY_ABBREVIATIONS, strict=True)):
    for _alias in (_full.lower(), _short, _full.lower() + "s"):
        _WEEKDAY_ALIASES[_alias] = _index
_WEEKDAY_ALIASES.update({"tues": 1, "weds": 2, "thur": 3, "thurs": 3})

_ORDINALS = {
    "first": 1, "1st": 1,
    "second": 2, "2nd": 2,
    "third": 3, "3rd": 3,
    "fourth": 4, "4th": 4,
    "last": -1,
}  # fmt: skip
_ORDINAL_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip

_WEEK_WORDS = {"week", "weeks", "wk", "wks"}
_MONTH_WORDS = {"month", "months"}
_FILLER_WORDS = {"on", "at", "the", "of", "a", "an", "in", "and", "once", "@", "-"}
_UNSUPPORTED_FREQUENCIES = {
    "daily", "hourly", "yearly", "annually", "quarterly", "weekdays", "day", "days",
    "weekday", "twice", "year", "years", "quarter", "hour", "hours",
}  # fmt: skip


def _examples(values: tuple[str, ...] | list[str]) -> str:
    quoted = [f"`{value}`" for value in values]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _cadence_error(reason: str) -> CadenceError:
    return CadenceError(
        f"{reason} Try something like {_examples(CADENCE_EXAMPLES)} "
        f"(or, for crontab experts, `{_CRON_EXAMPLE}`)."
    )


# --------------------------------------------------------------------------- times


_TIME_12H = re.compile(r"(\d{1,2})(?:[:.h](\d{2}))?(am|pm)")
_TIME_24H = re.compile(r"(\d{1,2})[:.](\d{2})(?::(\d{2}))?")
_TIME_H = re.compile(r"(\d{1,2})h(\d{2})?")
_TIME_EXAMPLES = ("10:00", "9:30am", "4pm")
_NAMED_TIMES = {"noon": time(12, 0), "midday": time(12, 0), "midnight": time(0, 0)}


def _normalise_meridiem(text: str) -> str:
    """'4:15 P.M.' -> '4:15pm' (expects lower-case input)."""
    text = re.sub(r"\b([ap])\.m\.?(?=\s|$|,)", r"\1m", text)
    return re.sub(r"(\d)\s+([ap]m)\b", r"\1\2", text)


class _TimeProblem(ValueError):
    """Internal: a token looks like a time but isn't valid; the text is a full sentence."""


def _time_problem(text: str, reason: str) -> _TimeProblem:
    return _TimeProblem(f"`{text}` isn't a valid time: {reason}")


def _match_time(token: str) -> time | None:
    """Parse a single normalised token as a time.

    Returns None when the token doesn't look like a time at all; raises _TimeProblem
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


def parse_time(text: str) -> time:
    """Parse a wall-clock time: "10:00", "9:30", "10am", "4:15pm", "16h", "16h30", "noon".

    Bare numbers ("10") are rejected as ambiguous.  The result is naive, to the minute.
    """
    if not isinstance(text, str) or not text.strip():
        raise CadenceError(f"Please give a time, for example {_examples(_TIME_EXAMPLES)}.")
    token = _normalise_meridiem(text.strip().lower())
    try:
        parsed = _match_time(token)
    except _TimeProblem as exc:
        raise CadenceError(f"{exc} Try {_examples(_TIME_EXAMPLES)}.") from None
    if parsed is None:
        raise CadenceError(
            f"`{text.strip()}` isn't a time I understand. Try {_examples(_TIME_EXAMPLES)}."
        )
    return parsed


def _format_time(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


# ------------------------------------------------------------------------- weekdays


def _match_weekday(token: str) -> int | None:
    return _WEEKDAY_ALIASES.get(token.strip().lower().rstrip("."))


def parse_weekday(text: str) -> int:
    """Parse a day of the week ("tue", "tues", "Tuesday", "tuesdays") -> 0=Monday..6=Sunday."""
    weekday = _match_weekday(text) if isinstance(text, str) else None
    if weekday is None:
        raise CadenceError(
            f"`{text}` isn't a day of the week. Try {_examples(['Monday', 'tue', 'Thursday'])}."
        )
    return weekday


# ------------------------------------------------------------------------ durations


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
            f"`{text}` isn't a duration I understand: {reason}. "
            f"Try {_examples(_DURATION_EXAMPLES)}."
        )

    if not isinstance(text, str) or not text.strip():
        raise CadenceError(f"Please give a duration, for example {_examples(_DURATION_EXAMPLES)}.")
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
    hint = f"Use a region name such as {_examples(_TZ_EXAMPLES)}."
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


# --------------------------------------------------------------------------- crontab


_CRON_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_CRON_NUMERIC_DOW = re.compile(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?")


def _cron_dow_for_apscheduler(field: str) -> str:
    """Translate a standard crontab day-of-week field (0/7=Sunday) into names.

    APScheduler 3.x numbers weekdays from Monday=0, so "1-5" would mean Tue-Sat there;
    names mean the same to both, so numeric items are expanded to names.
    """
    if field == "*":
        return field
    items: list[str] = []
    for item in field.split(","):
        match = _CRON_NUMERIC_DOW.fullmatch(item)
        if match is None:
            items.append(item)  # names such as "mon-fri"; APScheduler validates them
            continue
        whole, first, last, step = match.groups()
        if whole == "*":
            if step is None:
                return "*"
            low, high = 0, 6
        else:
            low = int(first)
            high = int(last) if last is not None else (6 if step is not None else low)
        stride = int(step) if step is not None else 1
        if not (0 <= low <= 7 and 0 <= high <= 7) or low > high or stride < 1:
            raise ValueError(f"bad day-of-week `{item}` (use 0-7 or mon-sun)")
        items.extend(_CRON_DOW_NAMES[day % 7] for day in range(low, high + 1, stride))
    return ",".join(dict.fromkeys(items))


@functools.lru_cache(maxsize=256)
def _cron_triggers(expr: str, tz: tzinfo) -> tuple[CronTrigger, ...]:
    """APScheduler triggers whose union fires exactly when the crontab `expr` does."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, dom, month, dow = fields
    dow = _cron_dow_for_apscheduler(dow)
    if dom.startswith("*") or dow.startswith("*"):
        specs = [(minute, hour, dom, month, dow)]
    else:  # crontab: day-of-month OR day-of-week; APScheduler would AND them
        specs = [(minute, hour, dom, month, "*"), (minute, hour, "*", month, dow)]
    return tuple(CronTrigger.from_crontab(" ".join(spec), timezone=tz) for spec in specs)


def _cron_next(expr: str, tz: tzinfo, after: datetime) -> datetime | None:
    """First fire time strictly after `after` (UTC), or None if it never fires again."""
    probe = after + timedelta(microseconds=1)
    fires = [t.get_next_fire_time(None, probe) for t in _cron_triggers(expr, tz)]
    fires = [fire for fire in fires if fire is not None]
    return min(fires).astimezone(UTC) if fires else None


_CRON_REFERENCE = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday


def _normalise_cron(expr: str) -> str:
    """Canonical crontab text; raises CadenceError if APScheduler rejects it."""
    canonical = " ".join(expr.split()).lower()
    examples = f"`{_CRON_EXAMPLE}` (09:00 on weekdays) or `cron 30 8 1 * *` (08:30 on the 1st)"
    if not canonical:
        raise CadenceError(f"The cron expression is empty. Try {examples}.")
    try:
        _cron_triggers(canonical, UTC)
    except (ValueError, TypeError, LookupError) as exc:
        raise CadenceError(
            f"`{canonical}` isn't a valid cron expression ({exc}). "
            f"Use 5 fields: minute hour day-of-month month day-of-week, e.g. {examples}."
        ) from None
    if _cron_next(canonical, UTC, _CRON_REFERENCE) is None:
        raise CadenceError(f"`{canonical}` never fires (is that date impossible?). Try {examples}.")
    return canonical


# --------------------------------------------------------------------------- cadence


@dataclass(frozen=True)
class Cadence:
    """A recurring schedule.

    kind "weekly":  every ``interval_weeks`` weeks (1..12) on ``weekday`` at ``at``.
    kind "monthly": on the ``nth`` (1..4, or -1 = last) ``weekday`` of each month at ``at``.
    kind "cron":    a 5-field standard crontab expression in ``cron``; ``at`` is unused and
                    normalised to midnight.

    Construction validates the fields (raising CadenceError), so a Cadence is always usable.
    """

    kind: str
    at: time
    weekday: int | None = None
    interval_weeks: int = 1
    nth: int | None = None
    cron: str | None = None

    def __post_init__(self) -> None:
        def invalid(reason: str) -> CadenceError:
            return CadenceError(
                f"Invalid schedule: {reason}. Valid schedules look like "
                f"{_examples([*CADENCE_EXAMPLES, _CRON_EXAMPLE])}."
            )

        if self.kind not in KINDS:
            raise invalid(f"unknown kind {self.kind!r} (expected one of {', '.join(KINDS)})")
        if self.kind == "cron":
            if self.weekday is not None or self.nth is not None or self.interval_weeks != 1:
                raise invalid("a cron schedule takes no weekday, nth or interval")
            if not isinstance(self.cron, str):
                raise invalid("a cron schedule needs a cron expression")
            object.__setattr__(self, "cron", _normalise_cron(self.cron))
            object.__setattr__(self, "at", time(0, 0))
            return
        if self.cron is not None:
            raise invalid(f"a {self.kind} schedule takes no cron expression")
        if not isinstance(self.at, time) or self.at.tzinfo is not None:
            raise invalid("the time must be a naive datetime.time (local wall-clock time)")
        if self.at.second or self.at.microsecond:
            raise invalid("the time must be whole minutes")
        if (
            not isinstance(self.weekday, int)
            or isinstance(self.weekday, bool)
            or not 0 <= self.weekday <= 6
        ):
            raise invalid("a weekday between 0 (Monday) and 6 (Sunday) is required")
        if self.kind == "weekly":
            if self.nth is not None:
                raise invalid("a weekly schedule takes no nth")
            if (
                not isinstance(self.interval_weeks, int)
                or not 1 <= self.interval_weeks <= MAX_INTERVAL_WEEKS
            ):
                raise invalid(f"the interval must be 1 to {MAX_INTERVAL_WEEKS} weeks")
        else:
            if self.nth not in _ORDINAL_WORDS:
                raise invalid("a monthly schedule needs nth = 1, 2, 3, 4 or -1 (last)")
            if self.interval_weeks != 1:
                raise invalid("a monthly schedule takes no week interval")

    def describe(self) -> str:
        """Human-readable text, e.g. "every 2 weeks on Tuesday at 10:00"."""
        if self.kind == "cron":
            return f"cron {self.cron}"
        day, at = _DAY_NAMES[self.weekday], _format_time(self.at)
        if self.kind == "monthly":
            return f"monthly on the {_ORDINAL_WORDS[self.nth]} {day} at {at}"
        if self.interval_weeks == 1:
            return f"weekly on {day} at {at}"
        return f"every {self.interval_weeks} weeks on {day} at {at}"

    def to_spec(self) -> str:
        """Stable canonical text for storage; ``parse_cadence(c.to_spec()) == c``."""
        if self.kind == "cron":
            return f"cron {self.cron}"
        day, at = _DAY_ABBREVIATIONS[self.weekday], _format_time(self.at)
        if self.kind == "monthly":
            return f"monthly {_ORDINAL_WORDS[self.nth]} {day} {at}"
        if self.interval_weeks == 1:
            return f"weekly {day} {at}"
        return f"every {self.interval_weeks} weeks {day} {at}"


def _parse_number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return _NUMBER_WORDS.get(token)


def parse_cadence(text: str) -> Cadence:
    """Parse a schedule as typed in Slack (case-insensitive).

    Weekly: "weekly tue 10:00", "weekly on Tuesday at 10am", "every Tuesday at 10:00",
    "every 2 weeks on Tuesday at 10:00", "every other tue 9am", "fortnightly thu 14:30",
    "biweekly mon 9:00" (= every 2 weeks), "every 3 weeks fri 4pm".
    A weekday and time with no frequency word means weekly.
    Monthly: "monthly first monday 09:30", "monthly on the last friday at 16:00",
    "first monday of the month 9am".
    Cron: "cron 0 9 * * 1-5", "cron: 30 8 1 * *" (standard crontab semantics).
    """
    if not isinstance(text, str) or not text.strip():
        raise _cadence_error("The schedule is empty.")
    lowered = text.strip().lower()
    if cron_match := re.fullmatch(r"cron\b\s*:?\s*(.*)", lowered, flags=re.DOTALL):
        return Cadence(kind="cron", at=time(0, 0), cron=cron_match[1])

    if "*" in lowered:
        raise _cadence_error(f"Cron expressions must start with `cron`, e.g. `{_CRON_EXAMPLE}`.")
    normalised = _normalise_meridiem(lowered)
    normalised = re.sub(r"\bbi-weekly\b", "biweekly", normalised)
    normalised = re.sub(r"\bfort-nightly\b", "fortnightly", normalised)
    tokens = [tok.strip(".,;!?") for tok in re.split(r"[\s,;]+", normalised)]
    tokens = [tok for tok in tokens if tok]

    interval: int | None = None  # weeks; set by weekly/fortnightly/every N weeks
    monthly = False
    nth: int | None = None
    weekday: int | None = None
    at: time | None = None
    unknown: list[str] = []

    def set_interval(value: int, words: str) -> None:
        nonlocal interval
        if interval is not None and interval != value:
            raise _cadence_error(f"`{words}` contradicts the earlier repeat interval.")
        if value < 1:
            raise _cadence_error("The repeat interval must be at least 1 week.")
        if value > MAX_INTERVAL_WEEKS:
            raise _cadence_error(
                f"Every {value} weeks is too far apart; the most is every "
                f"{MAX_INTERVAL_WEEKS} weeks (a monthly schedule may suit better)."
            )
        interval = value

    i = 0
    while i < len(tokens):
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        after_next = tokens[i + 2] if i + 2 < len(tokens) else ""
        if token in ("every", "each"):
            count = _parse_number(following)
            if count is not None and after_next in _WEEK_WORDS:
                set_interval(count, f"{token} {following} {after_next}")
                i += 3
            elif count is not None and after_next in _MONTH_WORDS:
                if count != 1:
                    raise _cadence_error("Schedules every few months aren't supported.")
                monthly = True
                i += 3
            elif count is not None:
                raise _cadence_error(
                    f"`{token} {following}` what? Say e.g. `every {following} weeks`."
                )
            elif following == "other" and (
                after_next in _WEEK_WORDS or _match_weekday(after_next) is not None
            ):
                set_interval(2, f"{token} other")
                i += 3 if after_next in _WEEK_WORDS else 2
            elif following in _WEEK_WORDS:
                set_interval(1, f"{token} {following}")
                i += 2
            elif following in _MONTH_WORDS:
                monthly = True
                i += 2
            else:
                i += 1  # "every tuesday"
            continue
        if token == "weekly" or token in _WEEK_WORDS:
            set_interval(1, token)
        elif token in ("fortnightly", "biweekly", "fortnight"):
            set_interval(2, token)
        elif token in ("monthly", *_MONTH_WORDS):
            monthly = True
        elif token in _ORDINALS:
            if nth is not None:
                raise _cadence_error(
                    "Please give only one week of the month (first..fourth or last)."
                )
            nth = _ORDINALS[token]
        elif token in ("fifth", "5th"):
            raise _cadence_error("Not every month has a fifth one; use `last` instead.")
        elif (weekday_value := _match_weekday(token)) is not None:
            if weekday is not None and weekday != weekday_value:
                raise _cadence_error(
                    "Only one day of the week per schedule, please (a cron "
                    "expression can cover several days)."
                )
            weekday = weekday_value
        elif token in _UNSUPPORTED_FREQUENCIES:
            raise _cadence_error(
                f"`{token}` schedules aren't supported as such; "
                f"a cron expression can do it, e.g. `{_CRON_EXAMPLE}`."
            )
        elif re.fullmatch(r"\d+(st|nd|rd|th)", token):
            raise _cadence_error(
                f"`{token}` as a day of the month isn't supported; use e.g. "
                f"`monthly on the first Monday`, or cron like "
                f"`cron 0 9 {int(token[:-2])} * *`."
            )
        elif token in _FILLER_WORDS:
            pass
        else:
            try:
                parsed_time = _match_time(token)
            except _TimeProblem as exc:
                raise _cadence_error(str(exc)) from None
            if parsed_time is None:
                unknown.append(token)
            elif at is not None and at != parsed_time:
                raise _cadence_error("Please give only one time of day.")
            else:
                at = parsed_time
        i += 1

    if unknown:
        words = ", ".join(f"`{word}`" for word in unknown)
        raise _cadence_error(f"I didn't understand {words}.")
    if monthly and interval is not None:
        raise _cadence_error("A schedule can't be both monthly and every few weeks.")
    if nth is not None and not monthly:
        day = _DAY_NAMES[weekday] if weekday is not None else "Tuesday"
        raise _cadence_error(
            f"Did you mean `monthly on the {_ORDINAL_WORDS[nth]} {day}` "
            f"or `every 2 weeks on {day}`?"
        )
    if monthly and nth is None:
        raise _cadence_error(
            "Which week of the month? Say first, second, third, fourth or "
            "last, e.g. `monthly on the last Friday at 16:00`."
        )
    if weekday is None:
        raise _cadence_error("Which day of the week should it happen on?")
    if at is None:
        raise _cadence_error("At what time should it happen?")
    if monthly:
        return Cadence(kind="monthly", at=at, weekday=weekday, nth=nth)
    return Cadence(kind="weekly", at=at, weekday=weekday, interval_weeks=interval or 1)


# ----------------------------------------------------------------------- occurrences


def local_instant(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant at which the wall clock in `tz` shows `at` on `day`.

    In a spring-forward gap the time moves forward by the size of the gap
    (02:30 -> 03:30 local); in a repeated fall-back hour the first occurrence is used.
    """
    naive = datetime.combine(day, at.replace(tzinfo=None))
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _require_aware(value: datetime, name: str) -> datetime:
    if (
        not isinstance(value, datetime)
        or value.tzinfo is None
        or value.tzinfo.utcoffset(value) is None
    ):
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value.astimezone(UTC)


def _anchor_date(anchor: date, tz: tzinfo) -> date:
    if isinstance(anchor, datetime):
        return anchor.astimezone(tz).date() if anchor.tzinfo is not None else anchor.date()
    return anchor


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    if nth > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _scheduled_days(cadence: Cadence, start: date, anchor: date) -> Iterator[date]:
    """Local dates of a weekly/monthly cadence on or after `start`, ascending, endless."""
    if cadence.kind == "weekly":
        day = start + timedelta(days=(cadence.weekday - start.weekday()) % 7)
        anchor_monday = anchor - timedelta(days=anchor.weekday())
        weeks = (day - timedelta(days=day.weekday()) - anchor_monday).days // 7
        day += timedelta(weeks=-weeks % cadence.interval_weeks)
        step = timedelta(weeks=cadence.interval_weeks)
        while True:
            yield day
            day += step
    year, month = start.year, start.month
    while year <= MAXYEAR:
        day = _nth_weekday(year, month, cadence.weekday, cadence.nth)
        if day >= start:
            yield day
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _is_repeated_wall_time(local: datetime) -> bool:
    """True for the second pass through a wall-clock time in a fall-back hour."""
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def _iter_occurrences(
    cadence: Cadence, tz: tzinfo, after: datetime, anchor: date
) -> Iterator[tuple[date, datetime]]:
    """(local date, UTC instant) of each occurrence strictly after `after`, in order; the
    calendar's end (year 9999) ends the series rather than overflowing."""
    after_utc = _require_aware(after, "after")
    anchor = _anchor_date(anchor, tz)
    with contextlib.suppress(OverflowError):
        yield from _occurrences_from(cadence, tz, after_utc, anchor)


def _occurrences_from(
    cadence: Cadence, tz: tzinfo, after_utc: datetime, anchor: date
) -> Iterator[tuple[date, datetime]]:
    if cadence.kind == "cron":
        current = max(after_utc, local_instant(anchor, time(0), tz) - timedelta(microseconds=1))
        while (fire := _cron_next(cadence.cron, tz, current)) is not None:
            current = fire
            local = fire.astimezone(tz)
            if not _is_repeated_wall_time(local):  # fire once in a repeated hour
                yield local.date(), fire
        return
    start = max(anchor, after_utc.astimezone(tz).date() - timedelta(days=1))
    for day in _scheduled_days(cadence, start, anchor):
        instant = local_instant(day, cadence.at, tz)
        if instant > after_utc:
            yield day, instant


def _first(cadence: Cadence, tz: tzinfo, after: datetime, anchor: date) -> tuple[date, datetime]:
    for item in _iter_occurrences(cadence, tz, after, anchor):
        return item
    raise CadenceError(
        f"`{cadence.describe()}` has no more occurrences. "
        f"Try {_examples([*CADENCE_EXAMPLES, _CRON_EXAMPLE])}."
    )


def next_occurrence(cadence: Cadence, tz: tzinfo, after: datetime, anchor: date) -> datetime:
    """The first occurrence strictly after `after`, as an aware UTC datetime.

    Weekly/monthly cadences keep the same local wall-clock time across DST changes.
    `anchor` is the local date the schedule started: nothing happens before it, and for
    every-N-weeks the weeks that count are those whose distance (Monday-to-Monday) from
    the anchor's week is a multiple of N.
    """
    return _first(cadence, tz, after, anchor)[1]


def occurrence_day(cadence: Cadence, tz: tzinfo, after: datetime, anchor: date) -> date:
    """The local date (in `tz`) of the next occurrence strictly after `after`.

    Combine with ``local_instant(day, cadence.at, member_tz)`` to give every member the
    same round at the same local time in their own time zone.
    """
    return _first(cadence, tz, after, anchor)[0]


def occurrences_between(
    cadence: Cadence,
    tz: tzinfo,
    start: datetime,
    end: datetime,
    anchor: date,
    *,
    limit: int = DEFAULT_OCCURRENCE_LIMIT,
) -> list[datetime]:
    """All occurrences in (start, end], UTC, in order; at most `limit` (the earliest ones)."""
    end_utc = _require_aware(end, "end")
    result: list[datetime] = []
    for _day, instant in _iter_occurrences(cadence, tz, start, anchor):
        if instant > end_utc or len(result) >= limit:
            break
        result.append(instant)
    return result


def typical_interval(cadence: Cadence) -> timedelta:
    """The usual gap between occurrences, for "cadence stretched" lapse checks.

    weekly: 7 days x interval; monthly: 30 days; cron: the gap between its first two fire
    times from Monday 2024-01-01 00:00 UTC on (evaluated in UTC). Both fall on one day if
    the expression fires more than once a day, so that shows as a gap under a day.
    """
    if cadence.kind == "weekly":
        return timedelta(weeks=cadence.interval_weeks)
    if cadence.kind == "monthly":
        return timedelta(days=30)
    start = _CRON_REFERENCE - timedelta(microseconds=1)  # a fire at the reference counts
    fires = _iter_occurrences(cadence, UTC, start, _CRON_REFERENCE.date())
    (_, first), (_, second) = next(fires), next(fires)
    return second - first
