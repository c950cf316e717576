"""The intros component: how many groups met in the last finished round, as owners see it
in ``/rapport intros`` (``bot.intros.figures``). Left out while intros are off or before a
round has finished; never who met whom."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.health import formula
from bot.health.figures import Component, left_out
from bot.intros.figures import latest_met_rate
from bot.intros.models import IntroSettings
from bot.relationships.models import Relationship


def intro_components(
    session: Session, relationship: Relationship, now: datetime
) -> list[Component]:
    settings = session.get(IntroSettings, relationship.id)
    if settings is None or not settings.enabled:
        return [left_out("intros_met", "intros_off")]
    latest = latest_met_rate(session, relationship.id, now)
    if latest is None or latest.met_rate is None:
        return [left_out("intros_met", "no_intro_round")]
    detail = {"met": latest.met, "groups": latest.groups}
    return [
        Component(
            "intros_met", latest.met_rate, formula.met_rate_score(latest.met_rate), detail=detail
        )
    ]
