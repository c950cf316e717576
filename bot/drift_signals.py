"""Messages in watched channels become signals: side, score, cue kinds, reply tracking.

A message is stored once per (workspace, channel, ts), so Slack's retries and duplicate
deliveries change nothing, an edit re-assesses the same row and a deletion drops it. The
text itself is assessed in memory and never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.orm import Session

from bot.drift import DEFAULT_THRESHOLD, Assessment, CueSet, assess, default_cues
from bot.drift_models import UNKNOWN_SIDE, DriftCalming, DriftSettings, DriftSignal, DriftWord
from bot.models import Member, OrganisationSide, Relationship, WatchedChannel

CALMING_STEP = 0.6  # each "Not drift" press multiplies that cue kind's weight by this


@dataclass(frozen=True)
class IncomingMessage:
    team_id: str
    channel_id: str
    ts: str
    thread_ts: str | None
    author_id: str
    author_team: str | None  # the author's own workspace (Slack Connect)
    text: str


@dataclass(frozen=True)
class Recorded:
    relationship_id: int
    side: str
    assessment: Assessment
    edited: bool


@dataclass(frozen=True)
class ChannelFigures:
    messages: int
    formal: int
    formal_before: int  # in the window before this one, for the trend
    unanswered: int  # formal messages the other side hasn't answered in time
    by_side: dict[str, int]


def posted_at(ts: str) -> datetime:
    """Slack's message ts is the posting time in epoch seconds."""
    try:
        return datetime.fromtimestamp(float(Decimal(ts)), UTC)
    except (InvalidOperation, ValueError, OverflowError) as error:
        raise ValueError(f"not a Slack timestamp: {ts!r}") from error


def settings_for(session: Session, relationship_id: int) -> DriftSettings:
    settings = session.get(DriftSettings, relationship_id)
    if settings is None:  # the defaults, not persisted until an owner changes something
        settings = DriftSettings(
            relationship_id=relationship_id,
            nudge=False,
            formal_share=0.25,
            min_formal=3,
            unanswered_hours=24,
            min_unanswered=2,
            one_way_messages=10,
            window_days=7,
        )
    return settings


def cues_for(session: Session, relationship_id: int) -> tuple[CueSet, dict[str, float]]:
    """The relationship's cue words (defaults plus owners' changes) and its calmed kinds."""
    added: dict[str, list[str]] = {}
    removed: dict[str, list[str]] = {}
    for word in session.scalars(
        select(DriftWord).where(DriftWord.relationship_id == relationship_id)
    ):
        (added if word.added else removed).setdefault(word.kind, []).append(word.phrase)
    cues = default_cues().with_words(added, removed) if added or removed else default_cues()
    calmed = {
        calming.kind: CALMING_STEP**calming.presses
        for calming in session.scalars(
            select(DriftCalming).where(DriftCalming.relationship_id == relationship_id)
        )
    }
    return cues, calmed


def _side_of(session: Session, relationship: Relationship, message: IncomingMessage) -> str:
    """Member mapping first, then the author's organisation; otherwise honestly unknown."""
    side = session.scalar(
        select(Member.side).where(
            Member.relationship_id == relationship.id, Member.user_id == message.author_id
        )
    )
    if side is None and message.author_team:
        side = session.scalar(
            select(OrganisationSide.side).where(
                OrganisationSide.relationship_id == relationship.id,
                OrganisationSide.org_team_id == message.author_team,
            )
        )
    return side.value if side is not None else UNKNOWN_SIDE


def watched_relationship(session: Session, team_id: str, channel_id: str) -> Relationship | None:
    return session.scalar(
        select(Relationship)
        .join(WatchedChannel, WatchedChannel.relationship_id == Relationship.id)
        .where(WatchedChannel.team_id == team_id, WatchedChannel.channel_id == channel_id)
    )


def record_message(session: Session, message: IncomingMessage) -> Recorded | None:
    """Assess and store a message from a watched channel (None when it isn't watched)."""
    relationship = watched_relationship(session, message.team_id, message.channel_id)
    if relationship is None:
        return None
    cues, calmed = cues_for(session, relationship.id)
    assessment = assess(message.text, cues, calmed)
    side = _side_of(session, relationship, message)
    kinds = ",".join(dict.fromkeys(cue.kind for cue in assessment.cues))[:200]
    existing = session.scalar(
        select(DriftSignal).where(
            DriftSignal.team_id == message.team_id,
            DriftSignal.channel_id == message.channel_id,
            DriftSignal.message_ts == message.ts,
        )
    )
    if existing is not None:  # an edit, or Slack delivering the same event again
        existing.score, existing.cue_kinds = assessment.score, kinds
        return Recorded(relationship.id, existing.side, assessment, edited=True)
    when = posted_at(message.ts)
    session.add(
        DriftSignal(
            team_id=message.team_id,
            relationship_id=relationship.id,
            channel_id=message.channel_id,
            message_ts=message.ts,
            thread_ts=message.thread_ts if message.thread_ts != message.ts else None,
            author_id=message.author_id,
            side=side,
            score=assessment.score,
            cue_kinds=kinds,
            posted_at=when,
        )
    )
    if side != UNKNOWN_SIDE:
        _mark_answered(session, relationship.id, message, side, when)
    session.flush()
    return Recorded(relationship.id, side, assessment, edited=False)


def _mark_answered(
    session: Session, relationship_id: int, message: IncomingMessage, side: str, when: datetime
) -> None:
    """A message from one side answers the other side's open formal messages: in a thread,
    its parent; in the channel, every earlier open one."""
    thread = message.thread_ts if message.thread_ts and message.thread_ts != message.ts else None
    where = [
        DriftSignal.relationship_id == relationship_id,
        DriftSignal.channel_id == message.channel_id,
        DriftSignal.side.notin_((side, UNKNOWN_SIDE)),
        DriftSignal.score >= DEFAULT_THRESHOLD,
        DriftSignal.replied_at.is_(None),
        DriftSignal.posted_at <= when,
    ]
    where.append(DriftSignal.message_ts == thread if thread else DriftSignal.thread_ts.is_(None))
    session.execute(update(DriftSignal).where(*where).values(replied_at=when))


def forget_message(session: Session, team_id: str, channel_id: str, ts: str) -> bool:
    """A deleted message stops counting."""
    result = session.execute(
        delete(DriftSignal).where(
            DriftSignal.team_id == team_id,
            DriftSignal.channel_id == channel_id,
            DriftSignal.message_ts == ts,
        )
    )
    return bool(result.rowcount)


def channel_figures(
    session: Session, relationship_id: int, channel_id: str, settings: DriftSettings, now: datetime
) -> ChannelFigures:
    """The rolling-window figures for one channel, aggregated in SQL."""
    window = timedelta(days=settings.window_days)
    start, before = now - window, now - 2 * window
    formal = DriftSignal.score >= DEFAULT_THRESHOLD
    in_channel = and_(
        DriftSignal.relationship_id == relationship_id, DriftSignal.channel_id == channel_id
    )
    rows = session.execute(
        select(
            DriftSignal.side,
            func.count(),
            func.sum(case((formal, 1), else_=0)),
        )
        .where(in_channel, DriftSignal.posted_at > start)  # no upper bound: clocks skew
        .group_by(DriftSignal.side)
    ).all()
    by_side = {side: count for side, count, _ in rows}
    formal_now = sum(int(formal_count or 0) for _, _, formal_count in rows)
    formal_before = session.scalar(
        select(func.count()).where(
            in_channel, formal, DriftSignal.posted_at > before, DriftSignal.posted_at <= start
        )
    )
    unanswered = session.scalar(
        select(func.count()).where(
            in_channel,
            formal,
            DriftSignal.side != UNKNOWN_SIDE,
            DriftSignal.posted_at > start,
            DriftSignal.posted_at <= now - timedelta(hours=settings.unanswered_hours),
            DriftSignal.replied_at.is_(None),
        )
    )
    return ChannelFigures(
        messages=sum(by_side.values()),
        formal=formal_now,
        formal_before=formal_before or 0,
        unanswered=unanswered or 0,
        by_side=by_side,
    )


def purge_signals(session: Session, older_than: datetime) -> int:
    """Retention: signals older than the cut-off are deleted."""
    return session.execute(delete(DriftSignal).where(DriftSignal.posted_at < older_than)).rowcount
