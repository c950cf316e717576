"""Weekly health snapshots: a relationship's index, band and components, one row per week;
and the owners' settings for the weekly digest.

Kept so the trend and "what changed since last week" survive restarts. The week's row is
written again whenever the index is recomputed that week (by ``/rapport health`` or the
weekly job), so once the week is over it holds the week as it ended.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.models import Base, UTCDateTime


class HealthSnapshot(Base):
    """No names and no message text: figures, scores and the reasons components were left
    out (check-in titles and channel ids name where a change happened)."""

    __tablename__ = "health_snapshots"
    __table_args__ = (
        UniqueConstraint("relationship_id", "week_start", name="uq_health_snapshot_week"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    relationship_id: Mapped[int] = mapped_column(ForeignKey("relationships.id", ondelete="CASCADE"))
    week_start: Mapped[date] = mapped_column(Date())  # the Monday (UTC) the week starts on
    index_value: Mapped[float | None] = mapped_column(Float)  # 0–100; None: too little data
    band: Mapped[str | None] = mapped_column(String(16))
    components: Mapped[dict[str, Any]] = mapped_column(JSON)  # HealthIndex.to_json()
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HealthDigestSettings(Base):
    """One row per relationship once an owner changes the weekly digest; before that the
    defaults of ``bot.health.digest`` apply (on, Monday 09:00, by DM)."""

    __tablename__ = "health_digest_settings"

    relationship_id: Mapped[int] = mapped_column(
        ForeignKey("relationships.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(Boolean)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday … 6 = Sunday
    send_at: Mapped[time] = mapped_column(Time())  # local time, in each owner's zone
    to_channel: Mapped[bool] = mapped_column(Boolean)  # the alerts channel, not DMs
    updated_by: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
