"""Pulse rounds: opening the scheduled ones, ``/pulse send``, and the round a piece of
feedback counts in."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from sqlalchemy import bindparam, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.pulse.models import PulseRound, PulseSettings
from bot.pulse.questions import questions
from bot.pulse.schedule import last_scheduled_openings, round_times, round_times_after
from bot.pulse.settings import RoundTiming, settings_for
from bot.relationships.domain import RapportError, require_owner
from bot.relationships.models import Relationship
from bot.slack import mrkdwn


def round_questions(pulse_round: PulseRound) -> list[tuple[int, str]]:
    return [(int(key), str(text)) for key, text in json.loads(pulse_round.questions)]


def is_closed(pulse_round: PulseRound, now: datetime) -> bool:
    return now >= pulse_round.closes_at


def _create_round(
    session: Session,
    relationship: Relationship,
    settings: PulseSettings,
    day: date | None,
    prompt_at: time,
    opens_at: datetime,
    closes_at: datetime,
    now: datetime,
) -> PulseRound:
    pulse_round = PulseRound(
        team_id=relationship.team_id,
        relationship_id=relationship.id,
        day=day,
        prompt_at=prompt_at,
        opens_at=opens_at,
        closes_at=closes_at,
        questions=json.dumps(questions(session, relationship)),
        secret=secrets.token_hex(32),
        reminder_before_hours=settings.reminder_hours,
        min_group=settings.min_group,
        alerts_done=False,
        created_at=now,
    )
    session.add(pulse_round)
    session.flush()
    return pulse_round


def open_due_rounds(session: Session, now: datetime) -> list[int]:
    """Create the scheduled rounds whose time has come somewhere on Earth; returns their ids.

    Occurrences that closed while Rapport was down are skipped, not sent late, and so are
    those that fall while another round is still open.
    """
    opened = []
    last_openings = last_scheduled_openings(session)  # a query for all, not one each
    for relationship_id, timing in _round_timings(session):
        if timing.paused:
            continue
        for day, at, opens, closes in round_times_after(timing, last_openings.get(relationship_id)):
            if opens > now:
                break
            if closes <= now or _overlaps_open_round(session, relationship_id, opens):
                continue
            relationship = session.get_one(Relationship, relationship_id)
            settings = settings_for(session, relationship)
            try:
                with session.begin_nested():
                    opened.append(
                        _create_round(
                            session, relationship, settings, day, at, opens, closes, now
                        ).id
                    )
            except IntegrityError:  # another process opened it
                pass
    return opened


def _round_timings(session: Session) -> Iterator[tuple[int, RoundTiming]]:
    """Every relationship's round timing, as plain values (its settings or their defaults)."""
    for relationship_id, created_at, *saved in session.execute(_ROUND_TIMINGS):
        if saved[0] is None:  # no settings saved
            yield relationship_id, RoundTiming.default(created_at)
        else:
            yield relationship_id, RoundTiming(*saved)


_ROUND_TIMINGS = (
    select(
        Relationship.id,
        Relationship.created_at,
        PulseSettings.cadence,
        PulseSettings.anchor,
        PulseSettings.not_before,
        PulseSettings.window_days,
        PulseSettings.paused,
    )
    .outerjoin(PulseSettings, PulseSettings.relationship_id == Relationship.id)
    .order_by(Relationship.id)
)


def _overlaps_open_round(session: Session, relationship_id: int, at: datetime) -> bool:
    """A scheduled occurrence is skipped when another round (e.g. ``/pulse send``) is open."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    PulseRound.relationship_id == relationship_id,
                    PulseRound.opens_at <= at,
                    PulseRound.closes_at > at,
                )
            )
        )
    )


def current_round(session: Session, relationship_id: int, now: datetime) -> PulseRound | None:
    """The newest round taking answers now."""
    return session.scalar(CURRENT_ROUND, {"relationship_id": relationship_id, "now": now})


# built once: App Home and /rapport health ask it each time (see bot.relationships.domain);
# /pulse results reads it among the rounds it shows
CURRENT_ROUND = (
    select(PulseRound)
    .where(
        PulseRound.relationship_id == bindparam("relationship_id"),
        PulseRound.opens_at <= bindparam("now"),
        PulseRound.closes_at > bindparam("now"),
    )
    .order_by(PulseRound.opens_at.desc(), PulseRound.id.desc())
    .limit(1)
)


def open_round_now(
    session: Session, relationship: Relationship, actor: str, now: datetime
) -> PulseRound:
    """``/pulse send``: a round for everyone right away, unless one is already open."""
    require_owner(session, relationship, actor)
    if settings_for(session, relationship).paused:
        raise RapportError(
            f"Pulse for *{mrkdwn.escape(relationship.name)}* is paused, so nobody would be "
            "asked. `/pulse resume` first, then `/pulse send`."
        )
    existing = current_round(session, relationship.id, now)
    if existing is not None:
        raise RapportError(
            f"A round of *{mrkdwn.escape(relationship.name)}* is already open until "
            f"<!date^{int(existing.closes_at.timestamp())}^{{date_short_pretty}} {{time}}|"
            f"{existing.closes_at:%Y-%m-%d %H:%M} UTC>."
        )
    settings = settings_for(session, relationship)
    closes = now + timedelta(days=settings.window_days)
    return _create_round(session, relationship, settings, None, time(0), now, closes, now)


def round_for_feedback(session: Session, relationship: Relationship, now: datetime) -> PulseRound:
    """Where ad-hoc feedback counts: the open round, else the next scheduled one."""
    found = current_round(session, relationship.id, now)
    if found is not None:
        return found
    upcoming = session.scalar(
        select(PulseRound)
        .where(PulseRound.relationship_id == relationship.id, PulseRound.opens_at > now)
        .order_by(PulseRound.opens_at)
        .limit(1)
    )
    if upcoming is not None:
        return upcoming
    settings = settings_for(session, relationship)
    if settings.paused:
        raise RapportError(
            f"Pulse surveys for *{mrkdwn.escape(relationship.name)}* are paused, so there's no "
            "round for your feedback to count in. Ask an owner to `/pulse resume`."
        )
    day, at, opens, closes = next(round_times(session, settings))
    return _create_round(session, relationship, settings, day, at, opens, closes, now)
