"""Messages in watched channels become signals: side, score, cue kinds, reply tracking.

A message is stored once per (workspace, channel, ts), so Slack's retries and duplicate
deliveries change nothing, an edit re-assesses the same row and a deletion drops it. The
text itself is assessed in memory and never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from sqlalchemy import (
    CursorResult,
    Executable,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from bot.core.db import upsert_insert
from bot.drift.config import DriftConfig, DriftConfigCache
from bot.drift.domain import DEFAULT_THRESHOLD, Assessment, assess_learned
from bot.drift.models import (
    EXCERPT_CHARS,
    OPEN_FORMAL,
    UNKNOWN_SIDE,
    DriftSignal,
    Thresholds,
)
from bot.relationships.models import Member, OrganisationSide, Side, WatchedChannel


@dataclass(frozen=True)
class IncomingMessage:
    team_id: str
    channel_id: str
    ts: str
    thread_ts: str | None
    author_id: str
    author_team: str | None  # the author's own workspace (Slack Connect)
    text: str
    from_bot: bool = False


@dataclass(frozen=True)
class Recorded:
    relationship_id: int
    config: DriftConfig
    side: str
    assessment: Assessment
    outcome: str  # "new", "edited" or "duplicate"


@dataclass(frozen=True)
class ChannelFigures:
    messages: int
    formal: int
    formal_before: int  # in the window before this one, for the trend
    unanswered: int  # formal messages the other side hasn't answered in time
    by_side: dict[str, int]


# Every message event runs these, so they are built once: building a statement costs more
# than running it. They run on the session's connection (``_run``), skipping ORM bookkeeping.
_formal = DriftSignal.score >= DEFAULT_THRESHOLD
_in_channel = and_(
    DriftSignal.relationship_id == bindparam("relationship"),
    DriftSignal.channel_id == bindparam("channel"),
)
_from_other_side = and_(  # the side of the message we ask about is "own_side"
    DriftSignal.side != bindparam("own_side"), DriftSignal.side != UNKNOWN_SIDE
)
_WATCHED = (
    select(WatchedChannel.relationship_id, Member.side)
    .outerjoin(
        Member,
        and_(
            Member.relationship_id == WatchedChannel.relationship_id,
            Member.user_id == bindparam("author"),
        ),
    )
    .where(
        WatchedChannel.team_id == bindparam("team"),
        WatchedChannel.channel_id == bindparam("channel"),
    )
)
_ORGANISATION_SIDE = select(OrganisationSide.side).where(
    OrganisationSide.relationship_id == bindparam("relationship"),
    OrganisationSide.org_team_id == bindparam("organisation"),
)
_ANSWER = {  # in a thread: its parent and earlier replies; in the channel: earlier messages
    in_thread: update(DriftSignal)
    .where(
        _in_channel,
        text(OPEN_FORMAL),  # literally, or SQLite can't prove the partial index applies
        DriftSignal.posted_at <= bindparam("when"),
        _from_other_side,
        or_(
            DriftSignal.message_ts == bindparam("thread"),
            DriftSignal.thread_ts == bindparam("thread"),
        )
        if in_thread
        else DriftSignal.thread_ts.is_(None),
    )
    .values(replied_at=bindparam("answered_at"))
    for in_thread in (True, False)
}
_FIRST_ANSWER = {  # the same rule, asked the other way round
    in_thread: select(func.min(DriftSignal.posted_at)).where(
        _in_channel,
        DriftSignal.posted_at >= bindparam("since"),
        _from_other_side,
        DriftSignal.message_ts != bindparam("message"),
        DriftSignal.thread_ts == bindparam("thread")
        if in_thread
        else or_(DriftSignal.thread_ts.is_(None), DriftSignal.thread_ts == bindparam("thread")),
    )
    for in_thread in (True, False)
}
_OTHER_SIDE_SPOKE = (
    select(DriftSignal.id)
    .where(_in_channel, DriftSignal.posted_at > bindparam("since"), _from_other_side)
    .limit(1)
)
# One pass over this window and the one before, no GROUP BY (grouping the window's rows by
# side sorted them all, on every event), instead of a statement per figure.
_in_window = DriftSignal.posted_at > bindparam("start")  # no upper bound: clock skew
_COUNTS = (
    func.count(case((_in_window, 1))),
    func.count(case((and_(_in_window, DriftSignal.side == Side.CLIENT.value), 1))),
    func.count(case((and_(_in_window, DriftSignal.side == Side.PROVIDER.value), 1))),
    func.count(case((and_(_in_window, _formal), 1))),
    func.count(case((and_(~_in_window, _formal), 1))),  # the window before, for the trend
    func.count(
        case(
            (
                and_(
                    _in_window,
                    _formal,
                    DriftSignal.side != UNKNOWN_SIDE,
                    DriftSignal.posted_at <= bindparam("due"),
                    DriftSignal.replied_at.is_(None),
                ),
                1,
            )
        )
    ),
)
_WINDOW_COUNTS = select(*_COUNTS).where(_in_channel, DriftSignal.posted_at > bindparam("before"))
# Every watched channel of a relationship at once, oldest watched first; a channel without
# messages has a row of zeros (outer join).
_WATCHED_COUNTS = (
    select(WatchedChannel.channel_id, *_COUNTS)
    .select_from(WatchedChannel)
    .outerjoin(
        DriftSignal,
        and_(
            DriftSignal.relationship_id == WatchedChannel.relationship_id,
            DriftSignal.channel_id == WatchedChannel.channel_id,
            DriftSignal.posted_at > bindparam("before"),
        ),
    )
    .where(WatchedChannel.relationship_id == bindparam("relationship"))
    .group_by(WatchedChannel.id, WatchedChannel.channel_id, WatchedChannel.added_at)
    .order_by(WatchedChannel.added_at, WatchedChannel.id)
)


@cache
def _insert_signal(dialect: str) -> Executable:
    """INSERT … ON CONFLICT DO NOTHING on the message's unique key, returning the new id."""
    insert = upsert_insert(dialect)
    columns = [column.name for column in DriftSignal.__table__.columns if column.name != "id"]
    return (
        insert(DriftSignal)
        .values({name: bindparam(name) for name in columns})
        .on_conflict_do_nothing(index_elements=["team_id", "channel_id", "message_ts"])
        .returning(DriftSignal.id)  # a row only when inserted: rowcount isn't portable here
    )


def _run(session: Session, statement: Executable, **params: Any) -> CursorResult[Any]:
    return session.connection().execute(statement, params)


def posted_at(ts: str) -> datetime:
    """Slack's message ts is the posting time in epoch seconds."""
    try:
        return datetime.fromtimestamp(float(Decimal(ts)), UTC)
    except (InvalidOperation, ValueError, OverflowError) as error:
        raise ValueError(f"not a Slack timestamp: {ts!r}") from error


def _watched_with_author_side(session: Session, message: IncomingMessage) -> tuple[int, str] | None:
    """The channel's relationship id and the author's side: member mapping first, then the
    author's organisation (Slack Connect); otherwise honestly "unknown"."""
    row = _run(
        session,
        _WATCHED,
        author=message.author_id,
        team=message.team_id,
        channel=message.channel_id,
    ).first()
    if row is None:
        return None
    relationship_id, side = row
    if side is None and message.author_team:
        side = _run(
            session,
            _ORGANISATION_SIDE,
            relationship=relationship_id,
            organisation=message.author_team,
        ).scalar()
    return relationship_id, side.value if side is not None else UNKNOWN_SIDE


@dataclass(frozen=True)
class Scored:
    """A message scored ahead of its write transaction, with the configuration it used."""

    relationship_id: int
    config: DriftConfig
    assessment: Assessment


def score_ahead(configs: DriftConfigCache, message: IncomingMessage) -> Scored | None:
    """Score a message with its channel's loaded configuration before the write transaction
    opens: the learned score takes about half a millisecond, which inside the transaction
    would hold SQLite's write lock, and every other event's write with it. None when the
    configuration isn't loaded (``DriftConfigCache.prepare``)."""
    prepared = configs.prepared(message.team_id, message.channel_id)
    if prepared is None:
        return None
    relationship_id, config = prepared
    assessment = assess_learned(message.text, config.cues, config.calmed, config.shift)
    return Scored(relationship_id, config, assessment)


def record_message(
    session: Session,
    message: IncomingMessage,
    configs: DriftConfigCache,
    edited: bool = False,
    scored: Scored | None = None,
) -> Recorded | None:
    """Assess and store a message from a watched channel (None when it isn't watched).

    A new message is inserted once: Slack delivering it again comes back as "duplicate".
    An edit re-assesses the stored row (or stores it, if we never saw the original).
    ``scored`` is used when it was scored with the configuration in force here.
    """
    watched = _watched_with_author_side(session, message)
    if watched is None:
        return None
    relationship_id, side = watched
    config = configs.get(session, relationship_id)
    if message.from_bot and not config.thresholds.include_bots:
        return None
    if scored is not None and scored.relationship_id == relationship_id and scored.config is config:
        assessment = scored.assessment
    else:
        assessment = assess_learned(message.text, config.cues, config.calmed, config.shift)
    excerpt = (
        message.text[:EXCERPT_CHARS]
        if config.thresholds.excerpt_days > 0 and assessment.is_formal
        else None
    )
    kinds = ",".join(assessment.kinds)[:200]
    if edited and (existing := _reassess(session, message, assessment, kinds, excerpt)):
        return Recorded(relationship_id, config, existing.side, assessment, "edited")
    when = posted_at(message.ts)
    row = {
        "team_id": message.team_id,
        "relationship_id": relationship_id,
        "channel_id": message.channel_id,
        "message_ts": message.ts,
        "thread_ts": message.thread_ts if message.thread_ts != message.ts else None,
        "author_id": message.author_id,
        "side": side,
        "score": assessment.score,
        "cue_kinds": kinds,
        "posted_at": when,
        "excerpt": excerpt,
    }
    # Slack may deliver a message late, after replies to it
    row["replied_at"] = _first_answer(session, DriftSignal(**row)) if assessment.is_formal else None
    inserted = _run(session, _insert_signal(session.get_bind().dialect.name), **row).scalar()
    if inserted is None:
        return Recorded(relationship_id, config, side, assessment, "duplicate")
    if side != UNKNOWN_SIDE:
        _mark_answered(session, relationship_id, message, side, when)
    return Recorded(relationship_id, config, side, assessment, "new")


def _reassess(
    session: Session,
    message: IncomingMessage,
    assessment: Assessment,
    kinds: str,
    excerpt: str | None,
) -> DriftSignal | None:
    """An edited message's stored signal, updated; None if we never stored the original."""
    existing = session.scalar(
        select(DriftSignal).where(
            DriftSignal.team_id == message.team_id,
            DriftSignal.channel_id == message.channel_id,
            DriftSignal.message_ts == message.ts,
        )
    )
    if existing is not None:
        existing.score, existing.cue_kinds, existing.excerpt = assessment.score, kinds, excerpt
        # formal now, perhaps after the other side already replied: ask the stored replies
        existing.replied_at = _first_answer(session, existing) if assessment.is_formal else None
    return existing


def _mark_answered(
    session: Session, relationship_id: int, message: IncomingMessage, side: str, when: datetime
) -> None:
    """A message from one side answers the other side's earlier open formal messages: in a
    thread, its parent and the thread's earlier replies; in the channel, every earlier one
    posted in the channel. (``_first_answer`` is the same rule, asked the other way round.)"""
    thread = message.thread_ts if message.thread_ts and message.thread_ts != message.ts else None
    _run(  # (matches ix_drift_signals_open, so only open formal messages are visited)
        session,
        _ANSWER[thread is not None],
        relationship=relationship_id,
        channel=message.channel_id,
        when=when,
        answered_at=when,
        own_side=side,
        thread=thread,
    )


def _first_answer(session: Session, signal: DriftSignal) -> datetime | None:
    """When the other side first answered this message, among the replies stored now: in
    its thread, or (for a message posted in the channel) later in the channel."""
    if signal.side == UNKNOWN_SIDE:
        return None
    return _run(
        session,
        _FIRST_ANSWER[signal.thread_ts is not None],
        relationship=signal.relationship_id,
        channel=signal.channel_id,
        since=signal.posted_at,
        own_side=signal.side,
        message=signal.message_ts,
        thread=signal.thread_ts or signal.message_ts,
    ).scalar()


def forget_message(session: Session, team_id: str, channel_id: str, ts: str) -> bool:
    """A deleted message stops counting, as a message and as an answer: what it answered
    is answered again only by the replies that remain."""
    gone = session.execute(
        delete(DriftSignal)
        .where(
            DriftSignal.team_id == team_id,
            DriftSignal.channel_id == channel_id,
            DriftSignal.message_ts == ts,
        )
        .returning(DriftSignal.relationship_id, DriftSignal.posted_at)
    ).first()
    if gone is None:
        return False
    answered = session.scalars(
        select(DriftSignal).where(
            DriftSignal.relationship_id == gone.relationship_id,
            DriftSignal.channel_id == channel_id,
            DriftSignal.replied_at == gone.posted_at,
        )
    ).all()
    for signal in answered:
        signal.replied_at = _first_answer(session, signal)
    return True


def channel_figures(
    session: Session, relationship_id: int, channel_id: str, settings: Thresholds, now: datetime
) -> ChannelFigures:
    """The rolling-window figures for one channel, aggregated in SQL."""
    row = _run(
        session,
        _WINDOW_COUNTS,
        relationship=relationship_id,
        channel=channel_id,
        **_window_bounds(settings, now),
    ).one()
    return _figures(*row)


def watched_channel_figures(
    session: Session, relationship_id: int, settings: Thresholds, now: datetime
) -> dict[str, ChannelFigures]:
    """``channel_figures`` of every channel the relationship watches, oldest watched first,
    in one query."""
    rows = _run(
        session, _WATCHED_COUNTS, relationship=relationship_id, **_window_bounds(settings, now)
    )
    return {channel: _figures(*counts) for channel, *counts in rows}


def _window_bounds(settings: Thresholds, now: datetime) -> dict[str, datetime]:
    window = timedelta(days=settings.window_days)
    return {
        "start": now - window,
        "before": now - 2 * window,
        "due": now - timedelta(hours=settings.unanswered_hours),
    }


def _figures(
    messages: int, client: int, provider: int, formal_now: int, formal_before: int, unanswered: int
) -> ChannelFigures:
    counts = {
        Side.CLIENT.value: client,
        Side.PROVIDER.value: provider,
        UNKNOWN_SIDE: messages - client - provider,
    }
    return ChannelFigures(
        messages=messages,
        formal=formal_now,
        formal_before=formal_before,
        unanswered=unanswered,
        by_side={side: count for side, count in counts.items() if count},
    )


def other_side_spoke(
    session: Session, relationship_id: int, channel_id: str, side: str, since: datetime
) -> bool:
    """Has the other side posted in this channel since ``since``? (one-way traffic can't tip)"""
    if side == UNKNOWN_SIDE:
        return False
    spoke = _run(
        session,
        _OTHER_SIDE_SPOKE,
        relationship=relationship_id,
        channel=channel_id,
        since=since,
        own_side=side,
    )
    return spoke.first() is not None
