"""The buttons on reminders and follow-ups: RSVPs, outcomes and notes; any member may answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.checkins.models import Occurrence, Outcome, Rsvp
from bot.checkins.occurrences import OccurrenceFacts, occurrence_facts
from bot.checkins.people import membership
from bot.relationships.domain import NotAllowed, RapportError, homed_in
from bot.relationships.models import Relationship

NOTE_MAX = 500


def _occurrence_for_member(
    session: Session, team_id: str, occurrence_id: int, user_id: str
) -> Occurrence:
    occurrence = session.scalar(  # from either home workspace of a joint relationship
        select(Occurrence)
        .join(Relationship, Relationship.id == Occurrence.relationship_id)
        .where(Occurrence.id == occurrence_id, homed_in(team_id))
    )
    if occurrence is None:
        raise RapportError("That check-in no longer exists.")
    if membership(session, occurrence.relationship_id, user_id) is None:
        raise NotAllowed("That button is for people in this relationship.")
    return occurrence


def record_rsvp(
    session: Session, team_id: str, occurrence_id: int, user_id: str, attending: bool, now: datetime
) -> OccurrenceFacts:
    """Save "I'll be there" / "Can't make it" (the last answer counts)."""
    occurrence = _occurrence_for_member(session, team_id, occurrence_id, user_id)
    rsvp = session.scalar(
        select(Rsvp).where(Rsvp.occurrence_id == occurrence.id, Rsvp.user_id == user_id)
    )
    if rsvp is None:
        session.add(
            Rsvp(
                team_id=team_id,
                occurrence_id=occurrence.id,
                user_id=user_id,
                attending=attending,
                answered_at=now,
            )
        )
    else:
        rsvp.attending, rsvp.answered_at = attending, now
    session.flush()
    return occurrence_facts(session, team_id, occurrence.id)


def record_outcome(
    session: Session,
    team_id: str,
    occurrence_id: int,
    user_id: str,
    outcome: Outcome,
    now: datetime,
) -> OccurrenceFacts:
    """Held / skipped / rescheduled, from the follow-up; any member may answer."""
    occurrence = _occurrence_for_member(session, team_id, occurrence_id, user_id)
    occurrence.outcome, occurrence.answered_by, occurrence.answered_at = outcome, user_id, now
    session.flush()
    return occurrence_facts(session, team_id, occurrence.id)


def record_note(
    session: Session, team_id: str, occurrence_id: int, user_id: str, note: str
) -> OccurrenceFacts:
    occurrence = _occurrence_for_member(session, team_id, occurrence_id, user_id)
    occurrence.note = note.strip()[:NOTE_MAX] or None
    session.flush()
    return occurrence_facts(session, team_id, occurrence.id)
