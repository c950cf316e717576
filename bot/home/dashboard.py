"""What a person's App Home shows: a card per relationship they belong to.

Every card has the health index as ``/rapport health`` computes it (``HealthReport``: index,
band, trend, pillars, charts), the next check-ins and the open pulse round. Owners' cards
also carry the open drift alerts and how many have answered the open round so far (totals
only, as ``/pulse results`` shows owners). Read in one read-only session, for at most
``MAX_CARDS`` relationships: the rest are only counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.checkins.models import CheckIn, CheckInParticipant, Occurrence, Outcome, Rsvp
from bot.drift.models import DriftAlert
from bot.health.report import HealthReport, health_report
from bot.pulse.results import OpenRoundProgress, open_round_progress
from bot.pulse.rounds import current_round
from bot.relationships import domain as rel
from bot.relationships.models import Relationship, Role

MAX_CARDS = 12  # more never fit in Home's 100 blocks
SHOWN_ALERTS = 3
SHOWN_CHECKINS = 3
OPEN_ALERT_DAYS = 14  # an alert nobody answered for longer is old news


@dataclass(frozen=True)
class OpenAlert:
    alert_id: int
    kind: str  # formal_tone, unanswered, one_way
    channel_id: str
    sent_at: datetime


@dataclass(frozen=True)
class NextCheckIn:
    occurrence_id: int
    title: str
    starts_at: datetime
    participants: tuple[str, ...]
    invited: bool  # the viewer takes part, so they may answer whether they'll be there
    attending: bool | None  # the viewer's answer; None before they give one
    skipped: str | None  # why it is skipped, when it is


@dataclass(frozen=True)
class PulseStatus:
    closes_at: datetime
    progress: OpenRoundProgress | None  # owners only: how many answered so far, in total


@dataclass(frozen=True)
class Card:
    membership: rel.Membership
    report: HealthReport
    checkins: list[NextCheckIn]
    pulse: PulseStatus | None  # the round taking answers now, if any
    alerts: list[OpenAlert]  # owners only
    more_alerts: int = 0  # open alerts not listed

    @property
    def relationship_id(self) -> int:
        return self.membership.relationship_id

    @property
    def is_owner(self) -> bool:
        return self.membership.role is Role.OWNER


@dataclass(frozen=True)
class Home:
    cards: list[Card]  # the first ``MAX_CARDS`` relationships, by name
    total: int  # relationships the person belongs to


def home(session: Session, team_id: str, user_id: str, now: datetime) -> Home:
    """``user_id``'s Home: their relationships by name, a card for each of the first ones."""
    mine = rel.memberships(session, team_id, user_id)
    cards = [card(session, membership, user_id, now) for membership in mine[:MAX_CARDS]]
    return Home(cards, len(mine))


def card(session: Session, membership: rel.Membership, user_id: str, now: datetime) -> Card:
    relationship = session.get_one(Relationship, membership.relationship_id)
    is_owner = membership.role is Role.OWNER
    alerts = open_alerts(session, relationship.id, now) if is_owner else []
    return Card(
        membership,
        health_report(session, relationship, user_id, now),
        next_checkins(session, relationship.id, user_id, now, mine_only=not is_owner),
        pulse_status(session, relationship.id, now, is_owner),
        alerts[:SHOWN_ALERTS],
        max(0, len(alerts) - SHOWN_ALERTS),
    )


def open_alerts(session: Session, relationship_id: int, now: datetime) -> list[OpenAlert]:
    """Recent drift alerts no owner has acknowledged or marked as not drift, newest first."""
    rows = session.execute(
        select(DriftAlert.id, DriftAlert.kind, DriftAlert.channel_id, DriftAlert.sent_at)
        .where(
            DriftAlert.relationship_id == relationship_id,
            DriftAlert.acknowledged_by.is_(None),
            DriftAlert.not_drift_by.is_(None),
            DriftAlert.sent_at > now - timedelta(days=OPEN_ALERT_DAYS),
        )
        .order_by(DriftAlert.sent_at.desc(), DriftAlert.id.desc())
    ).all()
    return [OpenAlert(*row) for row in rows]


def next_checkins(
    session: Session, relationship_id: int, user_id: str, now: datetime, mine_only: bool
) -> list[NextCheckIn]:
    """The next ``SHOWN_CHECKINS`` planned check-ins, soonest first; with ``mine_only``,
    those ``user_id`` takes part in."""
    query = (
        select(
            Occurrence.id,
            CheckIn.id,
            CheckIn.title,
            Occurrence.starts_at,
            Occurrence.outcome,
            Occurrence.reason,
        )
        .join(CheckIn, CheckIn.id == Occurrence.checkin_id)
        .where(
            Occurrence.relationship_id == relationship_id,
            Occurrence.starts_at > now,
            (Occurrence.outcome.is_(None)) | (Occurrence.outcome == Outcome.SKIPPED),
        )
        .order_by(Occurrence.starts_at, Occurrence.id)
        .limit(SHOWN_CHECKINS)
    )
    if mine_only:
        query = query.where(
            select(CheckInParticipant.id)
            .where(
                CheckInParticipant.checkin_id == CheckIn.id,
                CheckInParticipant.user_id == user_id,
            )
            .exists()
        )
    rows = session.execute(query).all()
    checkin_ids = [row[1] for row in rows]
    people: dict[int, list[str]] = {}
    for checkin_id, person in session.execute(
        select(CheckInParticipant.checkin_id, CheckInParticipant.user_id)
        .where(CheckInParticipant.checkin_id.in_(checkin_ids))
        .order_by(CheckInParticipant.position, CheckInParticipant.id)
    ):
        people.setdefault(checkin_id, []).append(person)
    answers = dict(
        session.execute(
            select(Rsvp.occurrence_id, Rsvp.attending).where(
                Rsvp.occurrence_id.in_([row[0] for row in rows]), Rsvp.user_id == user_id
            )
        ).all()
    )
    return [
        NextCheckIn(
            occurrence_id,
            title,
            starts_at,
            tuple(people.get(checkin_id, ())),
            user_id in people.get(checkin_id, ()),
            answers.get(occurrence_id),
            (reason or "no reason given") if outcome is Outcome.SKIPPED else None,
        )
        for occurrence_id, checkin_id, title, starts_at, outcome, reason in rows
    ]


def pulse_status(
    session: Session, relationship_id: int, now: datetime, is_owner: bool
) -> PulseStatus | None:
    """The round taking answers now; owners also get its answers so far, in total."""
    open_round = current_round(session, relationship_id, now)
    if open_round is None:
        return None
    progress = (
        open_round_progress(session, open_round.id, open_round.closes_at) if is_owner else None
    )
    return PulseStatus(open_round.closes_at, progress)
