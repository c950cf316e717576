"""Pulse results: aggregates computed in SQL, then suppressed for anonymity.

A figure is shown only for a group with at least ``min_group`` respondents: the larger of
the setting in force and the round's own threshold (the one it was answered under), so that
lowering the setting never reveals what a closed round hid. Within a side,
front-line and manager figures are shown together or not at all: showing one next to the
side's figure would give the other away by subtraction. Nothing here ever sees a user id.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, false, func, select, true, union_all
from sqlalchemy.orm import Session

from bot.core.db import columns, one_row_joined
from bot.pulse.models import (
    PulseAnswer,
    PulseComment,
    PulseRecipient,
    PulseRound,
    PulseSettings,
    RecipientStatus,
)
from bot.pulse.rounds import CURRENT_ROUND, round_questions
from bot.pulse.settings import DEFAULT_MIN_GROUP, settings_for
from bot.relationships.joint import departed_side
from bot.relationships.models import Relationship, Role, Side

TREND_ROUNDS = 8
MANAGERS = (Role.MANAGER, Role.OWNER)


@dataclass(frozen=True)
class SideFigures:
    side: Side
    recipients: int
    respondents: int
    average: float | None  # None: not enough answers to show
    frontline: float | None
    managers: float | None

    @property
    def response_rate(self) -> float | None:
        return self.respondents / self.recipients if self.recipients else None

    @property
    def role_gap(self) -> float | None:
        """Front-line minus managers; shown only when both groups are."""
        if self.frontline is None or self.managers is None:
            return None
        return self.frontline - self.managers


@dataclass(frozen=True)
class QuestionFigures:
    """One question's average per side, in a round that asks several. A side's figures are
    shown for every question or for none: one hidden next to the others and the side's
    average would give it away."""

    text: str
    averages: dict[Side, float | None]


@dataclass(frozen=True)
class RoundResult:
    round_id: int
    closes_at: datetime
    min_group: int  # the threshold its figures were suppressed at
    sides: dict[Side, SideFigures]
    comments: list[tuple[Side, str]] = field(default_factory=list)
    questions: list[QuestionFigures] = field(default_factory=list)  # latest round only

    @property
    def gap(self) -> float | None:
        """Client minus provider average; None unless both sides are shown."""
        client, provider = self.sides[Side.CLIENT].average, self.sides[Side.PROVIDER].average
        if client is None or provider is None:
            return None
        return client - provider


@dataclass(frozen=True)
class OpenRoundProgress:
    """What owners see of a round still open: totals only, never by side or role."""

    closes_at: datetime
    respondents: int
    recipients: int
    unreachable: int = 0  # members Slack refused the prompt to (deactivated, not found)


@dataclass(frozen=True)
class PulseResults:
    relationship_name: str
    min_group: int
    latest: RoundResult | None
    trend: list[RoundResult]  # oldest first, ending with ``latest``
    open_round: OpenRoundProgress | None  # owners only
    unreachable: int = 0  # owners only: members the latest closed round couldn't reach
    # a joint relationship's side whose workspace uninstalled Rapport: (side, organisation)
    departed: tuple[Side, str] | None = None


def _suppressed(
    side: Side,
    recipients: int,
    groups: dict[str, tuple[int, int, int]],  # "frontline"/"managers" -> (people, sum, n)
    min_group: int,
) -> SideFigures:
    people = sum(g[0] for g in groups.values())
    total = sum(g[1] for g in groups.values())
    count = sum(g[2] for g in groups.values())
    average = total / count if count and people >= min_group else None
    frontline = managers = None
    fl, mg = groups.get("frontline", (0, 0, 0)), groups.get("managers", (0, 0, 0))
    if average is not None and fl[0] >= min_group and mg[0] >= min_group:
        frontline, managers = fl[1] / fl[2], mg[1] / mg[2]
    # everyone who answered was reached, even with no prompt recorded (feedback given ahead
    # of a round, by someone removed before it opened): a rate never passes 100%
    return SideFigures(side, max(recipients, people), people, average, frontline, managers)


def round_results(
    session: Session, round_ids: list[int], min_group: int, with_comments: bool = False
) -> dict[int, RoundResult]:
    """Suppressed figures for each round, from two grouped queries (plus comments), each at
    ``round_threshold``. Each respondent counts in one (side, role) group per round
    (``bot.pulse.answers._round_group``), so the groups' head counts add up to a side's."""
    if not round_ids:
        return {}
    groups = _answer_groups(session, round_ids)
    recipients = {
        (round_id, side): count
        for round_id, side, count in session.execute(
            select(PulseRecipient.round_id, PulseRecipient.side, func.count())
            .where(
                PulseRecipient.round_id.in_(round_ids),
                PulseRecipient.status != RecipientStatus.FAILED,
            )
            .group_by(PulseRecipient.round_id, PulseRecipient.side)
        )
    }
    rounds = {
        round_id: (closes_at, round_threshold(round_min_group, min_group))
        for round_id, closes_at, round_min_group in session.execute(
            select(PulseRound.id, PulseRound.closes_at, PulseRound.min_group).where(
                PulseRound.id.in_(round_ids)
            )
        )
    }
    results = {}
    for round_id in round_ids:
        closes_at, threshold = rounds[round_id]
        sides = {
            side: _suppressed(
                side,
                recipients.get((round_id, side), 0),
                groups.get((round_id, side), {}),
                threshold,
            )
            for side in Side
        }
        results[round_id] = RoundResult(round_id, closes_at, threshold, sides)
    if with_comments:
        for round_id in round_ids:
            results[round_id].comments.extend(_comments(session, round_id, results[round_id]))
    return results


def _answer_groups(
    session: Session, round_ids: list[int]
) -> dict[tuple[int, Side], dict[str, tuple[int, int, int]]]:
    """(people, score total, score count) per round and side, for "frontline" and "managers"."""
    groups: dict[tuple[int, Side], dict[str, tuple[int, int, int]]] = {}
    for round_id, side, role, people, total, count in session.execute(
        select(
            PulseAnswer.round_id,
            PulseAnswer.side,
            PulseAnswer.role,
            func.count(func.distinct(PulseAnswer.respondent)),
            func.sum(PulseAnswer.score),
            func.count(PulseAnswer.score),
        )
        .where(PulseAnswer.round_id.in_(round_ids))
        .group_by(PulseAnswer.round_id, PulseAnswer.side, PulseAnswer.role)
    ):
        bucket = groups.setdefault((round_id, side), {})
        name = "managers" if role in MANAGERS else "frontline"
        old = bucket.get(name, (0, 0, 0))
        bucket[name] = (old[0] + people, old[1] + int(total), old[2] + count)
    return groups


def round_threshold(round_min_group: int, setting: int) -> int:
    """The group size a round's figures need: never below 2, nor below the one it was
    answered under, nor below today's setting."""
    return max(2, round_min_group, setting)


def _comments(session: Session, round_id: int, result: RoundResult) -> list[tuple[Side, str]]:
    """Comments of sides that meet the threshold, shuffled, without names."""
    shown = [
        side for side, figures in result.sides.items() if figures.respondents >= result.min_group
    ]
    if not shown:
        return []
    rows = [
        (side, text)
        for side, text in session.execute(
            select(PulseComment.side, PulseComment.text).where(
                PulseComment.round_id == round_id, PulseComment.side.in_(shown)
            )
        )
    ]
    random.SystemRandom().shuffle(rows)
    return rows


def question_figures(session: Session, round_id: int, min_group: int) -> list[QuestionFigures]:
    """Per-question averages by side when the round asked more than one question."""
    pulse_round = session.get(PulseRound, round_id)
    assert pulse_round is not None
    asked = round_questions(pulse_round)
    if len(asked) < 2:
        return []
    threshold = round_threshold(pulse_round.min_group, min_group)
    groups = {
        (key, side): (people, int(total) / count)
        for key, side, people, total, count in session.execute(
            select(
                PulseAnswer.question_key,
                PulseAnswer.side,
                func.count(func.distinct(PulseAnswer.respondent)),
                func.sum(PulseAnswer.score),
                func.count(PulseAnswer.score),
            )
            .where(PulseAnswer.round_id == round_id)
            .group_by(PulseAnswer.question_key, PulseAnswer.side)
        )
    }
    shown = {
        side: all(groups.get((key, side), (0, 0.0))[0] >= threshold for key, _ in asked)
        for side in Side
    }
    return [
        QuestionFigures(
            text, {side: groups[(key, side)][1] if shown[side] else None for side in Side}
        )
        for key, text in asked
    ]


def closed_round_ids(
    session: Session, relationship_id: int, now: datetime, limit: int | None = TREND_ROUNDS
) -> list[int]:
    """The last ``limit`` closed rounds (None: all of them), oldest first."""
    statement = _CLOSED_ROUNDS if limit is None else _LAST_CLOSED_ROUNDS
    values = {"relationship_id": relationship_id, "now": now, "limit": limit}
    return list(reversed(columns(session, statement, values).scalars().all()))


# built once, as the statements of every /pulse results: see bot.relationships.domain
_CLOSED_ROUNDS = (
    select(PulseRound.id)
    .where(
        PulseRound.relationship_id == bindparam("relationship_id"),
        PulseRound.closes_at <= bindparam("now"),
    )
    .order_by(PulseRound.closes_at.desc(), PulseRound.id.desc())
)
_LAST_CLOSED_ROUNDS = _CLOSED_ROUNDS.limit(bindparam("limit"))


def results(
    session: Session, relationship: Relationship, is_owner: bool, now: datetime
) -> PulseResults:
    """``/pulse results``: latest closed round and the trend. Members get side-level figures
    only; owners also role breakdowns, comments and the open round's total count."""
    min_group, ids, open_round = _rounds_shown(session, relationship.id, now)
    by_id = round_results(session, ids, min_group, with_comments=False)
    trend = [by_id[i] for i in ids]
    latest = None
    if ids:
        latest = round_results(session, ids[-1:], min_group, with_comments=is_owner)[ids[-1]]
        latest.questions.extend(question_figures(session, ids[-1], min_group))
        trend[-1] = latest
    if not is_owner:
        trend = [_side_level(result) for result in trend]
        latest = trend[-1] if trend else None
    progress, unreachable = None, {}
    if is_owner:
        unreachable = _unreachable(session, ids[-1:] + ([open_round.id] if open_round else []))
        if open_round is not None:
            progress = open_round_progress(
                session, open_round.id, open_round.closes_at, unreachable.get(open_round.id, 0)
            )
    return PulseResults(
        relationship.name,
        latest.min_group if latest else round_threshold(2, min_group),
        latest,
        trend,
        progress,
        unreachable.get(ids[-1], 0) if ids else 0,
        (left, relationship.org_name(left))
        if (left := departed_side(session, relationship))
        else None,
    )


def _rounds_shown(
    session: Session, relationship_id: int, now: datetime
) -> tuple[int, list[int], Row[Any] | None]:
    """The anonymity threshold in force, the trend's closed rounds (oldest first) and the
    round taking answers now (its id and closing time) or None: one statement where
    ``settings_for``, ``closed_round_ids`` and ``current_round`` would take three."""
    values = {"relationship_id": relationship_id, "now": now, "limit": TREND_ROUNDS}
    rows = columns(session, _ROUNDS_SHOWN, values).all()
    shown = [row for row in rows if row.id is not None]  # none: a row of NULLs
    closed = [row.id for row in shown if not row.open]
    open_round = next((row for row in shown if row.open), None)
    min_group = rows[0].min_group
    return (DEFAULT_MIN_GROUP if min_group is None else min_group), closed[::-1], open_round


_OPEN_ROUND = CURRENT_ROUND.with_only_columns(
    PulseRound.id, PulseRound.closes_at, true().label("open")
)
# the newest closed rounds and the open round: each part keeps its own order and limit
# inside a subquery, as SQLite wants of a UNION's parts
_SHOWN = union_all(
    select(_LAST_CLOSED_ROUNDS.add_columns(PulseRound.closes_at, false().label("open")).subquery()),
    select(_OPEN_ROUND.subquery()),
).subquery("shown")
# the stored anonymity threshold (NULL: the relationship's settings are the defaults), from a
# one-row table joined to the settings, on each of those rounds, newest first (or on one row
# of NULLs when there are none)
_ROUNDS_SHOWN = (
    select(PulseSettings.min_group, *_SHOWN.c)
    .select_from(
        one_row_joined(PulseSettings, PulseSettings.relationship_id == bindparam("relationship_id"))
    )
    .outerjoin(_SHOWN, true())
    .order_by(_SHOWN.c.closes_at.desc(), _SHOWN.c.id.desc())
)


def open_round_progress(
    session: Session, round_id: int, closes_at: datetime, unreachable: int = 0
) -> OpenRoundProgress:
    """How many of those asked have answered a round still open: totals only, so nobody's
    side or role shows while answers come in."""
    respondents = session.scalar(
        select(func.count(func.distinct(PulseAnswer.respondent))).where(
            PulseAnswer.round_id == round_id
        )
    )
    recipients = session.scalar(
        select(func.count())
        .select_from(PulseRecipient)
        .where(
            PulseRecipient.round_id == round_id,
            PulseRecipient.status != RecipientStatus.FAILED,
        )
    )
    return OpenRoundProgress(
        closes_at,
        respondents or 0,
        max(recipients or 0, respondents or 0),
        unreachable,
    )


def _unreachable(session: Session, round_ids: list[int]) -> dict[int, int]:
    """Per round, how many members Slack refused the prompt to: a count, never who."""
    if not round_ids:
        return {}
    return {
        round_id: count
        for round_id, count in session.execute(
            select(PulseRecipient.round_id, func.count())
            .where(
                PulseRecipient.round_id.in_(round_ids),
                PulseRecipient.status == RecipientStatus.FAILED,
            )
            .group_by(PulseRecipient.round_id)
        )
    }


def _side_level(result: RoundResult) -> RoundResult:
    sides = {
        side: SideFigures(f.side, f.recipients, f.respondents, f.average, None, None)
        for side, f in result.sides.items()
    }
    return RoundResult(
        result.round_id, result.closes_at, result.min_group, sides, questions=result.questions
    )


# ------------------------------------------------------------------------------- alerts


@dataclass(frozen=True)
class PulseAlert:
    kind: str  # "drop", "gap" or "response"
    side: str  # "client", "provider" or "both"
    current: float
    previous: float | None = None  # drop: the previous round's average


def round_alerts(session: Session, relationship: Relationship, round_id: int) -> list[PulseAlert]:
    """Conditions worth an owner's attention when ``round_id`` closes. Only figures that
    pass the anonymity threshold can trigger an alert (alerts may go to a channel)."""
    settings = settings_for(session, relationship)
    this_round = session.get(PulseRound, round_id)
    assert this_round is not None
    previous_id = session.scalar(
        select(PulseRound.id)
        .where(
            PulseRound.relationship_id == relationship.id,
            PulseRound.closes_at < this_round.closes_at,
        )
        .order_by(PulseRound.closes_at.desc())
        .limit(1)
    )
    ids = [round_id] + ([previous_id] if previous_id else [])
    figures = round_results(session, ids, settings.min_group)
    current = figures[round_id]
    alerts = []
    if previous_id is not None:
        before = figures[previous_id]
        for side in Side:
            now_avg, then_avg = current.sides[side].average, before.sides[side].average
            if (
                now_avg is not None
                and then_avg is not None
                and then_avg - now_avg >= settings.drop_alert - 1e-9
            ):
                alerts.append(PulseAlert("drop", side.value, now_avg, then_avg))
    if current.gap is not None and abs(current.gap) >= settings.gap_alert - 1e-9:
        alerts.append(PulseAlert("gap", "both", current.gap))
    for side in Side:
        rate = current.sides[side].response_rate
        if rate is not None and rate < settings.response_alert:
            alerts.append(PulseAlert("response", side.value, rate))
    return alerts
