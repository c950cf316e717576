"""The check-in scheduler's "what is due now" step at scale, and its memory over many ticks.

Run from the repository root:

    python bench/checkin_due.py                          # SQLite in a temporary file
    python bench/checkin_due.py postgresql+psycopg://…   # an empty PostgreSQL database

Builds 10,000 check-ins across 500 relationships (each with its planned occurrence and
five pending tasks: two reminders, the follow-up, the lapse check and the advance step,
i.e. 50,000 ``checkin_tasks`` rows), then runs 2,000 ticks one minute apart, timing
``due_task_ids`` (an index range scan on ``next_due_at`` with a LIMIT) and tracing
memory with tracemalloc. Figures only: nothing here is asserted by the tests.
"""

from __future__ import annotations

import gc
from array import array
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, insert, text

from bot.checkins.models import CheckIn, CheckInTask, Occurrence, TaskKind
from bot.checkins.schedule import due_task_ids
from bot.core.db import Database
from tests.support.fresh_db import fresh_database
from bot.relationships.models import Relationship

RELATIONSHIPS = 500
CHECKINS = 10_000
TICKS = int(os.environ.get("CHECKIN_BENCH_TICKS", "2000"))
TARGET_MS = 100.0
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def populate(db: Database) -> None:
    rng = random.Random(4)
    with db.transaction() as session:
        session.execute(
            insert(Relationship),
            [
                {
                    "team_id": "T0BENCH",
                    "name": f"Client {i} ⇄ Provider",
                    "name_key": f"client {i} ⇄ provider",
                    "client_org": f"Client {i}",
                    "provider_org": "Provider",
                    "created_by": "UBENCH",
                    "created_at": START,
                }
                for i in range(RELATIONSHIPS)
            ],
        )
        relationship_ids = list(session.scalars(text("SELECT id FROM relationships")))
        session.execute(
            insert(CheckIn),
            [
                {
                    "team_id": "T0BENCH",
                    "relationship_id": relationship_ids[i % RELATIONSHIPS],
                    "title": f"Check-in {i}",
                    "title_key": f"check-in {i}",
                    "cadence": "weekly tue 10:00",
                    "tz": "Europe/London",
                    "duration_minutes": 30,
                    "reminder_offsets": "1440,15",
                    "anchor": date(2026, 3, 2),
                    "created_by": "UBENCH",
                    "created_at": START,
                }
                for i in range(CHECKINS)
            ],
        )
        checkins = list(session.execute(text("SELECT id, relationship_id FROM checkins")))
        starts = [START + timedelta(minutes=rng.randrange(0, 4 * 7 * 24 * 60)) for _ in checkins]
        session.execute(
            insert(Occurrence),
            [
                {
                    "team_id": "T0BENCH",
                    "relationship_id": relationship_id,
                    "checkin_id": checkin_id,
                    "starts_at": start,
                    "ends_at": start + timedelta(minutes=30),
                }
                for (checkin_id, relationship_id), start in zip(checkins, starts, strict=True)
            ],
        )
        occurrences = list(session.execute(text("SELECT id, checkin_id FROM checkin_occurrences")))
        start_of = {
            checkin_id: start for (checkin_id, _), start in zip(checkins, starts, strict=True)
        }
        rows = []
        for occurrence_id, checkin_id in occurrences:
            start = start_of[checkin_id]
            for kind, offset, due in (
                (TaskKind.ADVANCE, 0, start),
                (TaskKind.REMINDER, 1440, start - timedelta(days=1)),
                (TaskKind.REMINDER, 15, start - timedelta(minutes=15)),
                (TaskKind.FOLLOW_UP, 0, start + timedelta(minutes=30)),
                (TaskKind.LAPSE_CHECK, 0, start + timedelta(days=1, minutes=30)),
            ):
                rows.append(
                    {
                        "team_id": "T0BENCH",
                        "checkin_id": checkin_id,
                        "occurrence_id": occurrence_id,
                        "kind": kind,
                        "offset_minutes": offset,
                        "next_due_at": due,
                    }
                )
        session.execute(insert(CheckInTask), rows)


def run_ticks(db: Database) -> tuple[array, list[int]]:
    """Time the due step per tick; done tasks are deleted as the real tick does."""
    timings = array("d", bytes(8 * TICKS))  # preallocated: the figures don't count as growth
    memory: list[int] = []
    now = START
    tracemalloc.start()
    for number in range(TICKS):
        started = time.perf_counter()
        with db.transaction() as session:
            due = due_task_ids(session, now)
        timings[number] = (time.perf_counter() - started) * 1000
        if due:  # the tick then does the work and deletes the tasks; not measured here
            with db.transaction() as session:
                session.execute(delete(CheckInTask).where(CheckInTask.next_due_at <= now))
        now += timedelta(minutes=1)
        if number % 200 == 0:
            gc.collect()
            memory.append(tracemalloc.get_traced_memory()[0])
    tracemalloc.stop()
    return timings, memory


def main() -> None:
    default = f"sqlite:///{tempfile.mkdtemp()}/checkin_bench.db"
    url = sys.argv[1] if len(sys.argv) > 1 else default
    db = fresh_database(url)
    engine = db.engine
    started = time.perf_counter()
    populate(db)
    print(
        f"{engine.dialect.name}: {CHECKINS:,} check-ins, {RELATIONSHIPS} relationships, "
        f"{CHECKINS * 5:,} pending tasks (set-up {time.perf_counter() - started:.1f} s)"
    )
    backlog = []
    for _ in range(20):  # after two weeks down: about 25,000 tasks overdue at once
        started = time.perf_counter()
        with db.transaction() as session:
            due_task_ids(session, START + timedelta(days=14))
        backlog.append((time.perf_counter() - started) * 1000)
    print(
        f"due step with a two-week backlog (LIMIT 200): median {statistics.median(backlog):.2f} ms"
    )
    timings, memory = run_ticks(db)
    ordered = sorted(timings)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    print(
        f"due step over {TICKS:,} ticks: p50 {statistics.median(timings):.2f} ms, "
        f"p99 {p99:.2f} ms, max {max(timings):.2f} ms "
        f"({'within' if p99 < TARGET_MS else 'OVER'} the {TARGET_MS:.0f} ms target)"
    )
    print(
        "traced memory every 200 ticks (KiB): "
        + ", ".join(f"{value / 1024:.0f}" for value in memory)
    )
    engine.dispose()


if __name__ == "__main__":
    main()
