"""What Rapport records about talking to Slack: the send ledger, delivery-failure notices,
people's time zones, each workspace's install state and the pictures it uploaded."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.models import Base, UTCDateTime, _enum


class SendStatus(StrEnum):
    PENDING = "pending"  # claimed; being sent (or the sender died: retried once stale)
    SENT = "sent"
    FAILED = "failed"  # Slack said no for good (user_not_found, channel_not_found, …)


class SentMessage(Base):
    """The ledger of scheduled messages: one row per idempotency key, claimed before sending.

    The unique key is what makes restarts, retries and overlapping processes send once.
    """

    __tablename__ = "sent_messages"
    __table_args__ = (
        UniqueConstraint("key", name="uq_sent_message_key"),
        Index("ix_sent_messages_team_status", "team_id", "status"),
        Index("ix_sent_messages_status_notice", "status", "notice_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[SendStatus] = mapped_column(_enum(SendStatus, "send_status"))
    ts: Mapped[str | None] = mapped_column(String(32))  # Slack's message ts, once sent
    sent_channel: Mapped[str | None] = mapped_column(String(32))  # e.g. the DM channel id
    error: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Whose owners hear if Slack refuses it for good; None: nobody is told (see
    # bot.delivery.failures), e.g. pulse reminders and the failure notices themselves.
    relationship_id: Mapped[int | None] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE")
    )
    notice_id: Mapped[int | None] = mapped_column(  # the notice that reported this failure
        ForeignKey("delivery_notices.id", ondelete="SET NULL")
    )


class DeliveryNotice(Base):
    """One batch of permanent delivery failures reported to a relationship's owners.

    Failures are tied to their notice in the same transaction that creates it, so each is
    reported once; ``notified_at`` stays empty until every recipient was tried.
    """

    __tablename__ = "delivery_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class PersonProfile(Base):
    """What Rapport remembers of a Slack user: their time zone, refreshed from users.info."""

    __tablename__ = "person_profiles"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tz: Mapped[str] = mapped_column(String(64))
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Workspace(Base):
    """A workspace's install state. No row means installed (the single-workspace default);
    ``uninstalled_at`` set means Rapport sends nothing there, and its data is deleted once
    the grace period (``bot.slack.workspaces.DELETE_AFTER``) has passed."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    installed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class UploadedFile(Base):
    """A picture Rapport uploaded to Slack, reused while what it shows is unchanged: one row
    per workspace, purpose (what the picture is of, e.g. ``health:42:index``) and content
    fingerprint. ``checked_at``: when Slack last said the file is there."""

    __tablename__ = "uploaded_files"
    __table_args__ = (
        UniqueConstraint("team_id", "purpose", "content_hash", name="uq_uploaded_file_content"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    file_id: Mapped[str] = mapped_column(String(32))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
