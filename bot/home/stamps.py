"""Knowing when someone's Home is out of date, without building it.

A relationship's stamp hashes a few SQL aggregates over what its cards show: its name and
members, drift alerts and their answers, check-ins, their planned occurrences, outcomes and
RSVPs, pulse rounds open now and their answers, and health snapshots. A person's stamp
hashes the stamps of their relationships with their side and role. When it differs from
the one stored with their Home (``HomeView.stamp``), their Home is published again: a new
alert, a check-in added or answered, a round opening or closing, a new snapshot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from bot.checkins.models import CheckIn, Occurrence, Rsvp
from bot.drift.models import DriftAlert
from bot.health.models import HealthSnapshot
from bot.home.dashboard import OPEN_ALERT_DAYS
from bot.pulse.models import PulseAnswer, PulseRound
from bot.relationships.models import Member, Relationship

Person = tuple[str, str]  # (team id, user id)


def person_stamps(session: Session, people: Iterable[Person], now: datetime) -> dict[Person, str]:
    """Each person's stamp, from a handful of queries whatever their number."""
    people = set(people)
    teams, users = {team for team, _ in people}, {user for _, user in people}
    rows = [
        row
        for row in session.execute(
            select(Member.team_id, Member.user_id, Member.relationship_id, Member.side, Member.role)
            .where(Member.team_id.in_(teams), Member.user_id.in_(users))
            .order_by(Member.relationship_id)
        )
        if (row.team_id, row.user_id) in people
    ]
    stamps = relationship_stamps(session, {row.relationship_id for row in rows}, now)
    parts: dict[Person, list[str]] = {person: [] for person in people}
    for row in rows:
        parts[(row.team_id, row.user_id)].append(
            f"{row.relationship_id}:{row.side.value}:{row.role.value}:{stamps[row.relationship_id]}"
        )
    return {person: _hash(parts[person]) for person in people}


def relationship_stamps(
    session: Session, relationship_ids: set[int], now: datetime
) -> dict[int, str]:
    """Each relationship's stamp: equal stamps, equal cards (but for the clock's own
    changes, such as a check-in drawing nearer)."""
    ids = sorted(relationship_ids)
    figures: dict[int, list[object]] = {relationship_id: [] for relationship_id in ids}
    for query in _aggregates(ids, now):
        found = {row[0]: tuple(row[1:]) for row in session.execute(query)}
        for relationship_id in ids:
            figures[relationship_id].append(found.get(relationship_id))
    return {relationship_id: _hash(map(str, figures[relationship_id])) for relationship_id in ids}


def _aggregates(ids: list[int], now: datetime) -> list[Select]:
    """One grouped query per thing a card shows, each row led by the relationship id."""
    open_now = (PulseRound.opens_at <= now) & (PulseRound.closes_at > now)
    return [
        select(Relationship.id, Relationship.name).where(Relationship.id.in_(ids)),
        select(Member.relationship_id, func.count(), func.max(Member.id), func.max(Member.added_at))
        .where(Member.relationship_id.in_(ids))
        .group_by(Member.relationship_id),
        select(
            DriftAlert.relationship_id,
            func.count(),
            func.max(DriftAlert.id),
            func.count(DriftAlert.acknowledged_by),
            func.count(DriftAlert.not_drift_by),
            func.count(case((DriftAlert.sent_at > now - timedelta(days=OPEN_ALERT_DAYS), 1))),
        )
        .where(DriftAlert.relationship_id.in_(ids))
        .group_by(DriftAlert.relationship_id),
        select(CheckIn.relationship_id, func.count(), func.max(CheckIn.id))
        .where(CheckIn.relationship_id.in_(ids))
        .group_by(CheckIn.relationship_id),
        select(
            Occurrence.relationship_id,
            func.count(),
            func.max(Occurrence.id),
            func.count(Occurrence.outcome),
            func.max(Occurrence.answered_at),
            func.count(case((Occurrence.starts_at > now, 1))),
        )
        .where(Occurrence.relationship_id.in_(ids))
        .group_by(Occurrence.relationship_id),
        select(
            Occurrence.relationship_id,
            func.count(),
            func.count(case((Rsvp.attending, 1))),
            func.max(Rsvp.answered_at),
        )
        .join(Rsvp, Rsvp.occurrence_id == Occurrence.id)
        .where(Occurrence.relationship_id.in_(ids))
        .group_by(Occurrence.relationship_id),
        select(
            PulseRound.relationship_id,
            func.count(),
            func.max(PulseRound.id),
            func.max(case((open_now, PulseRound.id))),
        )
        .where(PulseRound.relationship_id.in_(ids))
        .group_by(PulseRound.relationship_id),
        select(PulseRound.relationship_id, func.count(func.distinct(PulseAnswer.respondent)))
        .join(PulseAnswer, PulseAnswer.round_id == PulseRound.id)
        .where(PulseRound.relationship_id.in_(ids), open_now)
        .group_by(PulseRound.relationship_id),
        select(HealthSnapshot.relationship_id, func.count(), func.max(HealthSnapshot.computed_at))
        .where(HealthSnapshot.relationship_id.in_(ids))
        .group_by(HealthSnapshot.relationship_id),
    ]


def _hash(parts: Iterable[str]) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
