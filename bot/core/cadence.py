"""Recurring schedules: the :class:`Cadence` value and :func:`parse_cadence`, which reads
one as typed in Slack ("every 2 weeks on Tuesday at 10am") with friendly
:class:`CadenceError` messages.

Deterministic and free of Slack/DB concerns.  When a cadence happens is in
``bot.core.occurrences``; times, durations and time zones on their own are parsed by
``bot.core.time_input``; cron expressions are evaluated by ``bot.core.crontab``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, time

from bot.core.crontab import CRON_REFERENCE, cron_next, cron_triggers
from bot.core.time_words import (
    DAY_ABBREVIATIONS,
    DAY_NAMES,
    TimeProblem,
    examples,
    format_time,
    match_time,
    match_weekday,
    normalise_meridiem,
)

__all__ = ["CADENCE_EXAMPLES", "KINDS", "Cadence", "CadenceError", "parse_cadence"]


class CadenceError(ValueError):
    """Bad user input about schedules, times, durations or time zones.

    ``str(error)`` is a friendly, user-facing sentence that says what was wrong and
    shows examples of valid input; it can be posted to Slack as-is.
    """


KINDS = ("weekly", "monthly", "cron")
MAX_INTERVAL_WEEKS = 12

CADENCE_EXAMPLES = (
    "weekly on Tuesday at 10:00",
    "every 2 weeks on Thursday at 14:30",
    "monthly on the first Monday at 09:30",
)
CRON_EXAMPLE = "cron 0 9 * * 1-5"

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


def _cadence_error(reason: str) -> CadenceError:
    return CadenceError(
        f"{reason} Try something like {examples(CADENCE_EXAMPLES)} "
        f"(or, for crontab experts, `{CRON_EXAMPLE}`)."
    )


def _normalise_cron(expr: str) -> str:
    """Canonical crontab text; raises CadenceError if APScheduler rejects it."""
    canonical = " ".join(expr.split()).lower()
    hint = f"`{CRON_EXAMPLE}` (09:00 on weekdays) or `cron 30 8 1 * *` (08:30 on the 1st)"
    if not canonical:
        raise CadenceError(f"The cron expression is empty. Try {hint}.")
    try:
        cron_triggers(canonical, UTC)
    except (ValueError, TypeError, LookupError) as exc:
        raise CadenceError(
            f"`{canonical}` isn't a valid cron expression ({exc}). "
            f"Use 5 fields: minute hour day-of-month month day-of-week, e.g. {hint}."
        ) from None
    if cron_next(canonical, UTC, CRON_REFERENCE) is None:
        raise CadenceError(f"`{canonical}` never fires (is that date impossible?). Try {hint}.")
    return canonical


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
                f"{examples([*CADENCE_EXAMPLES, CRON_EXAMPLE])}."
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
        day, at = DAY_NAMES[self.weekday], format_time(self.at)
        if self.kind == "monthly":
            return f"monthly on the {_ORDINAL_WORDS[self.nth]} {day} at {at}"
        if self.interval_weeks == 1:
            return f"weekly on {day} at {at}"
        return f"every {self.interval_weeks} weeks on {day} at {at}"

    def to_spec(self) -> str:
        """Stable canonical text for storage; ``parse_cadence(c.to_spec()) == c``."""
        if self.kind == "cron":
            return f"cron {self.cron}"
        day, at = DAY_ABBREVIATIONS[self.weekday], format_time(self.at)
        if self.kind == "monthly":
            return f"monthly {_ORDINAL_WORDS[self.nth]} {day} {at}"
        if self.interval_weeks == 1:
            return f"weekly {day} {at}"
        return f"every {self.interval_weeks} weeks {day} {at}"


def _parse_number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return _NUMBER_WORDS.get(token)


def _schedule_tokens(lowered: str) -> list[str]:
    normalised = normalise_meridiem(lowered)
    normalised = re.sub(r"\bbi-weekly\b", "biweekly", normalised)
    normalised = re.sub(r"\bfort-nightly\b", "fortnightly", normalised)
    tokens = [tok.strip(".,;!?") for tok in re.split(r"[\s,;]+", normalised)]
    return [tok for tok in tokens if tok]


@dataclass
class _ScheduleWords:
    """What the words of a schedule have said so far, read one word (or phrase) at a time."""

    interval: int | None = None  # weeks; set by weekly/fortnightly/every N weeks
    monthly: bool = False
    nth: int | None = None
    weekday: int | None = None
    at: time | None = None
    unknown: list[str] = field(default_factory=list)

    def set_interval(self, value: int, words: str) -> None:
        if self.interval is not None and self.interval != value:
            raise _cadence_error(f"`{words}` contradicts the earlier repeat interval.")
        if value < 1:
            raise _cadence_error("The repeat interval must be at least 1 week.")
        if value > MAX_INTERVAL_WEEKS:
            raise _cadence_error(
                f"Every {value} weeks is too far apart; the most is every "
                f"{MAX_INTERVAL_WEEKS} weeks (a monthly schedule may suit better)."
            )
        self.interval = value

    def read_every(self, token: str, following: str, after_next: str) -> int:
        """Read "every"/"each" and what follows it; returns how many words it took."""
        count = _parse_number(following)
        if count is not None and after_next in _WEEK_WORDS:
            self.set_interval(count, f"{token} {following} {after_next}")
            return 3
        if count is not None and after_next in _MONTH_WORDS:
            if count != 1:
                raise _cadence_error("Schedules every few months aren't supported.")
            self.monthly = True
            return 3
        if count is not None:
            raise _cadence_error(f"`{token} {following}` what? Say e.g. `every {following} weeks`.")
        if following == "other" and (
            after_next in _WEEK_WORDS or match_weekday(after_next) is not None
        ):
            self.set_interval(2, f"{token} other")
            return 3 if after_next in _WEEK_WORDS else 2
        if following in _WEEK_WORDS:
            self.set_interval(1, f"{token} {following}")
            return 2
        if following in _MONTH_WORDS:
            self.monthly = True
            return 2
        return 1  # "every tuesday"

    def read_word(self, token: str) -> None:
        if token == "weekly" or token in _WEEK_WORDS:
            self.set_interval(1, token)
        elif token in ("fortnightly", "biweekly", "fortnight"):
            self.set_interval(2, token)
        elif token in ("monthly", *_MONTH_WORDS):
            self.monthly = True
        elif token in _ORDINALS:
            if self.nth is not None:
                raise _cadence_error(
                    "Please give only one week of the month (first..fourth or last)."
                )
            self.nth = _ORDINALS[token]
        elif token in ("fifth", "5th"):
            raise _cadence_error("Not every month has a fifth one; use `last` instead.")
        elif (weekday := match_weekday(token)) is not None:
            if self.weekday is not None and self.weekday != weekday:
                raise _cadence_error(
                    "Only one day of the week per schedule, please (a cron "
                    "expression can cover several days)."
                )
            self.weekday = weekday
        elif token in _UNSUPPORTED_FREQUENCIES:
            raise _cadence_error(
                f"`{token}` schedules aren't supported as such; "
                f"a cron expression can do it, e.g. `{CRON_EXAMPLE}`."
            )
        elif re.fullmatch(r"\d+(st|nd|rd|th)", token):
            raise _cadence_error(
                f"`{token}` as a day of the month isn't supported; use e.g. "
                f"`monthly on the first Monday`, or cron like "
                f"`cron 0 9 {int(token[:-2])} * *`."
            )
        elif token not in _FILLER_WORDS:
            self.read_time(token)

    def read_time(self, token: str) -> None:
        try:
            parsed_time = match_time(token)
        except TimeProblem as exc:
            raise _cadence_error(str(exc)) from None
        if parsed_time is None:
            self.unknown.append(token)
        elif self.at is not None and self.at != parsed_time:
            raise _cadence_error("Please give only one time of day.")
        else:
            self.at = parsed_time

    def cadence(self) -> Cadence:
        """The schedule the words describe, or the first thing missing or contradictory."""
        if self.unknown:
            words = ", ".join(f"`{word}`" for word in self.unknown)
            raise _cadence_error(f"I didn't understand {words}.")
        if self.monthly and self.interval is not None:
            raise _cadence_error("A schedule can't be both monthly and every few weeks.")
        if self.nth is not None and not self.monthly:
            day = DAY_NAMES[self.weekday] if self.weekday is not None else "Tuesday"
            raise _cadence_error(
                f"Did you mean `monthly on the {_ORDINAL_WORDS[self.nth]} {day}` "
                f"or `every 2 weeks on {day}`?"
            )
        if self.monthly and self.nth is None:
            raise _cadence_error(
                "Which week of the month? Say first, second, third, fourth or "
                "last, e.g. `monthly on the last Friday at 16:00`."
            )
        if self.weekday is None:
            raise _cadence_error("Which day of the week should it happen on?")
        if self.at is None:
            raise _cadence_error("At what time should it happen?")
        if self.monthly:
            return Cadence(kind="monthly", at=self.at, weekday=self.weekday, nth=self.nth)
        return Cadence(
            kind="weekly", at=self.at, weekday=self.weekday, interval_weeks=self.interval or 1
        )


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
        raise _cadence_error(f"Cron expressions must start with `cron`, e.g. `{CRON_EXAMPLE}`.")
    tokens = _schedule_tokens(lowered)
    words = _ScheduleWords()
    i = 0
    while i < len(tokens):
        if tokens[i] in ("every", "each"):
            following = tokens[i + 1] if i + 1 < len(tokens) else ""
            after_next = tokens[i + 2] if i + 2 < len(tokens) else ""
            i += words.read_every(tokens[i], following, after_next)
        else:
            words.read_word(tokens[i])
            i += 1
    return words.cadence()
