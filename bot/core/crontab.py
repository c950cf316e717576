"""Standard crontab expressions, evaluated with APScheduler.

Cron expressions use *standard crontab* semantics (0 or 7 = Sunday, and when both
day-of-month and day-of-week are restricted either may match).  APScheduler 3.x differs
on both points, so the expression is adapted before it is handed to
``CronTrigger.from_crontab``; the stored text stays standard crontab.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

CRON_REFERENCE = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday

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
def cron_triggers(expr: str, tz: tzinfo) -> tuple[CronTrigger, ...]:
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


def cron_next(expr: str, tz: tzinfo, after: datetime) -> datetime | None:
    """First fire time strictly after `after` (UTC), or None if it never fires again."""
    probe = after + timedelta(microseconds=1)
    fires = [t.get_next_fire_time(None, probe) for t in cron_triggers(expr, tz)]
    fires = [fire for fire in fires if fire is not None]
    return min(fires).astimezone(UTC) if fires else None
