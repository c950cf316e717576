"""How long one ``/pulse results`` computation takes for a relationship with 200 closed
rounds and 100,000 answers (500 people on two sides), aggregated in SQL.

Run from the repository root:  python bench/pulse_results.py [DATABASE_URL ...]

Without arguments it measures SQLite (a temporary file). Give PostgreSQL URLs to measure
them too; the bench drops and recreates the ``public`` schema of each, so point it at a
scratch database. Target: under 50 ms per computation.
"""

from __future__ import annotations

import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text

from bot.relationships import domain as rel
from bot.relationships.members import add_members
from bot.relationships.setup import create_relationship, RelationshipDraft
from bot.core.db import Database
from tests.support.fresh_db import fresh_database
from bot.relationships.models import Role, Side
from bot.pulse.models import PulseAnswer, PulseRecipient, PulseRound
from bot.pulse.results import results

ROUNDS = 200
PEOPLE_PER_SIDE = 250
MANAGERS_PER_SIDE = 25
REPEATS = 30
TARGET_MS = 50
START = datetime(2020, 1, 7, 10, 0, tzinfo=UTC)


def _people() -> list[tuple[str, Side, Role]]:
    people = []
    for side in Side:
        for n in range(PEOPLE_PER_SIDE):
            role = (
                Role.OWNER if n == 0 else Role.MANAGER if n < MANAGERS_PER_SIDE else Role.FRONTLINE
            )
            people.append((f"U{side.value[0].upper()}{n:05d}", side, role))
    return people


def seed(db: Database) -> int:
    people = _people()
    now = START - timedelta(days=1)
    draft = RelationshipDraft(
        name="Bench",
        client_org="Client",
        provider_org="Provider",
        creator_side=Side.CLIENT,
        provider_owners=(people[PEOPLE_PER_SIDE][0],),
    )
    with db.transaction() as session:
        relationship = create_relationship(session, "TBENCH", people[0][0], draft, now)
        relationship_id = relationship.id
        add_members(
            session,
            relationship,
            people[0][0],
            [p for p, s, r in people[1:PEOPLE_PER_SIDE]],
            Side.CLIENT,
            Role.FRONTLINE,
            now,
        )
    rng = secrets.SystemRandom()
    for index in range(ROUNDS):
        opens = START + timedelta(weeks=2 * index)
        with db.transaction() as session:
            pulse_round = PulseRound(
                team_id="TBENCH",
                relationship_id=relationship_id,
                day=opens.date(),
                prompt_at=opens.time(),
                opens_at=opens,
                closes_at=opens + timedelta(days=3),
                questions='[[0, "How well is the partnership working for you this week?"]]',
                secret=secrets.token_hex(32),
                reminder_before_hours=24,
                alerts_done=True,
                created_at=opens,
            )
            session.add(pulse_round)
            session.flush()
            session.execute(
                insert(PulseRecipient),
                [
                    {
                        "team_id": "TBENCH",
                        "round_id": pulse_round.id,
                        "user_id": user,
                        "side": side,
                        "role": role,
                        "status": "sent",
                        "reminded": False,
                    }
                    for user, side, role in people
                ],
            )
            session.execute(
                insert(PulseAnswer),
                [
                    {
                        "team_id": "TBENCH",
                        "round_id": pulse_round.id,
                        "question_key": 0,
                        "respondent": secrets.token_hex(32),
                        "side": side,
                        "role": role,
                        "score": rng.randint(1, 5),
                    }
                    for _, side, role in people
                ],
            )
    return relationship_id


def measure(url: str) -> None:
    db = fresh_database(url)
    engine = db.engine
    started = time.perf_counter()
    relationship_id = seed(db)
    seeded = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    now = START + timedelta(weeks=2 * ROUNDS)
    timings = []
    for is_owner in (False, True) * (REPEATS // 2):
        with db.transaction() as session:
            relationship = rel.get_relationship(session, "TBENCH", relationship_id)
            began = time.perf_counter()
            found = results(session, relationship, is_owner, now)
            timings.append((time.perf_counter() - began) * 1000)
    assert found.latest is not None and len(found.trend) == 8
    with db.transaction() as session:
        answers = session.scalar(text("SELECT count(*) FROM pulse_answers"))
    timings.sort()
    p90 = timings[int(len(timings) * 0.9)]
    print(
        f"{engine.dialect.name:10s} rounds={ROUNDS} answers={answers:,} (seeded in {seeded:.1f}s): "
        f"median {statistics.median(timings):.1f} ms, p90 {p90:.1f} ms, "
        f"max {timings[-1]:.1f} ms per /pulse results "
        f"({'OK' if statistics.median(timings) < TARGET_MS else 'over'} target {TARGET_MS} ms)"
    )
    engine.dispose()


def main(urls: list[str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        measure(f"sqlite:///{scratch}/bench.db")
        for url in urls:
            measure(url)


if __name__ == "__main__":
    main(sys.argv[1:])
