"""A relationship's pulse settings: the stored row (or its defaults) and ``/pulse settings``.

Problems a person can fix raise ``RapportError`` whose message is safe mrkdwn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from bot.pulse.models import PulseRound, PulseSettings
from bot.relationships.domain import RapportError, require_owner
from bot.relationships.models import Relationship
from bot.slack import mrkdwn

DEFAULT_CADENCE = "every 2 weeks tue 10:00"
DEFAULT_MIN_GROUP = 3  # the fewest answers a figure is shown for, until owners change it


@dataclass(frozen=True)
class RoundTiming:
    """The settings that decide when a relationship's scheduled rounds open and close: the
    scheduler reads them for every relationship each tick, as plain values."""

    cadence: str  # Cadence.to_spec()
    anchor: date
    not_before: datetime
    window_days: int
    paused: bool

    @classmethod
    def default(cls, created_at: datetime) -> RoundTiming:
        """Until owners change anything: every two weeks, from the day it was set up."""
        return cls(DEFAULT_CADENCE, created_at.date(), created_at, window_days=3, paused=False)

    @classmethod
    def of(cls, settings: PulseSettings) -> RoundTiming:
        return cls(
            settings.cadence,
            settings.anchor,
            settings.not_before,
            settings.window_days,
            settings.paused,
        )


def _defaults(relationship: Relationship) -> PulseSettings:
    return PulseSettings(
        relationship_id=relationship.id,
        team_id=relationship.team_id,
        **vars(RoundTiming.default(relationship.created_at)),  # asdict would deep-copy
        min_group=DEFAULT_MIN_GROUP,
        drop_alert=0.5,
        gap_alert=1.0,
        response_alert=0.4,
        reminder_hours=24,
    )


def settings_for(session: Session, relationship: Relationship) -> PulseSettings:
    """The relationship's settings; unsaved defaults when owners never changed any."""
    saved = session.scalar(_SETTINGS, {"relationship_id": relationship.id})
    return saved or _defaults(relationship)


# built once: /pulse results and /rapport health run it each time (see bot.relationships.domain)
_SETTINGS = select(PulseSettings).where(
    PulseSettings.relationship_id == bindparam("relationship_id")
)


def editable_settings(session: Session, relationship: Relationship) -> PulseSettings:
    settings = session.get(PulseSettings, relationship.id)
    if settings is None:
        settings = _defaults(relationship)
        session.add(settings)
    return settings


@dataclass(frozen=True)
class SettingRule:
    column: str
    low: float
    high: float
    unit: str
    integer: bool = True
    scale: float = 1.0  # stored = typed / scale

    @property
    def example(self) -> float:
        middle = (self.low + self.high) / 4
        return round(middle) if self.integer else round(middle, 1)


SETTING_RULES = {
    "min-group": SettingRule("min_group", 2, 50, "answers"),
    "window": SettingRule("window_days", 1, 14, "days"),
    "reminder": SettingRule("reminder_hours", 1, 72, "hours before the close"),
    "drop": SettingRule("drop_alert", 0.1, 4, "points", integer=False),
    "gap": SettingRule("gap_alert", 0.1, 4, "points", integer=False),
    "response": SettingRule("response_alert", 1, 100, "%", scale=100),
}


def change_setting(
    session: Session, relationship: Relationship, actor: str, name: str, value: str, now: datetime
) -> str:
    """Set one of ``SETTING_RULES`` from typed text; returns what is now in force.
    ``min-group`` also applies to rounds not closed yet; a closed round keeps its own."""
    require_owner(session, relationship, actor)
    rule = SETTING_RULES.get(name.lower())
    if rule is None:
        raise RapportError(
            f"I don't know the setting `{mrkdwn.echo(name)}`. "
            f"Settings: {', '.join(f'`{n}`' for n in SETTING_RULES)}."
        )
    try:
        number = float(value.strip().rstrip("%"))
    except ValueError:
        number = float("nan")
    if not (rule.low <= number <= rule.high) or (rule.integer and number != int(number)):
        kind = "a whole number" if rule.integer else "a number"
        raise RapportError(
            f"`{name}` takes {kind} from {rule.low:g} to {rule.high:g} ({rule.unit}), "
            f"e.g. `/pulse settings {name} {rule.example:g}`."
        )
    settings = editable_settings(session, relationship)
    stored = number / rule.scale
    setattr(settings, rule.column, int(stored) if rule.integer and rule.scale == 1 else stored)
    if rule.column == "min_group":
        session.execute(
            update(PulseRound)
            .where(
                PulseRound.relationship_id == relationship.id,
                PulseRound.closes_at > now,
            )
            .values(min_group=settings.min_group)
        )
    session.flush()
    return f"{number:g}{'' if rule.unit == '%' else ' '}{rule.unit}"
