"""``/rapport health``: everything the reply shows, for one member of a relationship."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.health import snapshots
from bot.health.changes import changes
from bot.health.chart_series import RelationshipCharts, charts_of
from bot.health.figures import HealthIndex
from bot.health.index import compute_health
from bot.health.next_step import NextStep, next_step
from bot.pulse.results import round_threshold
from bot.pulse.rounds import current_round
from bot.pulse.settings import settings_for
from bot.relationships import domain as rel
from bot.relationships.models import Relationship, Role


@dataclass(frozen=True)
class HealthReport:
    relationship_id: int
    name: str
    is_owner: bool
    index: HealthIndex  # computed now: this week's snapshot
    trend: list[float | None]  # one per week, oldest first, ending with this week's
    changes: list[str]  # since last week's snapshot
    compared: bool  # whether there was a snapshot last week to compare with
    step: NextStep
    pulse_open: bool  # a pulse round is taking answers now
    charts: RelationshipCharts  # the last weeks, ending with this one


@dataclass(frozen=True)
class HealthFigures:
    """What every member of a relationship is shown alike: the costly part of a report."""

    index: HealthIndex
    earlier: list[snapshots.StoredWeek]  # the last weeks' snapshots, oldest first
    min_group: int  # the anonymity threshold the charts and changes keep to
    pulse_open: bool
    charts: RelationshipCharts


def health_figures(session: Session, relationship: Relationship, now: datetime) -> HealthFigures:
    index = compute_health(session, relationship, now)
    earlier = snapshots.recent_weeks(session, relationship.id, now)
    min_group = round_threshold(2, settings_for(session, relationship).min_group)
    return HealthFigures(
        index,
        earlier,
        min_group,
        current_round(session, relationship.id, now) is not None,
        charts_of(earlier, index, min_group),
    )


def report_of(relationship: Relationship, is_owner: bool, figures: HealthFigures) -> HealthReport:
    """The report as an owner (every component) or a member (the pillars) may see it."""
    index, earlier = figures.index, figures.earlier
    before = earlier[-1].index
    return HealthReport(
        relationship.id,
        relationship.name,
        is_owner,
        index,
        [*(week.value for week in earlier), index.value],
        changes(index, before, is_owner, figures.min_group),
        before is not None,
        next_step(index),
        figures.pulse_open,
        figures.charts,
    )


def health_report(
    session: Session, relationship: Relationship, user_id: str, now: datetime
) -> HealthReport:
    """The index now, its trend and changes, and the next step, as ``user_id`` may see
    them: owners see every component, members the pillars."""
    is_owner = rel.require_member(session, relationship, user_id).role is Role.OWNER
    return report_of(relationship, is_owner, health_figures(session, relationship, now))
