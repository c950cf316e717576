"""What owners may know about intros: counts per round (groups made, how many met), never
who met whom. Also the met rate the health index counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.intros.models import Answer, IntroGroup, IntroGroupMember, IntroRound

ROUNDS_SHOWN = 6


@dataclass(frozen=True)
class RoundFigures:
    day: date
    groups: int
    met: int  # groups where someone answered *Yes*
    finished: bool  # its *Did you meet?* has gone out
    skipped: str | None = None

    @property
    def met_rate(self) -> float | None:
        return self.met / self.groups if self.finished and self.groups else None


def round_figures(
    session: Session, relationship_id: int, now: datetime, limit: int = ROUNDS_SHOWN
) -> list[RoundFigures]:
    """The latest rounds, oldest first, counted in SQL."""
    met_in_group = (
        select(IntroGroupMember.group_id)
        .where(IntroGroupMember.answer == Answer.MET)
        .distinct()
        .subquery()
    )
    rows = session.execute(
        select(
            IntroRound.day,
            IntroRound.ends_at,
            IntroRound.skipped,
            func.count(IntroGroup.id),
            func.count(met_in_group.c.group_id),
        )
        .outerjoin(IntroGroup, IntroGroup.round_id == IntroRound.id)
        .outerjoin(met_in_group, met_in_group.c.group_id == IntroGroup.id)
        .where(IntroRound.relationship_id == relationship_id, IntroRound.opened_at <= now)
        .group_by(IntroRound.id, IntroRound.day, IntroRound.ends_at, IntroRound.skipped)
        .order_by(IntroRound.day.desc())
        .limit(limit)
    ).all()
    return [
        RoundFigures(day, groups, met, ends_at <= now, skipped)
        for day, ends_at, skipped, groups, met in reversed(rows)
    ]


def latest_met_rate(session: Session, relationship_id: int, now: datetime) -> RoundFigures | None:
    """The last finished round that made groups, for the health index."""
    finished = [
        figures
        for figures in round_figures(session, relationship_id, now)
        if figures.met_rate is not None
    ]
    return finished[-1] if finished else None
