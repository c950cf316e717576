"""Telling owners what Slack refused for good: deactivated members, archived channels.

``bot.slack.outbox`` records each permanent refusal in the send ledger, against the relationship
whose owners should hear of it (``SentMessage.relationship_id``). ``batch_failures`` gathers
a relationship's unreported refusals into one ``DeliveryNotice`` once they have settled, so a
fan-out gives one notice rather than one per person, and ties each refusal to its notice in
the same transaction: none is ever reported twice. Notices are sent without a relationship,
so if the owners can't be reached either nothing more is said, and reporting can't loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from bot.checkins.models import CheckIn
from bot.relationships import domain as rel
from bot.relationships.models import Relationship
from bot.slack.models import DeliveryNotice, SendStatus, SentMessage

# Slack's refusals that say the person or channel can't be reached. Other permanent errors
# (a malformed message) are Rapport's own bugs: logged, not put to owners.
UNREACHABLE = frozenset(
    {
        "user_not_found",
        "account_inactive",
        "user_disabled",
        "cannot_dm_bot",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
    }
)
QUIET = timedelta(minutes=5)  # report once no new refusal came for this long (a fan-out ended)
LONGEST_WAIT = timedelta(hours=1)  # ...or once the oldest has waited this long regardless


@dataclass(frozen=True)
class Refusal:
    target: str  # the user or channel id Slack refused
    error: str  # Slack's error code, e.g. "account_inactive"


@dataclass(frozen=True)
class FailureNotice:
    notice_id: int
    team_id: str
    relationship_name: str
    members: tuple[Refusal, ...]  # people Rapport couldn't DM
    alerts_channels: tuple[Refusal, ...]  # where owners' alerts couldn't be posted
    checkin_channels: tuple[Refusal, ...]  # where check-in reminders couldn't be posted
    recipients: tuple[str, ...]  # the alerts channel, or each reachable owner by DM
    owners: tuple[str, ...]  # DMed instead if the alerts channel refuses the notice too
    # whose installation reaches each recipient and owner (a joint relationship has two)
    homes: dict[str, str] = field(default_factory=dict)

    def team_of(self, target: str) -> str:
        return self.homes.get(target, self.team_id)


def is_person(target: str) -> bool:
    """Slack user ids start with U or W; channel ids with C, G or D."""
    return target.startswith(("U", "W"))


def _unreported() -> tuple[ColumnElement[bool], ...]:
    return (
        SentMessage.status == SendStatus.FAILED,
        SentMessage.notice_id.is_(None),
        SentMessage.relationship_id.is_not(None),
        SentMessage.error.in_(UNREACHABLE),
    )


def batch_failures(session: Session, now: datetime) -> list[int]:
    """One new notice per relationship whose unreported refusals have settled; their ids."""
    settled = session.scalars(
        select(SentMessage.relationship_id)
        .where(*_unreported())
        .group_by(SentMessage.relationship_id)
        .having(
            or_(
                func.max(SentMessage.claimed_at) <= now - QUIET,
                func.min(SentMessage.claimed_at) <= now - LONGEST_WAIT,
            )
        )
    ).all()
    notice_ids = []
    for relationship_id in settled:
        relationship = session.get(Relationship, relationship_id)
        assert relationship is not None  # ledger rows go with their relationship
        notice = DeliveryNotice(
            team_id=relationship.team_id, relationship_id=relationship_id, created_at=now
        )
        session.add(notice)
        session.flush()
        taken = session.execute(
            update(SentMessage)
            .where(*_unreported(), SentMessage.relationship_id == relationship_id)
            .values(notice_id=notice.id)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount:
            notice_ids.append(notice.id)
        else:  # another scheduler took them first
            session.delete(notice)
    return notice_ids


def pending_notices(session: Session) -> list[FailureNotice]:
    """Notices not yet delivered to every recipient (new, or interrupted by a crash)."""
    notices = session.scalars(
        select(DeliveryNotice)
        .where(DeliveryNotice.notified_at.is_(None))
        .order_by(DeliveryNotice.id)
    ).all()
    return [_failure_notice(session, notice) for notice in notices]


def mark_notified(session: Session, notice_id: int, now: datetime) -> None:
    session.execute(
        update(DeliveryNotice).where(DeliveryNotice.id == notice_id).values(notified_at=now)
    )


def _failure_notice(session: Session, notice: DeliveryNotice) -> FailureNotice:
    relationship = session.get(Relationship, notice.relationship_id)
    assert relationship is not None
    refused: dict[str, str] = {}  # target -> error; a person refused twice is listed once
    for target, error in session.execute(
        select(SentMessage.channel, SentMessage.error)
        .where(SentMessage.notice_id == notice.id)
        .order_by(SentMessage.id)
    ):
        refused.setdefault(target, error or "")
    checkin_channels = set(
        session.scalars(
            select(CheckIn.channel_id).where(
                CheckIn.relationship_id == relationship.id, CheckIn.channel_id.is_not(None)
            )
        )
    )
    members, alerts, checkins = [], [], []
    for target, error in refused.items():
        refusal = Refusal(target, error)
        if is_person(target):
            members.append(refusal)
        elif target in checkin_channels and target != relationship.alerts_channel_id:
            checkins.append(refusal)
        else:  # the alerts channel, or one that was, before owners moved it
            alerts.append(refusal)
    reachable = [
        recipient
        for recipient in rel.owner_recipients(session, relationship)
        if recipient.channel not in refused
    ]
    owners = tuple(recipient.channel for recipient in reachable)
    alerts_channel = relationship.alerts_channel_id
    recipients = (alerts_channel,) if alerts_channel and alerts_channel not in refused else owners
    return FailureNotice(
        notice_id=notice.id,
        team_id=notice.team_id,
        relationship_name=relationship.name,
        members=tuple(members),
        alerts_channels=tuple(alerts),
        checkin_channels=tuple(checkins),
        recipients=recipients,
        owners=owners,
        homes={recipient.channel: recipient.team_id for recipient in reachable},
    )
