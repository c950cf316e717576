"""A relationship's channels: those it watches and the one its alerts go to. A channel
belongs to one relationship, and never is one's watched channel and another's alerts channel.
Membership of a channel is Slack's to say (``bot.slack.channels``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, true
from sqlalchemy.orm import Session

from bot.relationships.domain import RapportError, require_owner
from bot.relationships.models import Relationship, WatchedChannel
from bot.slack import mrkdwn


def watch_channel(
    session: Session, relationship: Relationship, actor: str, channel_id: str, now: datetime
) -> bool:
    """Start watching; returns False when this relationship already watches it."""
    if not may_watch(session, relationship, actor, channel_id):
        return False
    relationship.channels.append(
        WatchedChannel(team_id=relationship.team_id, channel_id=channel_id, added_at=now)
    )
    session.flush()
    return True


def may_watch(session: Session, relationship: Relationship, actor: str, channel_id: str) -> bool:
    """Whether ``actor`` may have ``relationship`` watch the channel: False when it already
    does; ``RapportError`` when it is another relationship's watched or alerts channel.
    Membership of the channel is Slack's to say (``bot.slack.channels``)."""
    require_owner(session, relationship, actor)
    existing = session.scalar(
        select(WatchedChannel).where(
            WatchedChannel.team_id == relationship.team_id,
            WatchedChannel.channel_id == channel_id,
        )
    )
    if existing is not None:
        if existing.relationship_id == relationship.id:
            return False
        raise RapportError(
            f"<#{channel_id}> is already watched for "
            f"*{mrkdwn.escape(existing.relationship.name)}*. A channel can belong to one "
            "relationship; unwatch it there first."
        )
    if alerts_elsewhere(session, relationship.team_id, [channel_id], relationship.id):
        raise RapportError(
            f"<#{channel_id}> is where another relationship's owners get their alerts, so I "
            "won't watch it. Pick the channel where both sides talk."
        )
    return True


def unwatch_channel(
    session: Session, relationship: Relationship, actor: str, channel_id: str
) -> bool:
    """Stop watching; returns False when the channel wasn't watched."""
    require_owner(session, relationship, actor)
    result = session.execute(
        delete(WatchedChannel).where(
            WatchedChannel.relationship_id == relationship.id,
            WatchedChannel.channel_id == channel_id,
        )
    )
    return bool(result.rowcount)


def set_alerts_channel(
    session: Session, relationship: Relationship, actor: str, channel_id: str
) -> None:
    check_alerts_channel(session, relationship, actor, channel_id)
    relationship.alerts_channel_id = channel_id


def check_alerts_channel(
    session: Session, relationship: Relationship, actor: str, channel_id: str
) -> None:
    """``RapportError`` unless ``actor`` may send ``relationship``'s alerts to the channel:
    never one another relationship watches, where that relationship's people would read
    them. Membership of the channel is Slack's to say (``bot.slack.channels``)."""
    owner = require_owner(session, relationship, actor)
    if owner.team_id != relationship.team_id:  # alerts are posted by the creator's install
        raise RapportError(
            f"*{mrkdwn.escape(relationship.name)}* spans two workspaces, and its alerts "
            "channel is set from the workspace that created it: ask an owner there to pick a "
            "channel both companies share. Until then each owner gets alerts by DM."
        )
    if watched_elsewhere(session, relationship.team_id, [channel_id], relationship.id):
        raise RapportError(
            f"<#{channel_id}> is a channel another relationship watches, so your alerts "
            "can't go there. Pick another channel."
        )


def alerts_elsewhere(
    session: Session, team_id: str, channel_ids: list[str], relationship_id: int | None = None
) -> list[str]:
    """Those of ``channel_ids`` that are the alerts channel of another relationship."""
    others = Relationship.id != relationship_id if relationship_id is not None else true()
    found = select(Relationship.alerts_channel_id).where(
        Relationship.team_id == team_id, Relationship.alerts_channel_id.in_(channel_ids), others
    )
    return list(dict.fromkeys(session.scalars(found)))


def watched_elsewhere(
    session: Session, team_id: str, channel_ids: list[str], relationship_id: int | None = None
) -> list[str]:
    """Those of ``channel_ids`` that another relationship watches."""
    others = (
        WatchedChannel.relationship_id != relationship_id if relationship_id is not None else true()
    )
    found = select(WatchedChannel.channel_id).where(
        WatchedChannel.team_id == team_id, WatchedChannel.channel_id.in_(channel_ids), others
    )
    return list(session.scalars(found))
