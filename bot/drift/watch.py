"""One message in, everything drift decides about it out: stored signal, alerts, nudge."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.drift.alerts import AlertNotice, decide, triggered
from bot.drift.config import DriftConfigCache, load_thresholds
from bot.drift.domain import DEFAULT_THRESHOLD, HIGH_SCORE
from bot.drift.models import UNKNOWN_SIDE, DriftSignal
from bot.drift.signals import (
    IncomingMessage,
    Scored,
    channel_figures,
    other_side_spoke,
    record_message,
)
from bot.relationships import domain as rel
from bot.relationships.models import Role, Side

MAX_WINDOW = timedelta(days=31)  # owners can't set a longer rolling window


@dataclass(frozen=True)
class Nudge:
    """A private word to the author of a very formal message."""

    channel_id: str
    author_id: str
    owner_id: str  # an owner on the other side, to suggest a quick chat with


@dataclass(frozen=True)
class Observation:
    notices: list[AlertNotice] = field(default_factory=list)
    nudge: Nudge | None = None


def observe(
    session: Session,
    message: IncomingMessage,
    now: datetime,
    configs: DriftConfigCache,
    edited: bool = False,
    scored: Scored | None = None,
) -> Observation:
    recorded = record_message(session, message, configs, edited, scored)
    if recorded is None or recorded.outcome == "duplicate":
        return Observation()
    settings = recorded.config.thresholds
    assessment = recorded.assessment
    window_start = now - timedelta(days=settings.window_days)
    if not assessment.is_formal and other_side_spoke(
        session, recorded.relationship_id, message.channel_id, recorded.side, window_start
    ):
        # an informal message can't raise the formal share, and both sides are talking
        return Observation(nudge=None)
    figures = channel_figures(session, recorded.relationship_id, message.channel_id, settings, now)
    wants_nudge = settings.nudge and recorded.outcome == "new" and assessment.score >= HIGH_SCORE
    if not triggered(figures, settings) and not wants_nudge:
        return Observation()
    notices = decide(
        session,
        message.team_id,
        recorded.relationship_id,
        message.channel_id,
        figures,
        settings,
        now,
        cues=tuple(assessment.describe_words()),  # grouped by kind, never message text
        tone=assessment.unexplained_tone,
        cue_kinds=",".join(assessment.kinds),
        message_ts=message.ts if assessment.is_formal else None,
    )
    nudge = None
    if wants_nudge and recorded.side != UNKNOWN_SIDE:
        other = Side(recorded.side).other
        relationship = rel.get_relationship(session, message.team_id, recorded.relationship_id)
        owners = [
            user_id
            for user_id, side, role in rel.people(session, relationship)
            if side is other and role is Role.OWNER
        ]
        if owners:
            nudge = Nudge(message.channel_id, message.author_id, owners[0])
    return Observation(notices, nudge)


def review_unanswered(session: Session, now: datetime) -> list[AlertNotice]:
    """The time-driven check: formal messages that have waited too long for an answer. It
    needs each relationship's thresholds only, never its cue words."""
    notices: list[AlertNotice] = []
    pairs = session.execute(
        select(DriftSignal.relationship_id, DriftSignal.channel_id, DriftSignal.team_id)
        .where(
            DriftSignal.replied_at.is_(None),
            DriftSignal.side != UNKNOWN_SIDE,
            DriftSignal.score >= DEFAULT_THRESHOLD,
            DriftSignal.posted_at > now - MAX_WINDOW,
        )
        .group_by(DriftSignal.relationship_id, DriftSignal.channel_id, DriftSignal.team_id)
    ).all()
    for relationship_id, channel_id, team_id in pairs:
        settings = load_thresholds(session, relationship_id)
        figures = channel_figures(session, relationship_id, channel_id, settings, now)
        if figures.unanswered:
            decided = decide(session, team_id, relationship_id, channel_id, figures, settings, now)
            notices += [notice for notice in decided if notice.kind == "unanswered"]
    return notices
