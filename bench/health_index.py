"""How long the health index of one relationship takes with two years of history, and how
fast ``/rapport health`` is acknowledged.

One relationship, 80 people, 104 weeks ending now: a pulse round every two weeks (52 rounds,
about 60 answers each), three weekly check-ins (312 occurrences, some skipped or
unanswered, their follow-ups in the send ledger), two watched channels with 150 messages a
week each (31,200 drift signals, more than the 180 days drift keeps) and a stored snapshot
for every past week. A calibration loop (``bench/calibration.py``) is timed first in the
same process, and every figure is printed beside it as calibration loops, so a slower
machine shows as slower calibration rather than as slower code.

Measured in process: ``compute_health`` (the index alone; target < 50 ms) and the whole
reply (index, trend, changes, next step and its Block Kit), and the SQL statements it sends.
Then, with ``--ack``, a real ``rapport web`` on the same database answers signed
``/rapport health`` commands from ``--clients`` clients, each sending every ``--interval``
seconds: p50/p99 acknowledgement (target p99 < 100 ms; the ack checks membership, and
answers itself with figures worked out less than 5 s before), and p50/p99 until the person
sees the other replies, which come after the ack through the command's response URL (the
time each command was sent travels in its response URL, so the fake Slack's clock on the
same machine gives the delay), and the server's CPU per command.

    python bench/health_index.py [--database-url postgresql+psycopg://…] [--ack]
                                 [--clients 10] [--interval 0.25] [--seconds 10]

Without ``--database-url`` it measures SQLite (a temporary file); a PostgreSQL database has
its ``public`` schema dropped and recreated, so point it at a scratch one.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from harness import ResponseUrls, load, percentile, report, start_rapport
from sqlalchemy import insert, text

from bench.calibration import calibration_rate
from bot.checkins.models import CheckIn, Occurrence, Outcome
from bot.core.cadence import parse_cadence
from bot.core.db import Database
from bot.drift.models import DriftSignal
from bot.health import snapshots
from bot.health.blocks import health_blocks
from bot.health.index import compute_health
from bot.health.models import HealthSnapshot
from bot.health.report import health_report
from bot.pulse.models import PulseAnswer, PulseRecipient, PulseRound
from bot.relationships import domain as rel
from bot.relationships.models import Role, Side
from bot.relationships.setup import RelationshipDraft, create_relationship
from bot.services import DATABASE_DOWN, SORRY
from bot.slack import message_keys
from bot.slack.models import SendStatus, SentMessage
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.fresh_db import fresh_database
from tests.support.queries import queries_during

WEEKS = 104
PER_SIDE = 40  # one owner, four managers, the rest front-line
CHANNELS = ("CACME1", "CACME2")
MESSAGES_PER_WEEK = 150  # per channel
REPEATS = 30
TARGET_MS = 50
ACK_TARGET_MS = 100


def _people() -> list[tuple[str, Side, Role]]:
    return [
        (f"U{side.value[0].upper()}{n:03d}", side, Role.OWNER if n == 0 else
         Role.MANAGER if n < 5 else Role.FRONTLINE)
        for side in Side
        for n in range(PER_SIDE)
    ]  # fmt: skip


def seed(db: Database, now: datetime) -> int:
    """The relationship and its two years; returns its id."""
    start = now - timedelta(weeks=WEEKS)
    people = _people()
    draft = RelationshipDraft(
        name="Acme ⇄ Stellar",
        client_org="Acme",
        provider_org="Stellar",
        creator_side=Side.CLIENT,
        client_members=tuple(user for user, side, _ in people[1:PER_SIDE]),
        provider_owners=(people[PER_SIDE][0],),
        provider_members=tuple(user for user, _, _ in people[PER_SIDE + 1 :]),
        watched_channels=CHANNELS,
    )
    with db.transaction() as session:
        relationship_id = create_relationship(session, TEAM_ID, people[0][0], draft, start).id
    rng = random.Random(13)
    with db.transaction() as session:
        _seed_pulse(session, relationship_id, people, start, rng)
    with db.transaction() as session:
        _seed_checkins(session, relationship_id, people[0][0], start, rng)
    with db.transaction() as session:
        _seed_drift(session, relationship_id, start, rng)
    with db.transaction() as session:
        _seed_snapshots(session, relationship_id, now, rng)
    return relationship_id


def _seed_pulse(session, relationship_id, people, start, rng) -> None:
    for week in range(0, WEEKS, 2):
        opens = start + timedelta(weeks=week, hours=10)
        pulse_round = PulseRound(
            team_id=TEAM_ID, relationship_id=relationship_id, day=opens.date(),
            prompt_at=opens.time(), opens_at=opens, closes_at=opens + timedelta(days=3),
            questions='[[0, "How well is the partnership working for you this week?"]]',
            secret="", reminder_before_hours=24, min_group=3, alerts_done=True,
            created_at=opens,
        )  # fmt: skip
        session.add(pulse_round)
        session.flush()
        rows = [
            {"team_id": TEAM_ID, "round_id": pulse_round.id, "user_id": user, "side": side,
             "role": role, "status": "sent", "reminded": True}
            for user, side, role in people
        ]  # fmt: skip
        session.execute(insert(PulseRecipient), rows)
        answers = [
            {"team_id": TEAM_ID, "round_id": pulse_round.id, "question_key": 0,
             "respondent": secrets.token_hex(32), "side": side, "role": role,
             "score": rng.randint(2, 5)}
            for _, side, role in people
            if rng.random() < 0.75
        ]  # fmt: skip
        session.execute(insert(PulseAnswer), answers)


def _seed_checkins(session, relationship_id, owner, start, rng) -> None:
    outcomes = [Outcome.HELD] * 6 + [Outcome.SKIPPED, None]
    for number, day in enumerate(("tue", "wed", "thu")):
        checkin = CheckIn(
            team_id=TEAM_ID, relationship_id=relationship_id, title=f"Sync {number + 1}",
            title_key=f"sync {number + 1}", cadence=parse_cadence(f"weekly {day} 10:00").to_spec(),
            tz="UTC", duration_minutes=30, reminder_offsets="1440,15", channel_id=None,
            anchor=start.date(), created_by=owner, created_at=start,
        )  # fmt: skip
        session.add(checkin)
        session.flush()
        for week in range(WEEKS):
            starts = start + timedelta(weeks=week, days=number + 1, hours=10)
            occurrence = Occurrence(
                team_id=TEAM_ID, relationship_id=relationship_id, checkin_id=checkin.id,
                starts_at=starts, ends_at=starts + timedelta(minutes=30),
                outcome=rng.choice(outcomes),
            )  # fmt: skip
            session.add(occurrence)
            session.flush()
            session.add(
                SentMessage(
                    team_id=TEAM_ID, key=message_keys.checkin_follow_up(occurrence.id),
                    channel=owner, status=SendStatus.SENT, attempts=1,
                    claimed_at=occurrence.ends_at, sent_at=occurrence.ends_at,
                )
            )  # fmt: skip


def _seed_drift(session, relationship_id, start, rng) -> None:
    sides = (Side.CLIENT.value, Side.PROVIDER.value)
    for channel in CHANNELS:
        rows = []
        for n in range(WEEKS * MESSAGES_PER_WEEK):
            posted = start + timedelta(seconds=n * 7 * 86400 / MESSAGES_PER_WEEK)
            score = rng.random() ** 3  # mostly friendly, some formal
            rows.append(
                {"team_id": TEAM_ID, "relationship_id": relationship_id, "channel_id": channel,
                 "message_ts": f"{posted.timestamp():.6f}", "thread_ts": None,
                 "author_id": f"U{n % 9}", "side": sides[n % 2], "score": score,
                 "cue_kinds": "", "posted_at": posted,
                 "replied_at": posted + timedelta(minutes=5) if n % 5 else None,
                 "excerpt": None}
            )  # fmt: skip
        session.execute(insert(DriftSignal), rows)


def _seed_snapshots(session, relationship_id, now, rng) -> None:
    """A snapshot for every past week, from today's components with varying indexes."""
    relationship = rel.get_relationship(session, TEAM_ID, relationship_id)
    components = compute_health(session, relationship, now).to_json()
    this_week = snapshots.week_start(now)
    rows = [
        {"team_id": TEAM_ID, "relationship_id": relationship_id,
         "week_start": this_week - timedelta(weeks=weeks_ago),
         "index_value": rng.uniform(40, 90), "band": "healthy", "components": components,
         "computed_at": now - timedelta(weeks=weeks_ago)}
        for weeks_ago in range(1, WEEKS)
    ]  # fmt: skip
    session.execute(insert(HealthSnapshot), rows)


def _timed(run, repeats: int = REPEATS) -> list[float]:
    timings = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        timings.append((time.perf_counter() - began) * 1000)
    return sorted(timings)


def _line(title: str, timings: list[float], rate: float, target: float | None) -> str:
    median, p90 = statistics.median(timings), timings[int(len(timings) * 0.9)]
    verdict = (
        ""
        if target is None
        else f", target {target:.0f} ms: " + ("met" if median < target else "NOT met")
    )
    return (
        f"  {title}: median {median:.1f} ms ({median / 1000 * rate:,.0f} calibration loops), "
        f"p90 {p90:.1f} ms, max {timings[-1]:.1f} ms{verdict}"
    )


def measure(db: Database, relationship_id: int, rate: float) -> None:
    now = datetime.now(UTC)
    with db.read() as session:
        relationship = rel.get_relationship(session, TEAM_ID, relationship_id)
        index = compute_health(session, relationship, now)
        uncounted = {key for key, component in index.components.items() if not component.counted}
        assert index.value is not None and uncounted == {"intros_met"}  # intros aren't seeded
        print(f"  index {index.value:.0f} ({index.band}), every component counted but intros")
        computing = _timed(lambda: compute_health(session, relationship, now))
        print(_line("compute_health", computing, rate, TARGET_MS))
        owner = relationship.created_by

        def whole_reply() -> None:
            health_blocks(health_report(session, relationship, owner, now))

        print(_line("whole /rapport health reply", _timed(whole_reply), rate, None))
        print(f"  SQL statements per reply: {queries_during(db, whole_reply)}")


def health_command(urls: ResponseUrls, client_no: int, n: int) -> tuple[str, str]:
    """A signed ``/rapport health`` from an owner or a member, alternately."""
    form = {
        "team_id": TEAM_ID,
        "user_id": "UC000" if n % 2 else f"UP{client_no % PER_SIDE:03d}",
        "channel_id": "CGENERAL",
        "command": "/rapport",
        "text": "health",
        "response_url": urls.response_url(f"sent-{time.monotonic():.6f}"),
        "trigger_id": f"health-{client_no}-{n}",
    }
    return urlencode(form), "application/x-www-form-urlencoded"


def measure_ack(database_url: str, workdir: str, args: argparse.Namespace, rate: float) -> None:
    fake = FakeSlack().start()
    server = start_rapport("web", fake, database_url, workdir)
    try:
        cpu = server.cpu_seconds()
        result = load(
            server.url,
            fake.api_url,
            health_command,
            clients=args.clients,
            processes=1,
            seconds=args.seconds,
            interval=args.interval,
        )
        title = (
            f"/rapport health acks, {args.clients} clients each every "
            f"{args.interval * 1000:.0f} ms (rapport web)"
        )
        report(title, result, ACK_TARGET_MS)
        delays, apologies = reply_delays(fake)
        print(
            f"  reply seen (response URL post) p50 {percentile(delays, 50) * 1000:.1f} ms, "
            f"p99 {percentile(delays, 99) * 1000:.1f} ms, max {max(delays) * 1000:.1f} ms; "
            f"{len(delays)} replies, {apologies} of them apologies; "
            f"{len(result.latencies) - len(delays)} answered in the ack"
        )
        per_request = (server.cpu_seconds() - cpu) / len(result.latencies) * 1000
        print(
            f"  server CPU: {per_request:.1f} ms per request ({per_request / 1000 * rate:,.0f} "
            "calibration loops), the reply, its chart and the snapshot after each ack included"
        )
    finally:
        server.stop()
        fake.stop()


def reply_delays(fake: FakeSlack, timeout: float = 30.0) -> tuple[list[float], int]:
    """Seconds from sending each command to its reply reaching the fake Slack through its
    response URL, once replies have stopped coming for a second (or ``timeout`` has
    passed); and how many replies were apologies. The other commands were answered in
    their ack, from figures shown moments before (``bot.health.recently_shown``)."""
    deadline = time.monotonic() + timeout
    seen = -1
    while len(replies := fake.done("response_url")) != seen and time.monotonic() < deadline:
        seen = len(replies)
        time.sleep(1.0)
    delays = [call.at - float(call.path.rsplit("/", 1)[1].split("-")[1]) for call in replies]
    apologies = sum(call.args.get("text") in (SORRY, DATABASE_DOWN) for call in replies)
    return delays, apologies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (else SQLite)")
    parser.add_argument("--ack", action="store_true", help="also measure /rapport health acks")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    rate = calibration_rate()
    print(f"calibration: {rate:,.0f} loops per CPU second on this machine")
    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as workdir:
        url = args.database_url or f"sqlite:///{workdir}/bench.db"
        db = fresh_database(url)
        began = time.perf_counter()
        relationship_id = seed(db, datetime.now(UTC))
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        print(
            f"{db.engine.dialect.name}: {WEEKS} weeks seeded in {time.perf_counter() - began:.1f} s"
        )
        measure(db, relationship_id, rate)
        db.engine.dispose()
        if args.ack:
            measure_ack(url, workdir, args, rate)


if __name__ == "__main__":
    main()
