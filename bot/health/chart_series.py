"""A relationship's four health charts over the last ``TREND_WEEKS`` weeks, from its weekly
snapshots and this week's index: the one way every view (``/rapport health``, App Home,
the weekly digest, the export) gets them.

Every figure is one the week's index counted, as stored in its snapshot: a side hidden to
keep answers anonymous, or a component left out, is a gap in its chart (``None``), never
worked out from anything else, and a past pulse figure shown under a lower minimum group
size than today's is a gap too. Reading the weeks is one query::

    index = compute_health(session, relationship, now)
    charts = relationship_charts(session, index)
    charts.index.alt_text()  # 'Health index, last 12 weeks: 71 → 64, now Watch. …'
    [chart.kind for chart in charts.all()]  # ['index', 'pulse', 'adherence', 'formal_share']

Showing one in Slack is ``bot.health.chart_uploads``'s work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from bot.health import snapshots
from bot.health.charts import (
    Chart,
    PulsePoint,
    WeeklyPoint,
    adherence_chart,
    formal_share_chart,
    index_chart,
    pulse_chart,
)
from bot.health.figures import HealthIndex
from bot.health.from_pulse import KEYS as PULSE_KEYS
from bot.health.snapshots import StoredWeek
from bot.pulse.results import round_threshold
from bot.pulse.settings import settings_for
from bot.relationships.models import Relationship


@dataclass(frozen=True)
class RelationshipCharts:
    """Each chart covers the same weeks, oldest first, ending with this week's."""

    index: Chart  # the index over its band zones
    pulse: Chart  # each side's pulse average, 1–5
    adherence: Chart  # share of check-ins held
    formal_share: Chart  # share of channel talk that reads as formal

    def all(self) -> tuple[Chart, ...]:
        """The four, in the order views show them."""
        return (self.index, self.pulse, self.adherence, self.formal_share)


def relationship_charts(session: Session, current: HealthIndex) -> RelationshipCharts:
    """The charts of ``current``'s relationship: the snapshots of the weeks before
    ``current.computed_at``'s (one query), then ``current`` as this week's figures."""
    earlier = snapshots.recent_weeks(session, current.relationship_id, current.computed_at)
    relationship = session.get(Relationship, current.relationship_id)
    min_group = round_threshold(2, settings_for(session, relationship).min_group)
    return charts_of(earlier, current, min_group)


def charts_of(
    earlier: Sequence[StoredWeek], current: HealthIndex, min_group: int
) -> RelationshipCharts:
    """The charts of weeks already read (``snapshots.recent_weeks``) and this week's index.
    ``min_group`` is today's anonymity threshold: a past week's pulse figure shown under a
    lower one is left out, as "what changed since last week" leaves it out."""
    weeks = [week.week for week in earlier] + [snapshots.week_start(current.computed_at)]

    def series(key: str) -> list[float | None]:
        """The component's figure each week, where that week's index counted it."""
        now = current.components[key]
        past = [_figure(week.component(key), key, min_group) for week in earlier]
        return [*past, now.figure if now.counted else None]

    client, provider = series("client_pulse"), series("provider_pulse")
    return RelationshipCharts(
        index=index_chart(_points(weeks, [week.value for week in earlier] + [current.value])),
        pulse=pulse_chart(
            [PulsePoint(*week) for week in zip(weeks, client, provider, strict=True)]
        ),
        adherence=adherence_chart(_points(weeks, series("adherence"))),
        formal_share=formal_share_chart(_points(weeks, series("formal_share"))),
    )


def _figure(stored: dict[str, Any], key: str, min_group: int) -> float | None:
    if stored.get("score") is None:  # left out that week, or no snapshot
        return None
    if key in PULSE_KEYS and stored.get("detail", {}).get("min_group", 0) < min_group:
        return None
    return stored.get("figure")


def _points(weeks: list[date], values: list[float | None]) -> list[WeeklyPoint]:
    return [WeeklyPoint(week, value) for week, value in zip(weeks, values, strict=True)]
