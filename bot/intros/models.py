"""Intro tables: owners' settings, each person's choice, rounds, the groups made and who was
in them (with their *Did you meet?* answer), and who sat a round out.

Groups are the pair history pairing reads to avoid repeats; they are deleted after the
relationship's retention period (``bot.intros.retention``) and by ``/rapport forget-me``.
Owners only ever see counts of them.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.models import Base, UTCDateTime, _enum
from bot.relationships.models import Role, Side


class Choice(StrEnum):
    IN = "in"
    OUT = "out"


class Route(StrEnum):
    GROUP_DM = "group_dm"  # one conversation with everyone in the group
    SEPARATE_DMS = "separate_dms"  # Slack refused the group DM: one DM each


class Answer(StrEnum):
    MET = "met"
    NOT_YET = "not_yet"
    SKIPPED = "skipped"


class IntroSettings(Base):
    """One row per relationship once an owner touches intros; off until they turn it on."""

    __tablename__ = "intro_settings"

    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    every_weeks: Mapped[int] = mapped_column(Integer, default=2)
    weekday: Mapped[int] = mapped_column(Integer, default=1)  # 0 = Monday
    size: Mapped[int] = mapped_column(Integer, default=2)
    default_in: Mapped[bool] = mapped_column(Boolean, default=True)  # people who never answered
    history_months: Mapped[int] = mapped_column(Integer, default=12)
    anchor: Mapped[date] = mapped_column(Date)  # rounds fall every_weeks from here


class IntroPreference(Base):
    """What one person said about intros in one relationship."""

    __tablename__ = "intro_preferences"
    __table_args__ = (UniqueConstraint("relationship_id", "user_id", name="uq_intro_preference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(32))
    choice: Mapped[Choice | None] = mapped_column(_enum(Choice, "intro_choice"))
    paused_until: Mapped[date | None] = mapped_column(Date)
    left_slack: Mapped[bool] = mapped_column(Boolean, default=False)  # user_not_found & co


class IntroRound(Base):
    """One round of a relationship's intros, on ``day``; skipped when a side had nobody."""

    __tablename__ = "intro_rounds"
    __table_args__ = (
        UniqueConstraint("relationship_id", "day", name="uq_intro_round_day"),
        Index("ix_intro_rounds_ends_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the *Did you meet?* is due
    seed: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[str | None] = mapped_column(String(32))  # why no group was made


class IntroGroup(Base):
    """A pair or trio made in a round, and how and when it is introduced."""

    __tablename__ = "intro_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int] = mapped_column(
        ForeignKey("intro_rounds.id", ondelete="CASCADE"), index=True
    )
    intro_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    nudge_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    route: Mapped[Route | None] = mapped_column(_enum(Route, "intro_route"))
    conversation_id: Mapped[str | None] = mapped_column(String(32))  # the group DM
    clicked: Mapped[bool] = mapped_column(Boolean, default=False)  # anyone pressed anything
    nudged: Mapped[bool] = mapped_column(Boolean, default=False)  # nudge sent, or not needed
    done: Mapped[bool] = mapped_column(Boolean, default=False)  # follow-ups all sent


class IntroGroupMember(Base):
    __tablename__ = "intro_group_members"
    __table_args__ = (
        UniqueConstraint("group_id", "user_id", name="uq_intro_group_member"),
        Index("ix_intro_group_members_team_user", "team_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    group_id: Mapped[int] = mapped_column(
        ForeignKey("intro_groups.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(32))
    side: Mapped[Side] = mapped_column(_enum(Side, "side"))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    tz: Mapped[str] = mapped_column(String(64))
    answer: Mapped[Answer | None] = mapped_column(_enum(Answer, "intro_answer"))


class IntroSitOut(Base):
    """Someone who was in for a round but left out of every group, so the next rounds take
    them first."""

    __tablename__ = "intro_sit_outs"
    __table_args__ = (
        UniqueConstraint("round_id", "user_id", name="uq_intro_sit_out"),
        Index("ix_intro_sit_outs_team_user", "team_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int] = mapped_column(ForeignKey("intro_rounds.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
