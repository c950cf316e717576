"""What drift keeps and for how long: signals past retention are deleted, and the excerpts
owners opted into are cleared once older than their relationship allows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.drift.models import DriftSettings, DriftSignal


def purge_signals(session: Session, older_than: datetime) -> int:
    """Retention: signals older than the cut-off are deleted."""
    return session.execute(delete(DriftSignal).where(DriftSignal.posted_at < older_than)).rowcount


def purge_excerpts(session: Session, now: datetime) -> int:
    """Clear excerpts older than their relationship now allows (none at all when it's off)."""
    keep_days = dict(
        session.execute(select(DriftSettings.relationship_id, DriftSettings.excerpt_days)).all()
    )
    holding = session.scalars(
        select(DriftSignal.relationship_id).where(DriftSignal.excerpt.is_not(None)).distinct()
    ).all()
    cleared = 0
    for relationship_id in holding:
        cutoff = now - timedelta(days=keep_days.get(relationship_id, 0))
        cleared += session.execute(
            update(DriftSignal)
            .where(
                DriftSignal.relationship_id == relationship_id,
                DriftSignal.excerpt.is_not(None),
                DriftSignal.posted_at < cutoff,
            )
            .values(excerpt=None),
            execution_options={"synchronize_session": False},
        ).rowcount
    return cleared


@dataclass(frozen=True)
class Excerpt:
    channel_id: str
    message_ts: str
    side: str
    score: float
    text: str


def recent_excerpts(session: Session, relationship_id: int, limit: int = 20) -> list[Excerpt]:
    rows = session.execute(
        select(
            DriftSignal.channel_id,
            DriftSignal.message_ts,
            DriftSignal.side,
            DriftSignal.score,
            DriftSignal.excerpt,
        )
        .where(DriftSignal.relationship_id == relationship_id, DriftSignal.excerpt.is_not(None))
        .order_by(DriftSignal.posted_at.desc())
        .limit(limit)
    ).all()
    return [Excerpt(*row) for row in rows]
