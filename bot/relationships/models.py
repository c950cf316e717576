"""Relationships, their members and watched channels (SQLAlchemy 2.0 typed ORM).

Uniqueness that the product relies on (one membership per person and relationship,
one relationship per watched channel) is enforced here, by the database.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.core.models import Base, UTCDateTime, _enum


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


class Relationship(Base):
    """A client organisation and its provider, e.g. "Acme ⇄ Stellar service desk".

    It lives in the workspace that created it (``team_id``). A *joint* relationship also has
    a partner workspace, where the other company installed Rapport and joined with an invite
    code: the people of ``partner_side`` are reached through that workspace's installation.
    """

    __tablename__ = "relationships"
    __table_args__ = (UniqueConstraint("team_id", "name_key", name="uq_relationship_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(80))
    name_key: Mapped[str] = mapped_column(String(80))  # case-folded name, for uniqueness
    client_org: Mapped[str] = mapped_column(String(80))
    provider_org: Mapped[str] = mapped_column(String(80))
    alerts_channel_id: Mapped[str | None] = mapped_column(String(32))
    partner_team_id: Mapped[str | None] = mapped_column(String(32), index=True)
    partner_side: Mapped[Side | None] = mapped_column(_enum(Side, "side", checked=False))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # counts additions of members: a pulse round notes the count once all its members have
    # their prompt (``bot.pulse.prompts``), so the scheduler needn't look for anyone left
    member_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    members: Mapped[list[Member]] = relationship(
        back_populates="relationship", cascade="all, delete-orphan", passive_deletes=True
    )
    channels: Mapped[list[WatchedChannel]] = relationship(
        back_populates="relationship", cascade="all, delete-orphan", passive_deletes=True
    )
    organisations: Mapped[list[OrganisationSide]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    def members_added(self) -> None:
        """Count an addition of members (at flush, in SQL: concurrent additions both count)."""
        self.member_generation = Relationship.member_generation + 1

    def org_name(self, side: Side) -> str:
        return self.client_org if side is Side.CLIENT else self.provider_org

    @property
    def is_joint(self) -> bool:
        return self.partner_team_id is not None

    def team_of(self, side: Side) -> str:
        """The workspace whose installation serves ``side``'s people."""
        if self.partner_team_id is not None and side is self.partner_side:
            return self.partner_team_id
        return self.team_id

    def side_of(self, team_id: str) -> Side | None:
        """The side a workspace governs in a joint relationship (None when it isn't one)."""
        if self.partner_team_id is None or self.partner_side is None:
            return None
        if team_id == self.partner_team_id:
            return self.partner_side
        return self.partner_side.other if team_id == self.team_id else None


class Member(Base):
    """A person in a relationship. ``team_id`` is their home workspace: the one whose
    installation prompts and reminds them (the partner's, for a joint relationship's
    partner side)."""

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
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", name="uq_watched_channel"),
        Index("ix_watched_channels_channel_id", "channel_id"),
    )

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


class RelationshipInvite(Base):
    """A one-time code an owner gives the other company's owner, to join ``relationship``
    from their own workspace. Only a hash of the code is stored."""

    __tablename__ = "relationship_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    side: Mapped[Side] = mapped_column(_enum(Side, "side"))  # the side that joins
    invitee_id: Mapped[str] = mapped_column(String(32))  # who may use it
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
