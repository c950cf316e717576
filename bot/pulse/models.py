"""Pulse survey tables: schedule and settings, questions, rounds, recipients, answers.

Anonymity is a property of the schema: answers and comments carry a respondent *token*
(HMAC of the person's id with the round's own secret), never a user id, so re-answering
replaces an answer while no row links a person to what they said. The secret is wiped when
the round closes (``bot.pulse.anonymity.forget_closed_round_secrets``), after which the
token can't be recomputed from a recipient's id either.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.models import Base, UTCDateTime, _enum
from bot.relationships.models import Role, Side


class PulseSettings(Base):
    """One row per relationship once an owner changes anything; defaults apply before."""

    __tablename__ = "pulse_settings"

    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[str] = mapped_column(String(32))
    cadence: Mapped[str] = mapped_column(String(64))  # Cadence.to_spec()
    anchor: Mapped[date] = mapped_column(Date)  # the date the schedule started
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())  # no round opens earlier
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    window_days: Mapped[int] = mapped_column(Integer, default=3)
    min_group: Mapped[int] = mapped_column(Integer, default=3)
    drop_alert: Mapped[float] = mapped_column(Float, default=0.5)
    gap_alert: Mapped[float] = mapped_column(Float, default=1.0)
    response_alert: Mapped[float] = mapped_column(Float, default=0.4)
    reminder_hours: Mapped[int] = mapped_column(Integer, default=24)  # before the close


class PulseQuestion(Base):
    """A question owners configured; with none, the default question is asked."""

    __tablename__ = "pulse_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PulseRound(Base):
    """One occurrence of the pulse. A scheduled round is unique per relationship and day;
    each member gets it at ``prompt_at`` on ``day`` in their own time zone."""

    __tablename__ = "pulse_rounds"
    __table_args__ = (
        UniqueConstraint("relationship_id", "day", name="uq_pulse_round_day"),
        Index("ix_pulse_rounds_closes_at", "closes_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date | None] = mapped_column(Date)  # None for a round opened by /pulse send
    prompt_at: Mapped[time] = mapped_column(Time)  # local wall-clock time of the prompt
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the earliest prompt
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    questions: Mapped[str] = mapped_column(Text)  # JSON [[key, text], ...] asked this round
    secret: Mapped[str] = mapped_column(String(64))  # keys the respondent tokens; "" once closed
    reminder_before_hours: Mapped[int] = mapped_column(Integer, default=24)
    # the anonymity threshold it was answered under: it follows the setting until the round
    # closes, then stays; results use the larger of this and the setting in force
    # (``bot.pulse.results``), so lowering the setting never reveals a closed round
    min_group: Mapped[int] = mapped_column(Integer)
    alerts_done: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the relationship's member_generation when every member had their prompt (sent or
    # failed): until members are added, nobody is left to prompt (``bot.pulse.prompts``)
    prompted_generation: Mapped[int | None] = mapped_column(Integer)


class RecipientStatus:
    PENDING = "pending"  # due, prompt not confirmed yet (retried next tick)
    SENT = "sent"
    FAILED = "failed"


class PulseRecipient(Base):
    """Who a round was sent to (for response rates and reminders), never what they said."""

    __tablename__ = "pulse_recipients"
    __table_args__ = (UniqueConstraint("round_id", "user_id", name="uq_pulse_recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    side: Mapped[Side] = mapped_column(_enum(Side, "side"))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    status: Mapped[str] = mapped_column(String(16), default=RecipientStatus.PENDING)
    error: Mapped[str | None] = mapped_column(String(64))
    reminded: Mapped[bool] = mapped_column(Boolean, default=False)


class PulseAnswer(Base):
    """A score from 1 to 5; one per round, question and respondent token."""

    __tablename__ = "pulse_answers"
    __table_args__ = (
        UniqueConstraint("round_id", "question_key", "respondent", name="uq_pulse_answer"),
        Index("ix_pulse_answers_round_side_role", "round_id", "side", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"))
    question_key: Mapped[int] = mapped_column(Integer)
    respondent: Mapped[str] = mapped_column(String(64))  # HMAC token, not a user id
    side: Mapped[Side] = mapped_column(_enum(Side, "side"))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    score: Mapped[int] = mapped_column(Integer)


class PulseComment(Base):
    """Free text, one per round and respondent token (a new one replaces it)."""

    __tablename__ = "pulse_comments"
    __table_args__ = (UniqueConstraint("round_id", "respondent", name="uq_pulse_comment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    round_id: Mapped[int] = mapped_column(
        ForeignKey("pulse_rounds.id", ondelete="CASCADE"), index=True
    )
    respondent: Mapped[str] = mapped_column(String(64))
    side: Mapped[Side] = mapped_column(_enum(Side, "side"))
    text: Mapped[str] = mapped_column(Text)
