"""Tables for drift alerts. No message text is stored: ids, times, side, score, cue kinds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Row, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.models import Base, UTCDateTime

UNKNOWN_SIDE = "unknown"
EXCERPT_CHARS = 140
FORMAL_SCORE = 0.5  # bot.drift.domain.DEFAULT_THRESHOLD, fixed here because an index depends on it
OPEN_FORMAL = f"replied_at IS NULL AND score >= {FORMAL_SCORE}"


class DriftSignal(Base):
    """One message in a watched channel, as a signal: who (side), when, how formal."""

    __tablename__ = "drift_signals"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "message_ts", name="uq_drift_signal_message"),
        # covering: the rolling-window figures are read from the index alone
        Index(
            "ix_drift_signals_channel_time",
            "relationship_id",
            "channel_id",
            "posted_at",
            "side",
            "score",
        ),
        # formal messages still waiting for the other side (few, whatever the traffic)
        Index(
            "ix_drift_signals_open",
            "relationship_id",
            "channel_id",
            "posted_at",
            sqlite_where=text(OPEN_FORMAL),
            postgresql_where=text(OPEN_FORMAL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationships.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(16))  # client, provider or unknown
    score: Mapped[float] = mapped_column(Float)
    cue_kinds: Mapped[str] = mapped_column(String(200))  # cue kinds, then the tone; no words
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # other side answered
    # only when owners opted in (excerpt_days > 0), only for formal messages, purged after that
    excerpt: Mapped[str | None] = mapped_column(String(EXCERPT_CHARS))


class DriftAlert(Base):
    """An alert decided for a channel; the unique key stops two processes deciding it twice."""

    __tablename__ = "drift_alerts"
    __table_args__ = (
        UniqueConstraint(
            "relationship_id", "channel_id", "kind", "day", "figure", name="uq_drift_alert"
        ),
        Index("ix_drift_alerts_recent", "relationship_id", "channel_id", "kind", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationships.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))  # formal_tone, unanswered, one_way
    figure: Mapped[int] = mapped_column()  # how bad: a worse figure may alert again
    day: Mapped[str] = mapped_column(String(10))  # UTC date, for the uniqueness above
    cue_kinds: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    not_drift_by: Mapped[str | None] = mapped_column(String(32))


@dataclass(frozen=True)
class Thresholds:
    """A relationship's drift thresholds, as plain values (the defaults when never changed)."""

    nudge: bool = False
    formal_share: float = 0.35
    min_formal: int = 3
    unanswered_hours: int = 24
    min_unanswered: int = 2
    one_way_messages: int = 10
    window_days: int = 7
    excerpt_days: int = 0  # 0: message text is never kept
    include_bots: bool = False


DEFAULTS = Thresholds()


class DriftSettings(Base):
    """Per-relationship thresholds; a missing row means the defaults."""

    __tablename__ = "drift_settings"

    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[str] = mapped_column(String(32))
    nudge: Mapped[bool] = mapped_column(default=DEFAULTS.nudge)
    formal_share: Mapped[float] = mapped_column(Float, default=DEFAULTS.formal_share)
    min_formal: Mapped[int] = mapped_column(default=DEFAULTS.min_formal)
    unanswered_hours: Mapped[int] = mapped_column(default=DEFAULTS.unanswered_hours)
    min_unanswered: Mapped[int] = mapped_column(default=DEFAULTS.min_unanswered)
    one_way_messages: Mapped[int] = mapped_column(default=DEFAULTS.one_way_messages)
    window_days: Mapped[int] = mapped_column(default=DEFAULTS.window_days)
    excerpt_days: Mapped[int] = mapped_column(default=DEFAULTS.excerpt_days)
    include_bots: Mapped[bool] = mapped_column(default=DEFAULTS.include_bots)


def thresholds_from(stored: DriftSettings | Row[Any] | None) -> Thresholds:
    """The thresholds in ``stored``: a ``DriftSettings``, or a row of its columns by name;
    the defaults when the relationship has none stored (``None``, or a row of NULLs)."""
    if stored is None or stored.relationship_id is None:
        return DEFAULTS
    return Thresholds(**{name: getattr(stored, name) for name in Thresholds.__dataclass_fields__})


class DriftWord(Base):
    """An owner's change to the cue words for one relationship."""

    __tablename__ = "drift_words"
    __table_args__ = (UniqueConstraint("relationship_id", "kind", "phrase", name="uq_drift_word"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    phrase: Mapped[str] = mapped_column(String(100))
    added: Mapped[bool] = mapped_column()  # True: extra word; False: a default word removed


class DriftCalming(Base):
    """'Not drift' feedback: each press calms a cue kind a little more for one relationship."""

    __tablename__ = "drift_calmings"
    __table_args__ = (UniqueConstraint("relationship_id", "kind", name="uq_drift_calming"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationships.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    presses: Mapped[int] = mapped_column(default=0)
