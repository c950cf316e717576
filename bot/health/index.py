"""Computing a relationship's health index at a moment, from what Rapport already holds:
closed pulse rounds, check-in occurrences, intro follow-ups and drift signals (see
``bot.health.formula`` for how they combine)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from bot.core.db import columns
from bot.health import formula
from bot.health.figures import HealthIndex
from bot.health.from_checkins import checkin_components
from bot.health.from_drift import tone_components
from bot.health.from_intros import intro_components
from bot.health.from_pulse import pulse_components
from bot.relationships.models import Member, Relationship, Side


def compute_health(session: Session, relationship: Relationship, now: datetime) -> HealthIndex:
    """Every component of the formula at ``now``, counted or left out with its reason.

    Figures are read as of ``now``: pulse rounds closed by then, check-ins up to then, and
    the drift window ending then (drift counts a message from its window's start on, so
    compute at the present, as the command and the weekly job do).
    """
    members = _members_per_side(session, relationship.id)
    empty_sides = tuple(side.value for side in Side if not members[side])
    found = [
        *pulse_components(session, relationship, now, members),
        *checkin_components(session, relationship.id, now),
        *intro_components(session, relationship, now),
        *tone_components(session, relationship.id, now, empty_sides),
    ]
    by_key = {component.key: component for component in found}
    components = {spec.key: by_key[spec.key] for spec in formula.COMPONENTS}
    return HealthIndex(relationship.team_id, relationship.id, now, components, empty_sides)


def _members_per_side(session: Session, relationship_id: int) -> dict[Side, int]:
    counts = dict.fromkeys(Side, 0)
    for side, count in columns(session, _MEMBERS_PER_SIDE, {"relationship_id": relationship_id}):
        counts[side] = count
    return counts


# built once: every /rapport health runs it (see bot.relationships.domain)
_MEMBERS_PER_SIDE = (
    select(Member.side, func.count())
    .where(Member.relationship_id == bindparam("relationship_id"))
    .group_by(Member.side)
)
