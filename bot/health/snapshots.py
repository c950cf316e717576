"""Storing and reading weekly health snapshots.

A week starts on Monday, 00:00 UTC. ``store`` upserts the week's row (unique per
relationship and week), so recomputing is idempotent and the latest computation of a week
wins; ``due`` is what the weekly job still has to compute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, cached_property
from typing import Any

from sqlalchemy import Executable, and_, bindparam, select
from sqlalchemy.orm import Session

from bot.core.db import upsert_insert
from bot.health.figures import HealthIndex
from bot.health.models import HealthSnapshot
from bot.relationships.models import Relationship

TREND_WEEKS = 12
REFRESH_AFTER = timedelta(days=1)  # the job recomputes this week's snapshot once a day


def week_start(moment: datetime) -> date:
    """The Monday (UTC) of ``moment``'s week."""
    day = moment.date()
    return day - timedelta(days=day.weekday())


@cache
def _upsert(dialect: str) -> Executable:
    insert = upsert_insert(dialect)
    changing = ("index_value", "band", "components", "computed_at")
    statement = insert(HealthSnapshot).values(
        {column: bindparam(column) for column in ("team_id", "relationship_id", "week_start")}
        | {column: bindparam(column) for column in changing}
    )
    return statement.on_conflict_do_update(
        index_elements=["relationship_id", "week_start"],
        set_={column: statement.excluded[column] for column in changing},
    )


def store(session: Session, index: HealthIndex) -> None:
    """Save ``index`` as its week's snapshot, replacing one computed earlier that week."""
    statement = _upsert(session.get_bind().dialect.name)
    session.execute(
        statement,
        {
            "team_id": index.team_id,
            "relationship_id": index.relationship_id,
            "week_start": week_start(index.computed_at),
            "index_value": index.value,
            "band": index.band,
            "components": index.to_json(),
            "computed_at": index.computed_at,
        },
    )


@dataclass(frozen=True)
class StoredWeek:
    week: date  # its Monday
    value: float | None  # the index as stored that week; None: none, or too little data
    stored: HealthSnapshot | None = None  # None: no snapshot that week

    def component(self, key: str) -> dict[str, Any]:
        """Component ``key`` as stored (``figure``, ``score``, ``reason``, ``detail``), read
        straight from the JSON, so a chart of 12 weeks builds no ``HealthIndex``; ``{}``
        without a snapshot."""
        if self.stored is None:
            return {}
        return self.stored.components.get("components", {}).get(key) or {}

    @cached_property
    def index(self) -> HealthIndex | None:
        """The week's snapshot as a ``HealthIndex``, or None without one."""
        row = self.stored
        if row is None:
            return None
        return HealthIndex.from_json(
            row.team_id, row.relationship_id, row.computed_at, row.components
        )


def recent_weeks(session: Session, relationship_id: int, now: datetime) -> list[StoredWeek]:
    """The ``TREND_WEEKS - 1`` weeks before ``now``'s, oldest first, each with its stored
    snapshot if one was taken, in one query: what the trend, the charts and "since last
    week" set this week beside."""
    this_week = week_start(now)
    first = this_week - timedelta(weeks=TREND_WEEKS - 1)
    stored = {
        row.week_start: row
        for row in session.scalars(
            _WEEKS, {"relationship_id": relationship_id, "first": first, "this_week": this_week}
        )
    }
    weeks = [first + timedelta(weeks=n) for n in range(TREND_WEEKS - 1)]
    return [
        StoredWeek(week, row.index_value, row)
        if (row := stored.get(week))
        else StoredWeek(week, None)
        for week in weeks
    ]


# built once: every /rapport health runs it (see bot.relationships.domain)
_WEEKS = select(HealthSnapshot).where(
    HealthSnapshot.relationship_id == bindparam("relationship_id"),
    HealthSnapshot.week_start >= bindparam("first"),
    HealthSnapshot.week_start < bindparam("this_week"),
)


def due(session: Session, now: datetime) -> list[int]:
    """Relationships whose snapshot for this week is missing or older than
    ``REFRESH_AFTER``, by id."""
    fresh = and_(
        HealthSnapshot.relationship_id == Relationship.id,
        HealthSnapshot.week_start == week_start(now),
        HealthSnapshot.computed_at > now - REFRESH_AFTER,
    )
    return list(
        session.scalars(
            select(Relationship.id)
            .outerjoin(HealthSnapshot, fresh)
            .where(HealthSnapshot.id.is_(None))
            .order_by(Relationship.id)
        )
    )
