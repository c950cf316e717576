"""What makes a check-in draft unsaveable, worded per modal field."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.checkins.models import CheckIn
from bot.checkins.parser import TITLE_MAX, CheckInDraft, reminders_text
from bot.core.occurrences import typical_interval
from bot.relationships import domain as rel
from bot.relationships.domain import name_key
from bot.relationships.models import Member, Relationship
from bot.slack import mrkdwn

MIN_INTERVAL = timedelta(days=1)  # a check-in happens at most once a day
MAX_START_AHEAD = timedelta(days=2 * 365)  # `from` a date at most about two years ahead


def draft_problems(
    session: Session, relationship: Relationship, draft: CheckInDraft, checkin_id: int | None
) -> dict[str, str]:
    """Problems keyed by modal field (title, cadence, tz, participants)."""
    errors: dict[str, str] = {}
    title = " ".join(draft.title.split())
    if not title:
        errors["title"] = "Give the check-in a title."
    elif problem := rel.length_problem(title, TITLE_MAX):
        errors["title"] = problem
    else:
        clash = session.scalar(
            select(CheckIn.id).where(
                CheckIn.relationship_id == relationship.id, CheckIn.title_key == name_key(title)
            )
        )
        if clash is not None and clash != checkin_id:
            errors["title"] = (
                f"*{mrkdwn.escape(relationship.name)}* already has a check-in "
                f"“{mrkdwn.escape(title)}”."
            )
    if not draft.participants:
        errors["participants"] = "Who takes part? Name people from both sides."
    else:
        members = set(
            session.scalars(
                select(Member.user_id).where(
                    Member.relationship_id == relationship.id,
                    Member.user_id.in_(draft.participants),
                )
            )
        )
        outside = [user for user in draft.participants if user not in members]
        if outside:  # no mentions: the modal shows its errors as plain text
            who = "Someone you picked is" if len(outside) == 1 else f"{len(outside)} people are"
            errors["participants"] = (
                f"{who} not part of *{mrkdwn.escape(relationship.name)}*. An owner can add "
                "them with `/rapport add @person client|provider`."
            )
    interval = typical_interval(draft.cadence)
    if interval < MIN_INTERVAL:
        errors["cadence"] = (
            f"`{mrkdwn.escape(draft.cadence.describe())}` happens more than once a day; a "
            "check-in can happen at most daily. Give one minute and one hour, e.g. "
            "`cron 0 9 * * 1-5` (09:00 on weekdays)."
        )
    elif timedelta(minutes=max(draft.reminders)) > interval:
        longest = int(interval.total_seconds() // 60)
        errors["remind"] = (
            f"`remind {reminders_text((max(draft.reminders),))}` is longer than the gap "
            f"between check-ins ({mrkdwn.escape(draft.cadence.describe())}): remind at most "
            f"{reminders_text((longest,))} before, e.g. `remind 1d,15m`."
        )
    return errors


def start_date_problem(starts_on: date | None, tz: ZoneInfo, now: datetime) -> str | None:
    """Why a check-in can't start on ``starts_on`` (a local date in ``tz``), if it can't."""
    if starts_on is None:
        return None
    today = now.astimezone(tz).date()
    if starts_on < today:
        return f"{starts_on:%-d %b %Y} has already passed in {tz.key}. Pick today or a later date."
    if starts_on > today + MAX_START_AHEAD:
        return f"{starts_on:%-d %b %Y} is too far ahead: start within two years."
    return None
