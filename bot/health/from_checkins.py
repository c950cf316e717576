"""The check-ins pillar: adherence over eight weeks and the lapses still open.

Adherence is ``/checkin history``'s figure (``bot.checkins.history.held_counts``), counted
up to ``LAPSE_GRACE`` ago: an occurrence still waiting for its "did it happen?" answer
never counts against the relationship. Lapses are those the lapse alerts look for
(``bot.checkins.schedule``): a check-in skipped or unconfirmed twice or more in a row, and
weeks without any check-in held.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.checkins.commands import checkins_of
from bot.checkins.history import HISTORY_WINDOW, held_counts
from bot.checkins.models import CheckIn, Outcome
from bot.checkins.occurrences import LAPSE_GRACE
from bot.checkins.schedule import LAPSE_IN_A_ROW, QUIET_WEEKS, quiet_since, unconfirmed_runs
from bot.health import formula
from bot.health.figures import Component, left_out

WEEK = timedelta(weeks=1)


def checkin_components(session: Session, relationship_id: int, now: datetime) -> list[Component]:
    checkins = checkins_of(session, relationship_id)
    if not checkins:
        return [left_out("adherence", "no_checkins"), left_out("lapses", "no_checkins")]
    settled = now - LAPSE_GRACE
    counts = held_counts(session, relationship_id, settled).values()
    scheduled, held = sum(s for s, _ in counts), sum(h for _, h in counts)
    if scheduled:
        score = formula.adherence_score(held, scheduled)
        detail = {"held": held, "scheduled": scheduled}
        adherence = Component("adherence", held / scheduled, score, detail=detail)
    else:
        adherence = left_out("adherence", "no_occurrences", weeks=HISTORY_WINDOW // WEEK)
    return [adherence, _lapses(session, relationship_id, checkins, now)]


def _lapses(
    session: Session, relationship_id: int, checkins: list[CheckIn], now: datetime
) -> Component:
    """Each check-in in a lapse, with how it lapsed; plus the weeks with none held."""
    runs = unconfirmed_runs(session, [checkin.id for checkin in checkins], now - LAPSE_GRACE)
    lapsed = [
        {"title": checkin.title, "count": len(run), "how": _how(run)}
        for checkin in checkins
        if len(run := runs[checkin.id]) >= LAPSE_IN_A_ROW
    ]
    since = quiet_since(session, relationship_id, now)
    quiet_weeks = (now - since) // WEEK if since is not None else 0
    quiet = quiet_weeks if quiet_weeks >= QUIET_WEEKS else None
    count = len(lapsed) + (quiet is not None)
    detail = {"checkins": lapsed, "quiet_weeks": quiet}
    return Component("lapses", count, formula.lapses_score(count), detail=detail)


def _how(run: list[tuple[int, Outcome | None]]) -> str:
    outcomes = {outcome for _, outcome in run}
    if outcomes == {Outcome.SKIPPED}:
        return "skipped"
    return "unconfirmed" if outcomes == {None} else "skipped or unconfirmed"
