"""``/rapport export``: a relationship's aggregate figures as CSV files, and its health
charts as PNG pictures, for its owners.

Three CSV files, one per kind of figure (pulse, check-ins, drift), each with its own header,
and the four charts of the last 12 weeks (``bot.health.chart_series``) go out in a single
upload: a spreadsheet opens each CSV cleanly, where one with a ``section`` column would
force three unrelated sets of columns into one sparse table.

Nothing exported names a person. The charts show the figures the weekly health index
counted, with the same suppression. Pulse figures come from ``bot.pulse.results`` with the same
suppression as ``/pulse results`` (the owners' view, without comments); check-in history has
outcomes and RSVP counts, not who answered; drift has counts per channel and window. Text that
people typed (check-in titles, notes) is neutralised against spreadsheet formula injection.
Intros are left out altogether: their groups say who met whom.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.checkins.models import CheckIn, Occurrence, Rsvp
from bot.core.figures import half_up
from bot.drift.config import load_thresholds
from bot.drift.domain import DEFAULT_THRESHOLD
from bot.drift.models import (
    UNKNOWN_SIDE,
    DriftAlert,
    DriftSignal,
)
from bot.health.chart_series import relationship_charts
from bot.health.index import compute_health
from bot.pulse.results import closed_round_ids, round_results
from bot.pulse.settings import settings_for
from bot.relationships import domain as rel
from bot.relationships.models import Relationship, Role, Side, WatchedChannel
from bot.slack import mrkdwn

Cell = str | int | float | datetime | None
Row = list[Cell]

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BYTE_ORDER_MARK = "\ufeff"  # so Excel reads the file as UTF-8 (relationship names aren't ASCII)


@dataclass(frozen=True)
class ExportFile:
    filename: str
    title: str
    content: str | bytes  # CSV text, or a chart's PNG


@dataclass(frozen=True)
class Export:
    relationship_name: str
    min_group: int  # pulse groups smaller than this are left blank
    window_days: int  # the drift window
    files: list[ExportFile]


def require_exporter(session: Session, relationship: Relationship, user_id: str) -> None:
    """Exports hold a whole relationship's figures: owners only."""
    if rel.require_member(session, relationship, user_id).role is not Role.OWNER:
        raise rel.NotAllowed(
            f"Only owners of *{mrkdwn.escape(relationship.name)}* can export its data. "
            "`/rapport show` lists them if you'd like to ask one."
        )


def build_export(
    session: Session, team_id: str, relationship_id: int, user_id: str, now: datetime
) -> Export:
    """Every file of the export, re-checking (after the ack) that ``user_id`` may have it."""
    relationship = rel.get_relationship(session, team_id, relationship_id)
    require_exporter(session, relationship, user_id)
    min_group = max(2, settings_for(session, relationship).min_group)
    window_days = load_thresholds(session, relationship.id).window_days
    slug = _slug(relationship.name)
    day = now.strftime("%Y-%m-%d")
    sections = (
        ("pulse", "Pulse results per round and side", pulse_rows(session, relationship, now)),
        ("checkins", "Check-in history", checkin_rows(session, relationship, now)),
        ("drift", "Drift figures per channel and window", drift_rows(session, relationship, now)),
    )
    files = [
        ExportFile(f"{slug}-{name}-{day}.csv", f"{relationship.name}: {title}", to_csv(rows))
        for name, title, rows in sections
    ]
    charts = relationship_charts(session, compute_health(session, relationship, now))
    files += [
        ExportFile(
            f"{slug}-chart-{chart.kind.replace('_', '-')}-{day}.png",
            f"{relationship.name}: {chart.title}",
            chart.render_png(),
        )
        for chart in charts.all()
    ]
    return Export(relationship.name, min_group, window_days, files)


# ------------------------------------------------------------------------------- pulse

PULSE_HEADER: Row = [
    "round_closed_utc",
    "side",
    "recipients",
    "respondents",
    "response_rate_percent",
    "average",
    "frontline_average",
    "managers_average",
    "frontline_minus_managers",
    "client_minus_provider",
]


def pulse_rows(session: Session, relationship: Relationship, now: datetime) -> list[Row]:
    """One row per closed round and side; blank where ``/pulse results`` shows nothing."""
    min_group = settings_for(session, relationship).min_group
    ids = closed_round_ids(session, relationship.id, now, limit=None)
    results = round_results(session, ids, min_group)
    rows = [PULSE_HEADER]
    for round_id in ids:
        result = results[round_id]
        for side in Side:
            figures = result.sides[side]
            rate = figures.response_rate
            rows.append(
                [
                    result.closes_at,
                    side.value,
                    figures.recipients,
                    figures.respondents,
                    None if rate is None else int(half_up(rate * 100, 0)),
                    figures.average,
                    figures.frontline,
                    figures.managers,
                    figures.role_gap,
                    result.gap,
                ]
            )
    return rows


# ---------------------------------------------------------------------------- check-ins

CHECKIN_HEADER: Row = [
    "checkin",
    "starts_utc",
    "starts_local",
    "time_zone",
    "outcome",
    "skip_reason",
    "note",
    "attending",
    "not_attending",
]


def checkin_rows(session: Session, relationship: Relationship, now: datetime) -> list[Row]:
    """Every past occurrence, per check-in, with its outcome ("unknown" if nobody said)."""
    attending = func.sum(case((Rsvp.attending.is_(True), 1), else_=0))
    not_attending = func.sum(case((Rsvp.attending.is_(False), 1), else_=0))
    found = session.execute(
        select(
            CheckIn.title,
            CheckIn.tz,
            Occurrence.starts_at,
            Occurrence.outcome,
            Occurrence.reason,
            Occurrence.note,
            attending,
            not_attending,
        )
        .join(CheckIn, CheckIn.id == Occurrence.checkin_id)
        .outerjoin(Rsvp, Rsvp.occurrence_id == Occurrence.id)
        .where(Occurrence.relationship_id == relationship.id, Occurrence.starts_at <= now)
        .group_by(Occurrence.id, CheckIn.id)
        .order_by(CheckIn.title_key, Occurrence.starts_at)
    )
    rows = [CHECKIN_HEADER]
    for title, tz, starts_at, outcome, reason, note, yes, no in found:
        rows.append(
            [
                title,
                starts_at,
                starts_at.astimezone(ZoneInfo(tz)).replace(tzinfo=None),
                tz,
                outcome.value if outcome else "unknown",
                reason,
                note,
                int(yes or 0),
                int(no or 0),
            ]
        )
    return rows


# -------------------------------------------------------------------------------- drift

DRIFT_HEADER: Row = [
    "channel",
    "window_start_utc",
    "window_end_utc",
    "messages",
    "client_messages",
    "provider_messages",
    "unknown_side_messages",
    "formal",
    "unanswered",
    "alerts",
    "alert_kinds",
]


@dataclass(frozen=True)
class _Windows:
    """``count`` consecutive windows of ``length`` ending at ``end``, numbered back from it."""

    end: datetime
    length: timedelta
    count: int

    def bucket(self, column: ColumnElement[datetime]) -> ColumnElement[int]:
        """How many windows back from now ``column`` falls (0: the current window)."""
        return case(*((column > self.end - (k + 1) * self.length, k) for k in range(self.count)))


def _drift_windows(
    session: Session, relationship: Relationship, now: datetime, length: timedelta
) -> _Windows:
    """Windows ending now, back to the oldest signal or alert kept."""
    earliest = [
        session.scalar(
            select(func.min(DriftSignal.posted_at)).where(
                DriftSignal.relationship_id == relationship.id
            )
        ),
        session.scalar(
            select(func.min(DriftAlert.sent_at)).where(
                DriftAlert.relationship_id == relationship.id
            )
        ),
    ]
    oldest = min((moment for moment in earliest if moment is not None), default=now)
    # the oldest window starts before ``oldest``
    return _Windows(now, length, max(0, (now - oldest) // length) + 1)


def _signal_counts(
    session: Session, relationship: Relationship, windows: _Windows, unanswered_hours: int
) -> dict[tuple[str, int], dict[str, int]]:
    """Per (channel, window): messages per side, and how many were formal or unanswered."""
    formal = DriftSignal.score >= DEFAULT_THRESHOLD
    unanswered = and_(
        formal,
        DriftSignal.side != UNKNOWN_SIDE,
        DriftSignal.replied_at.is_(None),
        DriftSignal.posted_at <= windows.end - timedelta(hours=unanswered_hours),
    )
    signals = (
        select(
            DriftSignal.channel_id.label("channel"),
            windows.bucket(DriftSignal.posted_at).label("window"),
            DriftSignal.side.label("side"),
            case((formal, 1), else_=0).label("formal"),
            case((unanswered, 1), else_=0).label("unanswered"),
        )
        .where(DriftSignal.relationship_id == relationship.id)
        .subquery()
    )
    counts: dict[tuple[str, int], dict[str, int]] = {}
    for channel, k, side, messages, formal_count, unanswered_count in session.execute(
        select(
            signals.c.channel,
            signals.c.window,
            signals.c.side,
            func.count(),
            func.sum(signals.c.formal),
            func.sum(signals.c.unanswered),
        ).group_by(signals.c.channel, signals.c.window, signals.c.side)
    ):
        figures = counts.setdefault((channel, k), {"formal": 0, "unanswered": 0})
        figures[side] = messages
        figures["formal"] += int(formal_count or 0)
        figures["unanswered"] += int(unanswered_count or 0)
    return counts


def _alert_counts(
    session: Session, relationship: Relationship, windows: _Windows
) -> dict[tuple[str, int], dict[str, int]]:
    """Per (channel, window): alerts sent, by kind."""
    alerts = (
        select(
            DriftAlert.channel_id.label("channel"),
            windows.bucket(DriftAlert.sent_at).label("window"),
            DriftAlert.kind.label("kind"),
        )
        .where(DriftAlert.relationship_id == relationship.id)
        .subquery()
    )
    alert_kinds: dict[tuple[str, int], dict[str, int]] = {}
    for channel, k, kind, count in session.execute(
        select(alerts.c.channel, alerts.c.window, alerts.c.kind, func.count()).group_by(
            alerts.c.channel, alerts.c.window, alerts.c.kind
        )
    ):
        alert_kinds.setdefault((channel, k), {})[kind] = count
    return alert_kinds


def drift_rows(session: Session, relationship: Relationship, now: datetime) -> list[Row]:
    """Per channel, consecutive windows of the relationship's length ending now, from the
    oldest signal or alert kept, oldest first. "unanswered": formal messages the other side
    still hasn't answered, once ``unanswered-hours`` have passed (as the live alert counts)."""
    settings = load_thresholds(session, relationship.id)
    windows = _drift_windows(session, relationship, now, timedelta(days=settings.window_days))
    counts = _signal_counts(session, relationship, windows, settings.unanswered_hours)
    alert_kinds = _alert_counts(session, relationship, windows)
    watched = session.scalars(
        select(WatchedChannel.channel_id)
        .where(WatchedChannel.relationship_id == relationship.id)
        .order_by(WatchedChannel.added_at, WatchedChannel.id)
    ).all()
    seen = sorted({channel for channel, _ in (*counts, *alert_kinds)} - set(watched))
    rows = [DRIFT_HEADER]
    for channel in (*watched, *seen):
        for k in reversed(range(windows.count)):
            figures = counts.get((channel, k), {})
            kinds = alert_kinds.get((channel, k), {})
            by_side = [figures.get(side, 0) for side in (Side.CLIENT, Side.PROVIDER, UNKNOWN_SIDE)]
            rows.append(
                [
                    channel,
                    now - (k + 1) * windows.length,
                    now - k * windows.length,
                    sum(by_side),
                    *by_side,
                    figures.get("formal", 0),
                    figures.get("unanswered", 0),
                    sum(kinds.values()),
                    ";".join(sorted(kinds)),
                ]
            )
    return rows


# ---------------------------------------------------------------------------------- CSV


def neutralise(text: str) -> str:
    """Keep a spreadsheet from running typed text as a formula: ``=1+1`` becomes ``'=1+1``.

    Only text is touched: numbers (a gap of -0.5) are written as numbers.
    """
    return "'" + text if text.lstrip(" ").startswith(FORMULA_STARTS) else text


def _cell(value: Cell) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return float(half_up(value, 2))  # 2.125 → 2.13, as a person rounds
    if isinstance(value, int):
        return value
    return neutralise(value)


def to_csv(rows: list[Row]) -> str:
    buffer = io.StringIO()
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue()


def _slug(name: str) -> str:
    """A file-name-safe form of a relationship's name: ``Acme ⇄ Stellar`` → ``acme-stellar``."""
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:40].strip("-") or "relationship"
