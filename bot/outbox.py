"""Exactly-once sending of scheduled messages (prompts, reminders, alerts, digests).

``send_once`` claims the message's idempotency key in the database *before* calling Slack
and records the outcome after. A second attempt with the same key (a restart, a retry, a
second process) finds the claim and sends nothing. A claim left ``pending`` by a process
that died mid-send is taken over once it is older than ``STALE_CLAIM``, so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.db import Database
from bot.models import SendStatus, SentMessage
from bot.slack_client import SlackClients

STALE_CLAIM = timedelta(minutes=10)
WORKSPACE_INACTIVE = "workspace_inactive"

# Slack answers that will not change by trying again: recorded and surfaced, never retried.
PERMANENT_ERRORS = frozenset(
    {
        "user_not_found",
        "account_inactive",
        "user_disabled",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "cannot_dm_bot",
        "restricted_action",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
    }
)


@dataclass(frozen=True)
class Outgoing:
    team_id: str
    key: str  # idempotency key, e.g. "pulse-prompt:42:U123"
    channel: str  # a channel id, or a user id for a DM
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    # whose owners are told if Slack refuses it for good (bot.delivery_failures); None: nobody
    relationship_id: int | None = None


@dataclass(frozen=True)
class Delivery:
    key: str
    status: str  # "sent", "failed", "duplicate" (already handled) or "retry" (try later)
    # "retry" with error WORKSPACE_INACTIVE: the workspace uninstalled Rapport; nothing sent
    ts: str | None = None
    channel: str | None = None
    error: str | None = None


def claim(db: Database, message: Outgoing, now: datetime) -> bool:
    """Take the key; False when it is sent, failed, or being sent by someone else."""
    try:
        with db.transaction() as session:
            session.add(
                SentMessage(
                    team_id=message.team_id,
                    key=message.key,
                    channel=message.channel,
                    relationship_id=message.relationship_id,
                    status=SendStatus.PENDING,
                    attempts=1,
                    claimed_at=now,
                )
            )
        return True
    except IntegrityError:
        pass
    with db.transaction() as session:  # take over a claim abandoned by a crashed sender
        result = session.execute(
            update(SentMessage)
            .where(
                SentMessage.key == message.key,
                SentMessage.status == SendStatus.PENDING,
                SentMessage.claimed_at < now - STALE_CLAIM,
            )
            .values(claimed_at=now, attempts=SentMessage.attempts + 1)
        )
        return result.rowcount == 1


def send_once(db: Database, slack: SlackClients, message: Outgoing, now: datetime) -> Delivery:
    """Post ``message`` unless its key was already claimed; record what Slack said."""
    client = slack.for_team(message.team_id)
    if client is None:
        return Delivery(message.key, "retry", error=WORKSPACE_INACTIVE)
    if not claim(db, message, now):
        return Delivery(message.key, "duplicate")
    try:
        response = client.chat_postMessage(
            channel=message.channel,
            text=message.text,
            blocks=message.blocks,
            thread_ts=message.thread_ts,
        )
    except SlackApiError as error:
        code = str(error.response.get("error", "unknown_error"))
        if code in PERMANENT_ERRORS:
            _record(db, message.key, SendStatus.FAILED, error=code)
            return Delivery(message.key, "failed", error=code)
        _release(db, message.key, now, code)
        return Delivery(message.key, "retry", error=code)
    except (SlackClientError, OSError) as error:  # retries exhausted: timeouts, connection
        _release(db, message.key, now, type(error).__name__)
        return Delivery(message.key, "retry", error=type(error).__name__)
    ts, channel = response.get("ts"), response.get("channel")
    _record(db, message.key, SendStatus.SENT, ts=ts, channel=channel, sent_at=now)
    return Delivery(message.key, "sent", ts=ts, channel=channel)


def _record(db: Database, key: str, status: SendStatus, **values: Any) -> None:
    error = values.pop("error", None)
    with db.transaction() as session:
        session.execute(
            update(SentMessage)
            .where(SentMessage.key == key)
            .values(
                status=status,
                error=error,
                ts=values.get("ts"),
                sent_channel=values.get("channel"),
                sent_at=values.get("sent_at"),
            )
        )


def _release(db: Database, key: str, now: datetime, error: str) -> None:
    """Leave the claim pending but already stale, so the next tick retries it."""
    with db.transaction() as session:
        session.execute(
            update(SentMessage)
            .where(SentMessage.key == key)
            .values(claimed_at=now - STALE_CLAIM - timedelta(seconds=1), error=error)
        )


def sent(db: Database, key: str) -> SentMessage | None:
    """The ledger row for ``key`` (to thread a reminder under its prompt, for instance)."""
    with db.transaction() as session:
        return session.scalar(select(SentMessage).where(SentMessage.key == key))
