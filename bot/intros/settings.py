"""A relationship's intro settings (``/rapport intros on|off|every|size|default|history``) and
when its rounds fall. Owners change them; anyone in the relationship reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from bot.intros.models import IntroSettings
from bot.relationships.domain import RapportError, require_owner
from bot.relationships.models import Relationship

CADENCES = (1, 2, 4)  # weeks between rounds
SIZES = (2, 3)
HISTORY_MONTHS = (1, 36)  # the least and most months pair history may be kept
OPENS_AHEAD = timedelta(hours=12)  # before the day starts in UTC: UTC+14's morning comes first
LATE_LIMIT = timedelta(days=2)  # a round Rapport missed by more than this is skipped
NOTICE = timedelta(days=2)  # the first round leaves people this long to answer the invitation


@dataclass(frozen=True)
class Change:
    """An owner's change, for the reply: which setting, and what is now in force."""

    setting: str
    value: object


def _defaults(relationship: Relationship, today: date) -> IntroSettings:
    return IntroSettings(
        relationship_id=relationship.id,
        team_id=relationship.team_id,
        enabled=False,
        every_weeks=2,
        weekday=1,
        size=2,
        default_in=True,
        history_months=12,
        anchor=today,
    )


def settings_for(session: Session, relationship: Relationship, today: date) -> IntroSettings:
    """The stored settings, or unsaved defaults (intros off) when no owner touched them."""
    return session.get(IntroSettings, relationship.id) or _defaults(relationship, today)


def change(
    session: Session, relationship: Relationship, actor: str, args: tuple[str, ...], now: datetime
) -> Change:
    """Apply one parsed owner command (``bot.intros.parser``). Turning intros on starts the
    schedule ``NOTICE`` from today, so the invitation comes before the first round; a new
    cadence restarts it from today."""
    require_owner(session, relationship, actor)
    settings = session.get(IntroSettings, relationship.id)
    if settings is None:
        settings = _defaults(relationship, now.date())
        session.add(settings)
    operation = args[0]
    if operation in ("on", "off"):
        if operation == "on" and not settings.enabled:
            settings.anchor = (now + NOTICE).date()
        settings.enabled = operation == "on"
        return Change(operation, settings.enabled)
    if operation == "every":
        settings.every_weeks = int(args[1])
        if len(args) > 2:
            settings.weekday = int(args[2])
        settings.anchor = now.date()
        return Change(operation, settings.every_weeks)
    if operation == "size":
        settings.size = int(args[1])
        return Change(operation, settings.size)
    if operation == "default":
        settings.default_in = args[1] == "in"
        return Change(operation, settings.default_in)
    if operation == "history":
        settings.history_months = int(args[1])
        return Change(operation, settings.history_months)
    raise RapportError(f"Unknown intros setting `{operation}`.")  # the parser never gives one


def round_days(settings: IntroSettings, since: date):
    """Round days from the first on or after ``since``: the weekday, every N weeks from the
    anchor."""
    first = settings.anchor + timedelta(days=(settings.weekday - settings.anchor.weekday()) % 7)
    step = timedelta(weeks=settings.every_weeks)
    if since > first:
        first += step * -(-(since - first).days // step.days)
    day = first
    while True:
        yield day
        day += step


def next_round_day(settings: IntroSettings, now: datetime) -> date:
    """The day of the next round that hasn't opened yet."""
    return next(day for day in round_days(settings, now.date()) if opens_at(day) > now)


def opens_at(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC) - OPENS_AHEAD


def due_day(settings: IntroSettings, now: datetime) -> date | None:
    """The round day that should be open now: opened, and not missed by more than
    ``LATE_LIMIT`` (a round Rapport was down for is skipped, not sent late)."""
    earliest = (now - LATE_LIMIT - OPENS_AHEAD).date()
    for day in round_days(settings, max(earliest, settings.anchor)):
        if opens_at(day) > now:
            return None
        if now < datetime.combine(day, time(0), UTC) + LATE_LIMIT:
            return day
    return None  # pragma: no cover - the generator never ends
