"""The record of published Homes: who opened Home, and the stamp of what they were shown.

Only people who opened Home get it published again (``out_of_date``). Republishing is
claimed first (``claim``: the stamp swapped only if nobody swapped it since), so of two
processes refreshing at once one publishes, and a burst of changes between two runs of the
refresh job makes one publish per person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.core.db import upsert_insert
from bot.home.models import HomeView
from bot.home.stamps import person_stamps

UNPUBLISHED = ""  # a stamp no Home has: published again on the next run


@dataclass(frozen=True)
class StaleHome:
    team_id: str
    user_id: str
    stamp: str  # what was published; swapped by ``claim``


def opened(session: Session, team_id: str, user_id: str, stamp: str, now: datetime) -> None:
    """``user_id`` was just shown the Home stamped ``stamp``."""
    insert = upsert_insert(session.get_bind().dialect.name)
    statement = insert(HomeView).values(
        team_id=team_id, user_id=user_id, stamp=stamp, opened_at=now, published_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["team_id", "user_id"],
            set_={"stamp": stamp, "opened_at": now, "published_at": now},
        )
    )


def out_of_date(session: Session, now: datetime) -> list[StaleHome]:
    """The Homes whose stamp no longer matches what they would show now."""
    homes = session.execute(select(HomeView.team_id, HomeView.user_id, HomeView.stamp)).all()
    current = person_stamps(session, [(home.team_id, home.user_id) for home in homes], now)
    return [
        StaleHome(home.team_id, home.user_id, home.stamp)
        for home in homes
        if current[(home.team_id, home.user_id)] != home.stamp
    ]


def claim(session: Session, home: StaleHome, stamp: str, now: datetime) -> bool:
    """Swap ``home``'s stamp for ``stamp``; False when another process got there first."""
    swapped = session.execute(
        update(HomeView)
        .where(
            HomeView.team_id == home.team_id,
            HomeView.user_id == home.user_id,
            HomeView.stamp == home.stamp,
        )
        .values(stamp=stamp, published_at=now)
    )
    return swapped.rowcount == 1


def forget_stamp(session: Session, team_id: str, user_id: str, stamp: str) -> None:
    """Publishing ``stamp`` failed: try again on the next run."""
    session.execute(
        update(HomeView)
        .where(HomeView.team_id == team_id, HomeView.user_id == user_id, HomeView.stamp == stamp)
        .values(stamp=UNPUBLISHED)
    )
