"""People's Slack time zones (``users.info`` → ``tz``), cached in the database for a day."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from bot.core.db import Database
from bot.slack.models import PersonProfile

REFRESH_AFTER = timedelta(days=1)
FALLBACK = "UTC"
# users.info answers that won't change by asking again: such a person gets FALLBACK
UNKNOWN_USER = frozenset({"user_not_found", "user_not_visible", "account_inactive"})


def user_timezone(
    db: Database, client: WebClient | None, team_id: str, user_id: str, now: datetime
) -> ZoneInfo:
    """The person's own time zone; UTC when it can't be known (e.g. Slack is unavailable
    and it was never cached, or no ``client`` because the workspace uninstalled Rapport)."""
    return known_timezone(db, client, team_id, user_id, now) or ZoneInfo(FALLBACK)


def cached_timezones(
    db: Database, team_id: str, user_ids: list[str], now: datetime
) -> dict[str, ZoneInfo]:
    """The zones cached less than a day ago for ``user_ids``, in one query, so a tick over
    thousands of people asks Slack only about the few it doesn't know."""
    with db.transaction() as session:
        rows = session.execute(
            select(PersonProfile.user_id, PersonProfile.tz).where(
                PersonProfile.team_id == team_id,
                PersonProfile.user_id.in_(user_ids),
                PersonProfile.refreshed_at > now - REFRESH_AFTER,
            )
        ).all()
    return {user_id: _zone(tz) for user_id, tz in rows}


# The person's zone if Slack told it less than a day ago, else NULL: a column for a
# command's own read to carry (its values: ``fresh_zone_values``), so that it can answer in
# its acknowledgement without asking Slack, and without a statement of its own.
FRESH_ZONE = (
    select(PersonProfile.tz)
    .where(
        PersonProfile.team_id == bindparam("zone_team_id"),
        PersonProfile.user_id == bindparam("zone_user_id"),
        PersonProfile.refreshed_at > bindparam("zone_since"),
    )
    .scalar_subquery()
    .label("fresh_zone")
)


def fresh_zone_values(team_id: str, user_id: str, now: datetime) -> dict[str, Any]:
    return {"zone_team_id": team_id, "zone_user_id": user_id, "zone_since": now - REFRESH_AFTER}


def fresh_zone(tz: str | None) -> ZoneInfo | None:
    """``FRESH_ZONE`` as read: the zone, or None when Slack hasn't told it lately."""
    return _zone(tz) if tz is not None else None


def known_timezone(
    db: Database, client: WebClient | None, team_id: str, user_id: str, now: datetime
) -> ZoneInfo | None:
    """The person's zone, cached for a day; UTC for someone Slack doesn't know (a deleted
    user). None when Slack can't say right now (rate limited after retries, a server error,
    a timeout, no ``client``) and no older answer is cached: the caller may try again later
    rather than act on a guess."""
    with db.transaction() as session:
        profile = session.get(PersonProfile, (team_id, user_id))
        if _is_fresh(profile, now):
            return _zone(profile.tz)
        cached = _zone(profile.tz) if profile is not None else None
    if client is None:
        return cached
    try:
        tz_name = client.users_info(user=user_id)["user"].get("tz") or FALLBACK
    except SlackApiError as error:
        if error.response.get("error") in UNKNOWN_USER:
            return cached or ZoneInfo(FALLBACK)
        return cached
    except (SlackClientError, OSError):  # retries exhausted: timeouts, connection errors
        return cached
    try:
        with db.transaction() as session:
            profile = session.get(PersonProfile, (team_id, user_id))
            if profile is None:
                session.add(
                    PersonProfile(team_id=team_id, user_id=user_id, tz=tz_name, refreshed_at=now)
                )
            else:
                profile.tz, profile.refreshed_at = tz_name, now
    except IntegrityError:
        pass  # another process cached this person a moment ago; its answer is as good
    return _zone(tz_name)


def _is_fresh(profile: PersonProfile | None, now: datetime) -> bool:
    return profile is not None and now - profile.refreshed_at < REFRESH_AFTER


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK)
