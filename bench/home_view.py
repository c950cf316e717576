"""How long an owner's App Home takes to build, and what the Home refresh job's check costs.

The relationship of ``bench/health_index.py`` (80 people, two years of pulse rounds,
check-ins, drift signals and weekly snapshots), with every member having opened Home.
Measured in process, beside the calibration loop (``bench/calibration.py``): the owner's
Home read in one read-only session and drawn as Block Kit (all but the chart upload, which
``bench/chart_render.py`` measures), and ``out_of_date``, the SQL check the refresh job
runs every 10 seconds over every Home that was opened.

    python bench/home_view.py [--database-url postgresql+psycopg://…]

Without ``--database-url`` it measures SQLite (a temporary file); a PostgreSQL database has
its ``public`` schema dropped and recreated, so point it at a scratch one.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime

from health_index import _line, _timed, seed
from sqlalchemy import select, text

from bench.calibration import calibration_rate
from bot.home import published
from bot.home.blocks import home_view
from bot.home.dashboard import home
from bot.relationships.models import Member, Relationship
from tests.support.fake_slack import TEAM_ID
from tests.support.fresh_db import fresh_database

TARGET_MS = 100  # the owner's Home, before any upload


def measure(database_url: str, rate: float) -> None:
    db = fresh_database(database_url)
    now = datetime.now(UTC)
    relationship_id = seed(db, now)
    with db.transaction() as session:
        people = session.scalars(
            select(Member.user_id).where(Member.relationship_id == relationship_id)
        ).all()
        for user_id in people:
            published.opened(session, TEAM_ID, user_id, "", now)
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    with db.read() as session:
        owner = session.get_one(Relationship, relationship_id).created_by
    with db.read() as session:
        print(f"{db.engine.dialect.name}: {len(people)} Homes opened")
        found = home(session, TEAM_ID, owner, now)
        index = found.cards[0].report.index
        view = home_view(found, {})
        print(f"  the owner's Home: index {index.value:.0f}, {len(view['blocks'])} blocks")
        building = _timed(lambda: home_view(home(session, TEAM_ID, owner, now), {}))
        print(_line("owner's Home read and drawn", building, rate, TARGET_MS))
        checking = _timed(lambda: published.out_of_date(session, now))
        print(_line(f"refresh check over {len(people)} Homes", checking, rate, None))
    db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (else SQLite)")
    args = parser.parse_args()
    rate = calibration_rate()
    print(f"calibration: {rate:,.0f} loops per CPU second on this machine")
    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as workdir:
        measure(args.database_url or f"sqlite:///{workdir}/bench.db", rate)


if __name__ == "__main__":
    main()
