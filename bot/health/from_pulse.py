"""The pulse pillar: each side's average and response rate in the latest closed round, the
gap between the sides and, on a side, between front-line staff and managers.

Every average comes from ``bot.pulse.results.round_results``, already suppressed for
anonymity: a side (or a side's role groups) below the round's minimum group size has no
figure, so its component is left out rather than worked out from anything else. Nothing
here combines the two sides' answers, so a hidden side can't be derived from a shown side
and an overall figure. Response rates are head counts, which ``/pulse results`` shows for
every side.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.health import formula
from bot.health.figures import Component, left_out
from bot.pulse.results import RoundResult, SideFigures, closed_round_ids, round_results
from bot.pulse.settings import settings_for
from bot.relationships.models import Relationship, Side

KEYS = tuple(spec.key for spec in formula.COMPONENTS if spec.pillar == formula.PULSE)


def pulse_components(
    session: Session, relationship: Relationship, now: datetime, members: dict[Side, int]
) -> list[Component]:
    """The pulse components at ``now``, from the latest round closed by then."""
    settings = settings_for(session, relationship)
    latest = closed_round_ids(session, relationship.id, now, limit=1)
    if not latest:
        return [left_out(key, "no_round") for key in KEYS]
    result = round_results(session, latest, settings.min_group)[latest[0]]
    if now - result.closes_at > formula.PULSE_FRESH:
        weeks = formula.PULSE_FRESH // timedelta(weeks=1)
        return [left_out(key, "stale_round", weeks=weeks) for key in KEYS]
    round_facts = {"round_id": result.round_id, "min_group": result.min_group}
    found = []
    for side in Side:
        figures = result.sides[side]
        found.append(_average(side, figures, members[side], result.min_group, round_facts))
        found.append(_response(side, figures, members[side]))
    return [*found, _side_gap(result, round_facts), _role_gap(result, round_facts)]


def _average(
    side: Side, figures: SideFigures, members: int, min_group: int, round_facts: dict
) -> Component:
    key = f"{side.value}_pulse"
    if figures.average is None:
        if not members:
            return left_out(key, "side_empty", side=side.value)
        return left_out(key, "side_hidden", side=side.value, min_group=min_group)
    score = formula.average_score(figures.average)
    return Component(key, figures.average, score, detail=round_facts)


def _response(side: Side, figures: SideFigures, members: int) -> Component:
    key = f"{side.value}_response"
    rate = figures.response_rate
    if rate is None:
        reason = "no_recipients" if members else "side_empty"
        return left_out(key, reason, side=side.value)
    detail = {"respondents": figures.respondents, "recipients": figures.recipients}
    return Component(key, rate, formula.response_score(rate), detail=detail)


def _side_gap(result: RoundResult, round_facts: dict) -> Component:
    if result.gap is None:
        return left_out("side_gap", "needs_both_sides")
    higher = Side.CLIENT if result.gap > 0 else Side.PROVIDER
    detail = {**round_facts, "higher": higher.value}
    return Component("side_gap", abs(result.gap), formula.gap_score(result.gap), detail=detail)


def _role_gap(result: RoundResult, round_facts: dict) -> Component:
    """The wider of the sides' front-line–manager gaps, where both groups are shown."""
    gaps = {
        side: abs(figures.role_gap)
        for side, figures in result.sides.items()
        if figures.role_gap is not None
    }
    if not gaps:
        return left_out("role_gap", "roles_hidden", min_group=result.min_group)
    side = max(gaps, key=lambda s: gaps[s])
    detail = {**round_facts, "side": side.value}
    return Component("role_gap", gaps[side], formula.gap_score(gaps[side]), detail=detail)
