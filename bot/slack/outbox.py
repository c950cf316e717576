"""Exactly-once sending of scheduled messages (prompts, reminders, alerts, digests).

``send_once`` claims the message's idempotency key in the database *before* calling Slack
and records the outcome after. A second attempt with the same key (a restart, a retry, a
second process) finds the claim and sends nothing. A claim left ``pending`` by a process
that died mid-send is taken over once it is older than ``STALE_CLAIM``, so nothing is lost.

Every message carries its key in Slack message metadata, so a claim taken over is first
looked for in the conversation: if the process died (or timed out) after Slack posted it
but before the ledger said so, the message is found and recorded, not posted twice.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.core.db import Database
from bot.core.metrics import instruments
from bot.slack.client import SlackClients, posting_once
from bot.slack.models import SendStatus, SentMessage

logger = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=10)
WORKSPACE_INACTIVE = "workspace_inactive"
METADATA_EVENT = "rapport_send"  # Slack message metadata event type: {"key": <key>}
CLOCK_MARGIN = timedelta(minutes=2)  # looked back before a claim, for clocks that differ
HISTORY_PAGE = 200  # messages per conversations.history / .replies page
HISTORY_PAGES = 10  # looked through at most: far more than a DM or thread gets in between

# Slack answers meaning "not now": try again on a later tick
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

# Slack refusing the workspace's token (uninstalled, maybe by another process a moment ago):
# the claim is released like a transient error, and the sender holds the workspace back
TOKEN_REFUSED = frozenset({"token_revoked", "invalid_auth"})

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
    # whose owners are told if Slack refuses it for good (bot.delivery.failures); None: nobody
    relationship_id: int | None = None


@dataclass(frozen=True)
class Delivery:
    key: str
    status: str  # "sent", "failed", "duplicate" (already handled) or "retry" (try later)
    # "retry" with error WORKSPACE_INACTIVE: the workspace uninstalled Rapport; nothing sent
    ts: str | None = None
    channel: str | None = None
    error: str | None = None
    retry_after: float | None = None  # with error "ratelimited": Slack's Retry-After, seconds


@dataclass(frozen=True)
class Claim:
    """A key taken for sending. ``since`` is when an earlier attempt claimed it, for a claim
    taken over: that attempt may have reached Slack any time after then."""

    since: datetime | None = None


def claim(db: Database, message: Outgoing, now: datetime) -> Claim | None:
    """Take the key; None when it is sent, failed, or being sent by someone else."""
    try:
        with db.statements() as connection:
            connection.execute(
                _CLAIM,
                {
                    "team_id": message.team_id,
                    "key": message.key,
                    "channel": message.channel,
                    "relationship_id": message.relationship_id,
                    "status": SendStatus.PENDING,
                    "attempts": 1,
                    "claimed_at": now,
                },
            )
        return Claim()
    except IntegrityError:
        pass
    with db.transaction() as session:  # take over a claim abandoned by a crashed sender
        pending = (
            SentMessage.key == message.key,
            SentMessage.status == SendStatus.PENDING,
        )
        held = session.scalar(
            select(SentMessage.claimed_at).where(
                *pending, SentMessage.claimed_at < now - STALE_CLAIM
            )
        )
        if held is None:
            return None
        result = session.execute(  # only if nobody else took it over meanwhile
            update(SentMessage)
            .where(*pending, SentMessage.claimed_at == held)
            .values(claimed_at=now, attempts=SentMessage.attempts + 1)
        )
        return Claim(since=held) if result.rowcount == 1 else None


def send_once(db: Database, slack: SlackClients, message: Outgoing, now: datetime) -> Delivery:
    """Post ``message`` unless its key was already claimed; record what Slack said. A claim
    taken over is first looked for in Slack, and recorded as sent if it is there."""
    delivery = _send_once(db, slack, message, now)
    kind = message.key.split(":", 1)[0]  # "pulse-prompt": bot.slack.message_keys
    instruments().sends.labels(kind=kind, outcome=delivery.status).inc()
    return delivery


def _send_once(db: Database, slack: SlackClients, message: Outgoing, now: datetime) -> Delivery:
    client = slack.for_team(message.team_id)
    if client is None:
        return Delivery(message.key, "retry", error=WORKSPACE_INACTIVE)
    claimed = claim(db, message, now)
    if claimed is None:
        return Delivery(message.key, "duplicate")
    try:
        found = None if claimed.since is None else _find_posted(client, message, claimed.since)
        if found is not None:
            ts, channel = found
            logger.info("%s was already in Slack: recorded, not sent again", message.key)
            _record(db, message.key, SendStatus.SENT, ts=ts, channel=channel, sent_at=now)
            return Delivery(message.key, "sent", ts=ts, channel=channel)
        response = posting_once(client).chat_postMessage(
            channel=message.channel,
            text=message.text,
            blocks=message.blocks,
            thread_ts=message.thread_ts,
            metadata={"event_type": METADATA_EVENT, "event_payload": {"key": message.key}},
        )
    except SlackApiError as error:
        code = str(error.response.get("error", "unknown_error"))
        if code in PERMANENT_ERRORS:
            _record(db, message.key, SendStatus.FAILED, error=code)
            return Delivery(message.key, "failed", error=code)
        _release(db, message.key, now, code)
        return Delivery(message.key, "retry", error=code, retry_after=_retry_after(error))
    except (SlackClientError, OSError) as error:  # retries exhausted: timeouts, connection
        _release(db, message.key, now, type(error).__name__)
        return Delivery(message.key, "retry", error=type(error).__name__)
    ts, channel = response.get("ts"), response.get("channel")
    _record(db, message.key, SendStatus.SENT, ts=ts, channel=channel, sent_at=now)
    return Delivery(message.key, "sent", ts=ts, channel=channel)


def _retry_after(error: SlackApiError) -> float | None:
    headers = {name.lower(): value for name, value in (error.response.headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list):  # some transports give each header's values as a list
        value = value[0] if value else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _find_posted(client: WebClient, message: Outgoing, since: datetime) -> tuple[str, str] | None:
    """The ts and channel of ``message`` if an earlier attempt posted it: its key, in the
    metadata of a message in the conversation (or the thread) since ``since``. None when it
    isn't there, or when Slack won't let us look (e.g. a workspace that hasn't granted
    ``im:history`` yet): then sending is the only way on. Slack errors meaning "not now"
    are raised, for the claim to be retried later."""
    try:
        channel = message.channel
        if channel.startswith(("U", "W")):  # a DM, posted to the user id
            channel = client.conversations_open(users=channel)["channel"]["id"]
        if message.thread_ts:
            pages = functools.partial(client.conversations_replies, ts=message.thread_ts)
        else:
            pages = client.conversations_history
        cursor = None
        for _ in range(HISTORY_PAGES):
            page = pages(
                channel=channel,
                oldest=f"{(since - CLOCK_MARGIN).timestamp():.6f}",
                include_all_metadata=True,
                limit=HISTORY_PAGE,
                cursor=cursor,
            )
            for posted in page.get("messages") or []:
                metadata = posted.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == METADATA_EVENT
                    and payload.get("key") == message.key
                ):
                    return posted["ts"], channel
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
    except SlackApiError as error:
        code = str(error.response.get("error", "unknown_error"))
        if code in TRANSIENT_ERRORS or error.response.status_code >= 500:
            raise
        logger.warning("couldn't look for %s in Slack (%s): sending it", message.key, code)
    return None


def _record(db: Database, key: str, status: SendStatus, **values: Any) -> None:
    with db.statements() as connection:
        connection.execute(
            _RECORD,
            {
                "message_key": key,
                "new_status": status,
                "new_error": values.get("error"),
                "new_ts": values.get("ts"),
                "new_channel": values.get("channel"),
                "new_sent_at": values.get("sent_at"),
            },
        )


def _release(db: Database, key: str, now: datetime, error: str) -> None:
    """Leave the claim pending but already stale, so the next tick retries it."""
    with db.statements() as connection:
        connection.execute(
            _RELEASE,
            {
                "message_key": key,
                "stale_since": now - STALE_CLAIM - timedelta(seconds=1),
                "new_error": error,
            },
        )


# the ledger's statements, built once: the scheduler runs them for every message it sends
_CLAIM = insert(SentMessage)
_RECORD = (
    update(SentMessage)
    .where(SentMessage.key == bindparam("message_key"))
    .values(
        status=bindparam("new_status"),
        error=bindparam("new_error"),
        ts=bindparam("new_ts"),
        sent_channel=bindparam("new_channel"),
        sent_at=bindparam("new_sent_at"),
    )
)
_RELEASE = (
    update(SentMessage)
    .where(SentMessage.key == bindparam("message_key"))
    .values(claimed_at=bindparam("stale_since"), error=bindparam("new_error"))
)


def sent(db: Database, key: str) -> SentMessage | None:
    """The ledger row for ``key`` (to thread a reminder under its prompt, for instance)."""
    with db.transaction() as session:
        return session.scalar(select(SentMessage).where(SentMessage.key == key))


class LedgerBacklog:
    """``rapport_ledger_backlog``: messages claimed for sending and not yet sent, read from
    the ledger at each scrape (a prometheus_client collector). A claim is pending while it
    is being sent and after Slack said "not now" until a later tick sends it, so a backlog
    that stays up means sending has stalled."""

    def __init__(self, db: Database):
        self._db = db

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        try:
            with self._db.read() as session:
                pending = session.scalar(
                    select(func.count()).where(SentMessage.status == SendStatus.PENDING)
                )
        except SQLAlchemyError as error:  # the other metrics still answer
            logger.warning("ledger backlog not read for /metrics: %s", type(error).__name__)
            return
        yield GaugeMetricFamily(
            "rapport_ledger_backlog",
            "Scheduled messages claimed in the send ledger and not yet sent.",
            value=pending or 0,
        )


def outcomes(db: Database, keys: list[str]) -> dict[str, SentMessage]:
    """The ledger rows of those of ``keys`` that were claimed, by key, a query per
    ``KEYS_A_QUERY``: a job that sends many messages skips the settled ones before doing any
    work for them, and reminders find their prompts' threads."""
    found: dict[str, SentMessage] = {}
    with db.read() as session:
        for start in range(0, len(keys), KEYS_A_QUERY):
            chosen = SentMessage.key.in_(keys[start : start + KEYS_A_QUERY])
            found.update(
                (row.key, row) for row in session.scalars(select(SentMessage).where(chosen))
            )
    return found


# keys a query: each is a bound value, and SQLite (32,766) and PostgreSQL (65,535) cap them
KEYS_A_QUERY = 1000
