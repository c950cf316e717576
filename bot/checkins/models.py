"""Check-in tables: recurring check-ins, their occurrences, RSVPs and the due-work queue.

``checkin_tasks`` is what the scheduler reads: one row per piece of pending work (a reminder
at one offset, a follow-up, the step that plans the next occurrence, a lapse check), with an
indexed ``next_due_at``, so "what is due now" is an index range scan with a LIMIT.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.models import Base, UTCDateTime, _enum


class Outcome(StrEnum):
    HELD = "held"
    SKIPPED = "skipped"
    RESCHEDULED = "rescheduled"


class TaskKind(StrEnum):
    REMINDER = "reminder"  # offset_minutes before the start
    FOLLOW_UP = "follow_up"  # after the end: "did it happen?"
    ADVANCE = "advance"  # at the start: plan the next occurrence
    LAPSE_CHECK = "lapse_check"  # after the follow-up window: skipped/unconfirmed in a row
    STRETCHED = "stretched"  # the cadence was stretched by an edit


class CheckIn(Base):
    """A recurring check-in of one relationship, e.g. "Ops catch-up", weekly Tue 10:00."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("relationship_id", "title_key", name="uq_checkin_title"),
        Index("ix_checkins_team_relationship", "team_id", "relationship_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationships.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(80))
    title_key: Mapped[str] = mapped_column(String(80))
    cadence: Mapped[str] = mapped_column(String(120))  # Cadence.to_spec()
    tz: Mapped[str] = mapped_column(String(64))
    duration_minutes: Mapped[int] = mapped_column()
    reminder_offsets: Mapped[str] = mapped_column(String(64))  # minutes, e.g. "1440,15"
    channel_id: Mapped[str | None] = mapped_column(String(32))
    anchor: Mapped[date] = mapped_column(Date())
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stretched_from: Mapped[str | None] = mapped_column(String(120))  # the cadence before


class CheckInParticipant(Base):
    __tablename__ = "checkin_participants"
    __table_args__ = (UniqueConstraint("checkin_id", "user_id", name="uq_checkin_participant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(default=0)


class Occurrence(Base):
    """One planned meeting of a check-in; ``outcome`` None means nobody said (= unknown)."""

    __tablename__ = "checkin_occurrences"
    __table_args__ = (
        UniqueConstraint("checkin_id", "starts_at", name="uq_checkin_occurrence"),
        Index("ix_checkin_occurrences_relationship", "relationship_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationships.id", ondelete="CASCADE"))
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[Outcome | None] = mapped_column(_enum(Outcome, "checkin_outcome"))
    reason: Mapped[str | None] = mapped_column(String(200))  # why it was skipped ahead
    note: Mapped[str | None] = mapped_column(String(500))
    answered_by: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Rsvp(Base):
    __tablename__ = "checkin_rsvps"
    __table_args__ = (UniqueConstraint("occurrence_id", "user_id", name="uq_checkin_rsvp"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("checkin_occurrences.id", ondelete="CASCADE")
    )
    user_id: Mapped[str] = mapped_column(String(32))
    attending: Mapped[bool] = mapped_column()
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CheckInTask(Base):
    """Pending scheduled work; deleted once done. Unique so two planners never double it."""

    __tablename__ = "checkin_tasks"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "kind", "offset_minutes", name="uq_checkin_task"),
        Index("ix_checkin_tasks_next_due_at", "next_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"))
    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("checkin_occurrences.id", ondelete="CASCADE")
    )
    kind: Mapped[TaskKind] = mapped_column(_enum(TaskKind, "checkin_task_kind"))
    offset_minutes: Mapped[int] = mapped_column(default=0)
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
