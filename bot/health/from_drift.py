"""The tone pillar: how the sides talk in watched channels over the relationship's drift
window (``/rapport drift set window-days``, 7 by default), from the figures drift alerts
use (``bot.drift.signals.watched_channel_figures`` and ``bot.drift.alerts.triggered``), kept per
channel so a change can name the channel it happened in.

Only counts: no message text and no author is ever read here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.drift.alerts import triggered
from bot.drift.config import load_thresholds
from bot.drift.models import Thresholds
from bot.drift.signals import ChannelFigures, watched_channel_figures
from bot.health import formula
from bot.health.figures import Component, left_out
from bot.relationships.models import Side

KEYS = tuple(spec.key for spec in formula.COMPONENTS if spec.pillar == formula.TONE)


def tone_components(
    session: Session, relationship_id: int, now: datetime, empty_sides: tuple[str, ...]
) -> list[Component]:
    settings = load_thresholds(session, relationship_id)
    figures = watched_channel_figures(session, relationship_id, settings, now)
    if not figures:
        return [left_out(key, "no_channels") for key in KEYS]
    active = {channel: f for channel, f in figures.items() if f.messages}
    messages = sum(f.messages for f in active.values())
    if messages < formula.MIN_MESSAGES:
        reason = {"needed": formula.MIN_MESSAGES, "days": settings.window_days}
        return [left_out(key, "quiet_channels", **reason) for key in KEYS]
    return [
        _formal_share(active, messages, settings),
        _unanswered(active, settings),
        _one_way(active, settings, empty_sides),
        _formal_trend(figures, settings),
    ]


def _formal_share(
    active: dict[str, ChannelFigures], messages: int, settings: Thresholds
) -> Component:
    share = sum(f.formal for f in active.values()) / messages
    score = formula.formal_share_score(share, settings.formal_share)
    detail = {"channels": {channel: [f.messages, f.formal] for channel, f in active.items()}}
    return Component("formal_share", share, score, detail=detail)


def _unanswered(active: dict[str, ChannelFigures], settings: Thresholds) -> Component:
    waiting = {channel: f.unanswered for channel, f in active.items() if f.unanswered}
    count = sum(waiting.values())
    score = formula.unanswered_score(count, settings.min_unanswered)
    return Component("unanswered", count, score, detail={"channels": waiting})


def _one_way(
    active: dict[str, ChannelFigures], settings: Thresholds, empty_sides: tuple[str, ...]
) -> Component:
    """Channels where only one side spoke; meaningless while a side has nobody in it."""
    if empty_sides:
        return left_out("one_way", "side_empty", side=empty_sides[0])
    one_way = {
        channel: _louder_side(f)
        for channel, f in active.items()
        if "one_way" in triggered(f, settings)
    }
    score = formula.one_way_score(len(one_way), len(active))
    detail = {"channels": one_way, "active": len(active)}
    return Component("one_way", len(one_way), score, detail=detail)


def _louder_side(figures: ChannelFigures) -> str:
    client = figures.by_side.get(Side.CLIENT.value, 0)
    provider = figures.by_side.get(Side.PROVIDER.value, 0)
    return Side.CLIENT.value if client >= provider else Side.PROVIDER.value


def _formal_trend(figures: dict[str, ChannelFigures], settings: Thresholds) -> Component:
    now = sum(f.formal for f in figures.values())
    before = sum(f.formal_before for f in figures.values())
    score = formula.formal_trend_score(now - before, settings.min_formal)
    return Component("formal_trend", now - before, score, detail={"now": now, "before": before})
