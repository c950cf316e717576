"""Database schema (SQLAlchemy 2.0 typed ORM). Every row carries the Slack ``team_id``.

Uniqueness that the product relies on (one membership per person and relationship,
one relationship per watched channel) is enforced here, by the database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Side(StrEnum):
    CLIENT = "client"
    PROVIDER = "provider"

    @property
    def other(self) -> Side:
        return Side.PROVIDER if self is Side.CLIENT else Side.CLIENT


class Role(StrEnum):
    FRONTLINE = "frontline"
    MANAGER = "manager"
    OWNER = "owner"


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC instants; always returns timezone-aware datetimes (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum(enum_type: type[StrEnum], name: str) -> Enum:
    return Enum(
        enum_type,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    pass


class Relationship(Base):
    """A client organisation and its provider, e.g. "Acme ⇄ Stellar service desk"."""

    __tablename__ = "relationships"
    __table_args__ = (UniqueConstraint("team_id", "name_key", name="uq_relationship_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(80))
    name_key: Mapped[str] = mapped_column(String(80))  # case-folded name, for uniqueness
    client_org: Mapped[str] = mapped_column(String(80))
    provider_org: Mapped[str] = mapped_column(String(80))
    alerts_channel_id: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    members: Mapped[list[Member]] = relationship(
        back_populates="relationship", cascade="all, delete-orphan", passive_deletes=True
    )
    channels: Mapped[list[WatchedChannel]] = relationship(
        back_populates="relationship", cascade="all, delete-orphan", passive_deletes=True
    )
    organisations: Mapped[list[OrganisationSide]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    def org_name(self, side: Side) -> str:
        return self.client_org if side is Side.CLIENT else self.provider_org


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("relationship_id", "user_id", name="uq_member_person"),
        Index("ix_members_team_user", "team_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(32))
    side: Mapped[Side] = mapped_column(_enum(Side, "side"))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())

    relationship: Mapped[Relationship] = relationship(back_populates="members")


class WatchedChannel(Base):
    """A shared channel where both sides talk; one relationship per channel per workspace."""

    __tablename__ = "watched_channels"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", name="uq_watched_channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())

    relationship: Mapped[Relationship] = relationship(back_populates="channels")


class OrganisationSide(Base):
    """Slack Connect: everyone from organisation ``org_team_id`` counts for ``side``."""

    __tablename__ = "organisation_sides"
    __table_args__ = (
        UniqueConstraint("relationship_id", "org_team_id", name="uq_organisation_side"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), index=True
    )
    org_team_id: Mapped[str] = mapped_column(String(32))
    org_name: Mapped[str] = mapped_column(String(120))
    side: Mapped[Side] = mapped_column(_enum(Side, "side"))


class CurrentRelationship(Base):
    """The relationship a person chose with ``/rapport use`` when they belong to several."""

    __tablename__ = "current_relationships"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationships.id", ondelete="CASCADE"))


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
    # bot.delivery_failures), e.g. pulse reminders and the failure notices themselves.
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
    the grace period (``bot.workspaces.DELETE_AFTER``) has passed."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    installed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
