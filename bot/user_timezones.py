"""People's Slack time zones (``users.info`` → ``tz``), cached in the database for a day."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

from bot.db import Database
from bot.models import PersonProfile

REFRESH_AFTER = timedelta(days=1)
FALLBACK = "UTC"


def user_timezone(
    db: Database, client: WebClient | None, team_id: str, user_id: str, now: datetime
) -> ZoneInfo:
    """The person's own time zone; UTC when Slack can't tell us (e.g. a deactivated user,
    or no ``client`` because the workspace uninstalled Rapport)."""
    with db.transaction() as session:
        profile = session.get(PersonProfile, (team_id, user_id))
        if profile is not None and now - profile.refreshed_at < REFRESH_AFTER:
            return _zone(profile.tz)
        cached = profile.tz if profile is not None else None
    if client is None:
        return _zone(cached or FALLBACK)
    try:
        tz_name = client.users_info(user=user_id)["user"].get("tz") or FALLBACK
    except SlackApiError:
        return _zone(cached or FALLBACK)
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


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK)
