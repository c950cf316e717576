"""What one short read costs at each layer under a slash command: the database driver, the direct
reads of a read session, SQLAlchemy Core, the ORM, and ``rel.resolve`` as commands run it.

The read is the one nearly every command that names a relationship starts with: which
relationship a command typed in a channel means, and the person's role in it
(``rel.resolve``), against the relationship of ``bench/ack_latency.py`` (80 members). CPU
a call, from one thread, each beside the calibration loop run in this process, median of
five rounds:

- *the driver alone*: the same SQL, compiled once by SQLAlchemy, run on one DBAPI
  connection (sqlite3 or psycopg) in autocommit, as a read session's direct reads run it;
- *a direct read*: a ``Database.read`` session and the statement read as columns
  (``bot.core.db.columns``), which sends it straight to the driver
  (``bot.core.direct_reads``): a pooled connection checked out and in, the SQL compiled
  once, the row through its types' processors;
- *SQLAlchemy Core*: the same in the session's own connection, as Core executes it: the
  statement's cache key worked out and looked up in the compiled cache, an execution
  context, events, its result read;
- *the ORM*: the statement as ``rel.resolve`` builds it, the ``Relationship`` loaded by
  the ORM;
- *``rel.resolve``*: as commands run it, a direct read, the entity then made from the row,
  detached (``bot.core.db.entity_rows``).

The gap between the first two is what a read session's own work costs; between the second
and third, what Core costs a statement, whatever the statement.

    python bench/statement_cost.py [--calls 3000] [--database-url postgresql+psycopg://…]

SQLite by default (a temporary file); ``--database-url`` names an empty database instead
(PostgreSQL, as in production; the server's own CPU is not counted).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from ack_latency import prepare_database
from calibration import calibration_rate
from sqlalchemy.engine import make_url

from bot.core.db import Database, columns, create_db_engine
from bot.relationships import domain as rel
from bot.relationships.models import Relationship
from tests.support.fake_slack import TEAM_ID

ROUNDS = 5
PERSON = {"team_id": TEAM_ID, "user_id": "UALICE", "channel_id": "CSHARED"}
# the statement resolve runs for a command typed in a channel, as columns
STATEMENT = rel._THEIRS_IN_CHANNEL.with_only_columns(
    *Relationship.__table__.columns, *rel._THEIRS_IN_CHANNEL.selected_columns[-1:]
)


def driver_alone(db: Database) -> tuple[Callable[[], Any], Callable[[], None]]:
    """The read on a bare DBAPI connection, and how to close that connection."""
    compiled = STATEMENT.compile(dialect=db.engine.dialect)
    values = compiled.construct_params(PERSON)
    if compiled.positiontup:  # SQLite's ? placeholders
        values = [values[name] for name in compiled.positiontup]
    pooled = db.engine.raw_connection()
    connection = pooled.driver_connection
    pooled.detach()  # out of the pool for good: nothing else is handed this connection
    sql = str(compiled)
    if db.engine.dialect.name == "postgresql":
        connection.autocommit = True  # SQLite's is: see bot.core.db's connect listener

    def read() -> Any:
        return connection.execute(sql, values).fetchall()

    return read, connection.close


def direct(db: Database) -> Any:
    with db.read() as session:
        return columns(session, STATEMENT, PERSON).all()


def core(db: Database) -> Any:
    with db.read() as session:
        return session.connection().execute(STATEMENT, PERSON).all()


def orm(db: Database) -> Any:
    with db.read() as session:
        return session.execute(rel._THEIRS_IN_CHANNEL, PERSON).all()


def resolve(db: Database) -> Any:
    with db.read() as session:
        return rel.resolve(session, TEAM_ID, "UALICE", "CSHARED", None)


def cpu_per_call(read: Callable[[], Any], calls: int) -> float:
    """Median over ``ROUNDS`` of the CPU seconds one call takes."""
    rounds = []
    for _ in range(ROUNDS):
        for _ in range(calls // 10):  # warm: pooled connection, caches, prepared statement
            read()
        started = time.process_time()
        for _ in range(calls):
            read()
        rounds.append((time.process_time() - started) / calls)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000, help="per round")
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    args = parser.parse_args()
    rate = calibration_rate()
    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as workdir:
        url = args.database_url or f"sqlite:///{workdir}/bench.db"
        prepare_database(url)
        db = Database(create_db_engine(url))
        raw, close_raw = driver_alone(db)
        try:
            # the same row each way
            assert raw()[0][0] == direct(db)[0][0] == core(db)[0][0] == orm(db)[0][0].id
            assert resolve(db)[0].id == raw()[0][0]
            print(f"calibration: {rate:,.0f} loops per CPU second")
            print(
                f"{make_url(url).get_backend_name()}: the read that finds a command's "
                "relationship, CPU a call (median of 5 rounds)"
            )
            ways = (
                ("the driver alone", raw),
                ("a direct read in a read session", lambda: direct(db)),
                ("SQLAlchemy Core in a read session", lambda: core(db)),
                ("the ORM in a read session", lambda: orm(db)),
                ("rel.resolve (a direct read, then the entity)", lambda: resolve(db)),
            )
            baseline = None
            for title, read in ways:
                seconds = cpu_per_call(read, args.calls)
                baseline = baseline or seconds
                print(
                    f"- {title}: {seconds * 1e6:,.0f} µs ({seconds * rate:.1f} calibration "
                    f"loops, {seconds / baseline:.1f}× the driver's)"
                )
        finally:
            close_raw()
            db.engine.dispose()


if __name__ == "__main__":
    main()
