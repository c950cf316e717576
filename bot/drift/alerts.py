"""When a watched channel's figures cross a threshold, owners get one alert, not a stream.

The same channel and kind of alert goes out at most once a day unless its figure got much
worse (see ``_much_worse``);
a unique key on (channel, kind, day, figure) stops two processes deciding the same alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.drift.config import FEEDBACK_ALERTS
from bot.drift.cues import default_cues
from bot.drift.models import DriftAlert, DriftCalming, Thresholds
from bot.drift.signals import ChannelFigures
from bot.relationships import domain as rel
from bot.relationships.models import Relationship, Side

COOLDOWN = timedelta(days=1)
# the channel's latest alert of a kind: asked on every message once a threshold is crossed
_LAST_ALERT = (
    select(DriftAlert.sent_at, DriftAlert.figure)
    .where(
        DriftAlert.relationship_id == bindparam("relationship"),
        DriftAlert.channel_id == bindparam("channel"),
        DriftAlert.kind == bindparam("kind"),
    )
    .order_by(DriftAlert.sent_at.desc())
    .limit(1)
)


@dataclass(frozen=True)
class AlertNotice:
    """Everything the alert message shows; no message text, only figures and cue words."""

    alert_id: int
    team_id: str
    relationship_id: int
    relationship_name: str
    kind: str  # formal_tone, unanswered, one_way
    channel_id: str
    figures: ChannelFigures
    window_days: int
    unanswered_hours: int
    cues: tuple[str, ...]
    message_ts: str | None
    recipients: tuple[rel.Recipient, ...]
    tone: str | None = None  # what the message sounds like, where no cue says it


@dataclass(frozen=True)
class NotDrift:
    """What an owner's "Not drift" changed."""

    eases_score: bool = False  # the relationship's learned score got less eager
    calmed: tuple[str, ...] = ()  # cue kinds that now count for less


def triggered(figures: ChannelFigures, settings: Thresholds) -> dict[str, int]:
    """Kinds of drift whose thresholds are crossed, each with its figure (higher = worse)."""
    kinds: dict[str, int] = {}
    if (
        figures.formal >= settings.min_formal
        and figures.formal >= settings.formal_share * figures.messages
    ):
        kinds["formal_tone"] = figures.formal
    if figures.unanswered >= settings.min_unanswered:
        kinds["unanswered"] = figures.unanswered
    client = figures.by_side.get(Side.CLIENT.value, 0)
    provider = figures.by_side.get(Side.PROVIDER.value, 0)
    if max(client, provider) >= settings.one_way_messages and min(client, provider) == 0:
        kinds["one_way"] = max(client, provider)
    return kinds


def decide(
    session: Session,
    team_id: str,
    relationship_id: int,
    channel_id: str,
    figures: ChannelFigures,
    settings: Thresholds,
    now: datetime,
    cues: tuple[str, ...] = (),
    cue_kinds: str = "",
    message_ts: str | None = None,
    tone: str | None = None,
) -> list[AlertNotice]:
    """Alerts to send for the thresholds the figures cross, recorded so they go out once."""
    notices = []
    relationship: Relationship | None = None  # loaded only if an alert goes out
    for kind, figure in triggered(figures, settings).items():
        last = (
            session.connection()
            .execute(
                _LAST_ALERT, {"relationship": relationship_id, "channel": channel_id, "kind": kind}
            )
            .first()
        )
        if last is not None and now - last.sent_at < COOLDOWN and not _much_worse(figure, last):
            continue
        relationship = relationship or rel.get_relationship(session, team_id, relationship_id)
        alert = DriftAlert(
            team_id=relationship.team_id,
            relationship_id=relationship.id,
            channel_id=channel_id,
            kind=kind,
            figure=figure,
            day=now.date().isoformat(),
            cue_kinds=cue_kinds if kind == "formal_tone" else "",
            sent_at=now,
        )
        try:
            with session.begin_nested():
                session.add(alert)
        except IntegrityError:  # another process decided this very alert a moment ago
            continue
        notices.append(
            AlertNotice(
                alert_id=alert.id,
                team_id=relationship.team_id,
                relationship_id=relationship.id,
                relationship_name=relationship.name,
                kind=kind,
                channel_id=channel_id,
                figures=figures,
                window_days=settings.window_days,
                unanswered_hours=settings.unanswered_hours,
                cues=cues if kind == "formal_tone" else (),
                message_ts=message_ts if kind != "unanswered" else None,
                recipients=tuple(rel.alert_recipients(session, relationship)),
                tone=tone if kind == "formal_tone" else None,
            )
        )
    return notices


def _much_worse(figure: int, last: Row[tuple[datetime, int]]) -> bool:
    """Worse enough to alert again inside the cooldown: half as bad again, and at least +2."""
    return figure >= last.figure + max(2, last.figure // 2)


def _owned_alert(session: Session, team_id: str, alert_id: int, user_id: str) -> DriftAlert:
    alert = session.scalar(  # either home workspace's owners may answer a joint one's
        select(DriftAlert)
        .join(rel.Relationship, rel.Relationship.id == DriftAlert.relationship_id)
        .where(DriftAlert.id == alert_id, rel.homed_in(team_id))
    )
    if alert is None:
        raise rel.RapportError("That alert no longer exists.")
    rel.owner_of(session, team_id, alert.relationship_id, user_id)
    return alert


def relationship_of(session: Session, alert_id: int) -> int:
    return session.get(DriftAlert, alert_id).relationship_id


def acknowledge(session: Session, team_id: str, alert_id: int, user_id: str) -> DriftAlert:
    alert = _owned_alert(session, team_id, alert_id, user_id)
    alert.acknowledged_by = alert.acknowledged_by or user_id
    return alert


def not_drift(session: Session, team_id: str, alert_id: int, user_id: str) -> NotDrift:
    """Owners' feedback, for this relationship only: an alert about the score makes the
    learned score a little less eager (``bot.drift.config.feedback_shift``), and the cue
    kinds behind a formal-tone alert count for less. Pressing twice on the same alert
    counts once."""
    alert = _owned_alert(session, team_id, alert_id, user_id)
    if alert.not_drift_by is not None:
        return NotDrift()
    alert.not_drift_by = user_id
    labels = default_cues().labels
    kinds = [kind for kind in alert.cue_kinds.split(",") if kind in labels]  # not tones
    for kind in kinds:
        calming = session.scalar(
            select(DriftCalming).where(
                DriftCalming.relationship_id == alert.relationship_id, DriftCalming.kind == kind
            )
        )
        if calming is None:
            session.add(
                DriftCalming(
                    team_id=team_id, relationship_id=alert.relationship_id, kind=kind, presses=1
                )
            )
        else:
            calming.presses += 1
    return NotDrift(alert.kind in FEEDBACK_ALERTS, tuple(kinds))
