"""The weekly health digest: owners' settings, when it is due, and what goes in it.

Owners of both sides get it by DM, each at the chosen day and time in their own Slack time
zone (an owner whose zone Slack doesn't give gets UTC, the workspace default), or once in
the relationship's alerts channel, when the first owner's time comes. It is on for every
relationship until an owner turns it off (default Monday 09:00, by DM), and goes out only
while it is fresh: up to ``LATE_LIMIT`` after its time, for a Rapport that was down then.
A relationship without an index (too little data) gets none.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.checkins.models import CheckIn, Occurrence
from bot.core.occurrences import local_instant
from bot.health.models import HealthDigestSettings, HealthSnapshot
from bot.relationships import domain as rel
from bot.relationships.models import Member, Relationship, Role
from bot.slack import mrkdwn
from bot.slack.models import PersonProfile
from bot.slack.timezones import FALLBACK

DEFAULT_ENABLED = True
DEFAULT_WEEKDAY = 0  # Monday
DEFAULT_AT = time(9, 0)
LATE_LIMIT = timedelta(days=1)  # a digest Rapport couldn't send in time goes out this late
UPCOMING = timedelta(days=7)  # check-ins listed: those starting within a week
NO_DATA_RECHECK = timedelta(hours=1)  # a relationship found without an index waits this long


@dataclass(frozen=True)
class DigestSettings:
    enabled: bool = DEFAULT_ENABLED
    weekday: int = DEFAULT_WEEKDAY  # 0 = Monday
    send_at: time = DEFAULT_AT  # local time, in each owner's zone
    to_channel: bool = False  # in the alerts channel, once, instead of each owner's DMs


@dataclass(frozen=True)
class DigestPlan:
    """A relationship whose digest is on, and where it goes: the owners of one workspace
    (both sides' in one, each side's in its own for a joint relationship)."""

    relationship_id: int
    team_id: str
    settings: DigestSettings
    alerts_channel_id: str | None
    owners: tuple[str, ...]

    @property
    def channel(self) -> str | None:
        """The alerts channel, when the digest goes there instead of to each owner."""
        return self.alerts_channel_id if self.settings.to_channel else None


@dataclass(frozen=True)
class UpcomingCheckIn:
    title: str
    starts_at: datetime
    tz: str


class DigestError(rel.RapportError):
    """A digest setting that can't be applied; the message says why."""


def settings_for(session: Session, relationship_id: int) -> DigestSettings:
    row = session.get(HealthDigestSettings, relationship_id)
    return DigestSettings() if row is None else _settings(row)


def change_settings(
    session: Session,
    relationship: Relationship,
    user_id: str,
    now: datetime,
    **changes: object,
) -> DigestSettings:
    """Owners only: set ``enabled``, ``weekday`` with ``send_at``, or ``to_channel``."""
    rel.require_owner(session, relationship, user_id)
    if changes.get("to_channel") and not relationship.alerts_channel_id:
        raise DigestError(
            f"*{mrkdwn.escape(relationship.name)}* has no alerts channel yet: set one with "
            "`/rapport alerts #channel`, then `/rapport digest channel`."
        )
    row = session.get(HealthDigestSettings, relationship.id)
    if row is None:
        row = HealthDigestSettings(
            relationship_id=relationship.id,
            team_id=relationship.team_id,
            **asdict(DigestSettings()),
        )
        session.add(row)
    for column, value in changes.items():
        setattr(row, column, value)
    row.updated_by, row.updated_at = user_id, now
    return _settings(row)


def _settings(row: HealthDigestSettings) -> DigestSettings:
    return DigestSettings(row.enabled, row.weekday, row.send_at, row.to_channel)


# ------------------------------------------------------------------------------- timing


def week_of(moment: datetime, tz: ZoneInfo) -> date:
    """The Monday of the local week ``moment`` falls in."""
    day = moment.astimezone(tz).date()
    return day - timedelta(days=day.weekday())


def send_time(settings: DigestSettings, week: date, tz: ZoneInfo) -> datetime:
    """When the digest of the local week starting ``week`` goes out in ``tz``."""
    return local_instant(week + timedelta(days=settings.weekday), settings.send_at, tz)


def due_week(settings: DigestSettings, tz: ZoneInfo, now: datetime) -> date | None:
    """The local week whose digest is due in ``tz`` now: its time has come, less than
    ``LATE_LIMIT`` ago. None before the time, and once it is too late."""
    this_week = week_of(now, tz)
    for week in (this_week, this_week - timedelta(weeks=1)):
        at = send_time(settings, week, tz)
        if at <= now < at + LATE_LIMIT:
            return week
    return None


def next_send(settings: DigestSettings, tz: ZoneInfo, now: datetime) -> datetime:
    """The next time the digest goes out in ``tz``, after ``now``."""
    week = week_of(now, tz)
    at = send_time(settings, week, tz)
    return at if at > now else send_time(settings, week + timedelta(weeks=1), tz)


def stored_zone(session: Session, team_id: str, user_id: str) -> ZoneInfo:
    """The person's zone as Rapport last heard it from Slack, however old; UTC if never."""
    profile = session.get(PersonProfile, (team_id, user_id))
    try:
        return ZoneInfo(profile.tz if profile is not None else FALLBACK)
    except (ValueError, KeyError):
        return ZoneInfo(FALLBACK)


# ---------------------------------------------------------------------------- due work


def planned_digests(session: Session, now: datetime) -> list[DigestPlan]:
    """Relationships whose digest is on, with their owners, in two queries; leaving out
    those found without an index less than ``NO_DATA_RECHECK`` ago."""
    rows = session.execute(
        select(Relationship.id, Relationship.team_id, Relationship.alerts_channel_id)
        .add_columns(HealthDigestSettings)
        .outerjoin(HealthDigestSettings, HealthDigestSettings.relationship_id == Relationship.id)
        .order_by(Relationship.id)
    ).all()
    owners: dict[int, dict[str, list[str]]] = {}  # relationship -> workspace -> owners
    for relationship_id, team_id, user_id in session.execute(
        select(Member.relationship_id, Member.team_id, Member.user_id)
        .where(Member.role == Role.OWNER)
        .order_by(Member.added_at, Member.id)
    ):
        owners.setdefault(relationship_id, {}).setdefault(team_id, []).append(user_id)
    no_data = _recently_without_index(session, now)
    plans = []
    for relationship_id, team_id, alerts_channel_id, row in rows:
        settings = DigestSettings() if row is None else _settings(row)
        if not settings.enabled or relationship_id in no_data or relationship_id not in owners:
            continue
        by_team = owners[relationship_id]
        if settings.to_channel and alerts_channel_id:  # once, in the alerts channel
            theirs = by_team.get(team_id) or next(iter(by_team.values()))
            by_team = {team_id: theirs}
        plans.extend(  # a joint relationship's owners each through their own workspace
            DigestPlan(relationship_id, team, settings, alerts_channel_id, tuple(theirs))
            for team, theirs in by_team.items()
        )
    return plans


def _recently_without_index(session: Session, now: datetime) -> set[int]:
    """Relationships whose latest snapshot, computed in the last hour, had no index."""
    latest = (
        select(HealthSnapshot.relationship_id, func.max(HealthSnapshot.computed_at).label("at"))
        .group_by(HealthSnapshot.relationship_id)
        .subquery()
    )
    return set(
        session.scalars(
            select(HealthSnapshot.relationship_id)
            .join(
                latest,
                (latest.c.relationship_id == HealthSnapshot.relationship_id)
                & (latest.c.at == HealthSnapshot.computed_at),
            )
            .where(
                HealthSnapshot.index_value.is_(None),
                HealthSnapshot.computed_at > now - NO_DATA_RECHECK,
            )
        )
    )


def upcoming_checkins(
    session: Session, relationship_id: int, now: datetime
) -> list[UpcomingCheckIn]:
    """The relationship's check-ins starting within ``UPCOMING``, not skipped, soonest first."""
    rows = session.execute(
        select(CheckIn.title, Occurrence.starts_at, CheckIn.tz)
        .join(CheckIn, CheckIn.id == Occurrence.checkin_id)
        .where(
            Occurrence.relationship_id == relationship_id,
            Occurrence.starts_at > now,
            Occurrence.starts_at <= now + UPCOMING,
            Occurrence.outcome.is_(None),
        )
        .order_by(Occurrence.starts_at, CheckIn.id)
    ).all()
    return [UpcomingCheckIn(title, starts_at, tz) for title, starts_at, tz in rows]
