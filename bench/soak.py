"""Soak: mixed traffic against two ``rapport web`` and a ``rapport scheduler`` on PostgreSQL,
with the fake Slack failing a share of all Web API calls at random.

Signed slash commands (``/rapport show``, ``/pulse results``, ``/checkin list``, ``/pulse``),
button clicks (pulse answers, check-in RSVPs) and message events in a watched channel go
round-robin to the two web processes, as behind a load balancer, at ``--rate`` requests/s.
Meanwhile the scheduler sends: the traffic relationship's pulse round, and every minute a
new batch of due work (``tests.support.due_work``: prompts, reminders, alerts, check-in reminders).
Chaos (``--chaos`` of all Web API calls: 429 + Retry-After 1 s, 500, 503, or an answer
slower than ``SLACK_TIMEOUT_SECONDS``) is on for the whole run. Afterwards the scheduler
gets up to ``--drain`` seconds to retry what Slack refused, then the figures:

* requests sent; unexpected errors: non-200, or 200 with an apology ("something went
  wrong", "try again in a moment") where a real answer was due (target 0);
* p50/p99 acknowledgement latency (target p99 < 200 ms);
* scheduled messages lost or duplicated, from the send ledger and the fake Slack's record of
  what it posted (target 0);
* each process's RSS at start, every minute, and at the end (target: flat);
* errors the processes logged, split into Slack calls that failed even after the client's
  retries (expected with chaos on) and anything else (target 0).

It creates a throwaway database on the PostgreSQL server you name and drops it afterwards.
Loopback only.

    python bench/soak.py [postgresql-url] [--seconds 300] [--rate 100] [--chaos 0.2]

The URL (or ``RAPPORT_BENCH_POSTGRES_URL``) is any database on the server, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import secrets
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from harness import ResponseUrls, load, percentile, start_rapport
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from bench.ack_latency import prepare_database
from bench.drift_events import message_event
from bot.checkins.commands import create_checkin
from bot.checkins.parser import CheckInDraft
from bot.pulse.rounds import open_round_now, round_questions
from bot.relationships import domain as rel
from bot.services import DATABASE_DOWN, SORRY
from bot.core.cadence import parse_cadence
from bot.checkins.models import Occurrence
from bot.core.clock import SystemClock
from bot.core.db import Database, create_db_engine
from tests.support.due_work import DueWork, ledger, scheduled_sends, seed_due_work, wait_until
from tests.support.fake_slack import TEAM_ID, FakeSlack

BATCH_MEMBERS = 50  # people per minute's batch of due work
TRAFFIC_MEMBERS = tuple(f"UC{i}" for i in range(40)) + tuple(f"UP{i}" for i in range(40))
APOLOGIES = (SORRY, DATABASE_DOWN, "out of date")
# how a Slack call that failed even after the client's retries shows in the logs
SLACK_GAVE_UP = ("Slack call after the acknowledgement failed", " ERROR slack_sdk.")


@dataclass(frozen=True)
class TrafficTargets:
    """Ids the clicks point at (the load-generator processes get them pickled)."""

    round_id: int
    question_key: int
    occurrence_id: int


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    """A new, empty database on ``server_url``'s server, dropped on exit."""
    url = make_url(server_url)
    name = f"rapport_soak_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare_traffic(database_url: str) -> TrafficTargets:
    """The relationship the traffic talks about (80 members watching #acme-stellar), with an
    open pulse round to answer and a check-in three days out to RSVP to."""
    prepare_database(database_url)
    engine = create_db_engine(database_url)
    db, now = Database(engine), SystemClock().now()
    start = now + timedelta(days=3)
    with db.transaction() as session:
        relationship, _ = rel.resolve(session, TEAM_ID, "UALICE", None, None)
        opened = open_round_now(session, relationship, "UALICE", now)
        draft = CheckInDraft(
            title="Weekly sync",
            cadence=parse_cadence(f"weekly {start:%a} {start:%H:%M}".lower()),
            participants=("UALICE", "UPAT", *TRAFFIC_MEMBERS),
            tz="UTC",
        )
        checkin = create_checkin(session, relationship, "UALICE", draft, "UTC", now)
        occurrence_id = session.scalar(
            select(Occurrence.id).where(Occurrence.checkin_id == checkin.id)
        )
        targets = TrafficTargets(opened.id, round_questions(opened)[0][0], occurrence_id)
    engine.dispose()
    return targets


def soak_request(
    targets: TrafficTargets, urls: ResponseUrls, client_no: int, n: int
) -> tuple[str, str]:
    """Request ``n`` of client ``client_no``: commands, clicks and message events in turn."""
    user = TRAFFIC_MEMBERS[(client_no * 7 + n) % len(TRAFFIC_MEMBERS)]
    kind = (client_no + n) % 8
    if kind in (0, 1, 2, 3):
        command, words = [
            ("/rapport", "show"),
            ("/pulse", "results"),
            ("/checkin", "list"),
            ("/pulse", ""),  # opens the feedback form: views.open after the ack
        ][kind]
        form = {
            "team_id": TEAM_ID,
            "user_id": user,
            "channel_id": "CSHARED",
            "command": command,
            "text": words,
            "response_url": urls.response_url("soak"),
            "trigger_id": f"{client_no}.{n}",
        }
        return urlencode(form), "application/x-www-form-urlencoded"
    if kind in (4, 5):
        if kind == 4:  # a pulse answer: recorded, then the prompt is updated (chat.update)
            action_id = f"pulse_answer_{1 + n % 5}"
            value = f"{targets.round_id}:{targets.question_key}"
        else:  # an RSVP: recorded after the ack, confirmed through the response URL
            action_id = "checkin_rsvp_yes" if n % 2 else "checkin_rsvp_no"
            value = str(targets.occurrence_id)
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM_ID},
            "user": {"id": user},
            "api_app_id": "A1",
            "trigger_id": f"{client_no}.{n}",
            "response_url": urls.response_url("soak"),
            "container": {
                "type": "message",
                "message_ts": "1700000000.000100",
                "channel_id": "D" + user[1:],
            },
            "actions": [{"action_id": action_id, "type": "button", "value": value}],
        }
        return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    return message_event(urls, client_no, n)


class Watcher:
    """In the background: a new batch of due work every minute, and everyone's RSS; CPU time
    used from start to end."""

    def __init__(self, db: Database, fake: FakeSlack, processes: dict, batches: int):
        self.db, self.fake, self.processes, self.batches = db, fake, processes, batches
        self.seeded: list[DueWork] = []
        self.rss: dict[str, list[float]] = {name: [] for name in processes}
        self.cpu = {name: -process.cpu_seconds() for name, process in processes.items()}
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Watcher:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)
        self.sample()
        elapsed = time.monotonic() - self.started
        for name, process in self.processes.items():
            self.cpu[name] = (self.cpu[name] + process.cpu_seconds()) / elapsed

    def sample(self) -> None:
        for name, process in self.processes.items():
            self.rss[name].append(process.rss_mib())

    def _run(self) -> None:
        minute = 0
        while not self._stop.is_set() and minute < self.batches:
            self.seeded.append(
                seed_due_work(self.db, SystemClock(), BATCH_MEMBERS, self.fake, batch=minute)
            )
            minute += 1
            if self._stop.wait(60):
                return
            self.sample()


def expected_sends(seeded: list[DueWork]) -> Counter[str]:
    """Every scheduled message the run should produce, once each."""
    expected = Counter(f"prompt:{user}" for user in ("UALICE", "UPAT", *TRAFFIC_MEMBERS))
    for work in seeded:
        expected += work.expected()
    return expected


def drain(db: Database, fake: FakeSlack, expected: Counter[str], seconds: float) -> float:
    """Give the scheduler up to ``seconds`` to finish (its ticks are a minute apart)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        sent = scheduled_sends(fake)
        if not ledger(db)["pending"] and not (expected - sent):
            break
        time.sleep(1)
    return time.monotonic() - started


def duplicates_posted(fake: FakeSlack) -> int:
    """Messages Slack posted more than once: same channel, thread and text."""
    posted = Counter(
        (call.args["channel"], call.args.get("thread_ts"), call.args.get("text"))
        for call in fake.done("chat.postMessage")
    )
    return sum(count - 1 for count in posted.values())


def logged_errors(path: Path) -> tuple[int, int]:
    """(Slack calls that failed after the client's retries, any other error) in a log."""
    lines = [line for line in path.read_text().splitlines() if " ERROR " in line]
    slack = sum(any(sign in line for sign in SLACK_GAVE_UP) for line in lines)
    return slack, len(lines) - slack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("postgres", nargs="?", default=os.environ.get("RAPPORT_BENCH_POSTGRES_URL"))
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--rate", type=float, default=100.0, help="requests/s, all kinds")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    parser.add_argument("--chaos", type=float, default=0.2, help="share of Slack calls failed")
    parser.add_argument("--slack-timeout", type=float, default=2.0, help="SLACK_TIMEOUT_SECONDS")
    parser.add_argument("--drain", type=float, default=300.0, help="max s for the last retries")
    args = parser.parse_args()
    if not args.postgres:
        parser.error("give a PostgreSQL URL (or set RAPPORT_BENCH_POSTGRES_URL)")

    fake = FakeSlack().start()
    workdir = Path(tempfile.mkdtemp(prefix="rapport-soak-"))
    logs = {name: workdir / f"{name}.log" for name in ("web-1", "web-2", "scheduler")}
    with throwaway_database(args.postgres) as database_url:
        targets = prepare_traffic(database_url)
        env = {"SLACK_TIMEOUT_SECONDS": str(args.slack_timeout), "LOG_LEVEL": "WARNING"}
        processes = {}
        try:
            for name, log in logs.items():
                role = "scheduler" if name == "scheduler" else "web"
                with log.open("w") as stderr:
                    processes[name] = start_rapport(
                        role, fake, database_url, str(workdir), log=stderr, **env
                    )
            fake.chaos(args.chaos, seed=6, retry_after=1, slow_seconds=args.slack_timeout + 1)
            engine = create_db_engine(database_url)
            db = Database(engine)
            wait_until(lambda: scheduled_sends(fake), "the scheduler's first tick", timeout=60)
            batches = int(args.seconds // 60) + 1
            print(
                f"{args.seconds:.0f} s at {args.rate:.0f} req/s against 2 web processes and "
                f"a scheduler on PostgreSQL; Slack fails {args.chaos:.0%} of calls"
            )
            with Watcher(db, fake, processes, batches) as watcher:
                result = load(
                    [processes["web-1"].url, processes["web-2"].url],
                    fake.api_url,
                    functools.partial(soak_request, targets),
                    clients=args.clients,
                    processes=args.processes,
                    seconds=args.seconds,
                    interval=args.clients / args.rate,
                )
            expected = expected_sends(watcher.seeded)
            waited = drain(db, fake, expected, args.drain)
            sent, rows = scheduled_sends(fake), ledger(db)
            engine.dispose()
        finally:
            for process in processes.values():
                process.stop()
    fake.stop()

    latencies = result.latencies
    apologies = [
        call
        for call in fake.calls_to("response_url")
        if any(apology in str(call.args.get("text", "")) for apology in APOLOGIES)
    ]
    api_calls = [call for call in fake.calls if call.method != "response_url"]
    faults = Counter(call.fault for call in api_calls if call.fault)
    print(
        f"requests sent: {len(latencies) + len(result.errors)} "
        f"({len(latencies) / result.elapsed:.0f}/s acknowledged)"
    )
    print(
        f"unexpected errors: {len(result.errors)} in HTTP answers, {len(apologies)} "
        f"apologies through response URLs {result.errors[:3] or ''}"
    )
    print(
        f"ack latency: p50 {percentile(latencies, 50) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.1f} ms, max {max(latencies) * 1000:.0f} ms"
    )
    print(
        f"Slack Web API calls: {len(api_calls)}, failed by chaos: {sum(faults.values())} "
        f"({', '.join(f'{name} {count}' for name, count in faults.most_common())})"
    )
    lost = sum((expected - sent).values()) + rows["pending"] + rows["failed"]
    print(
        f"scheduled messages: {sum(expected.values())} due, {rows['sent']} sent in the ledger; "
        f"lost {lost}, duplicated {duplicates_posted(fake)} (retries drained in {waited:.0f} s)"
    )
    for name, samples in watcher.rss.items():
        series = " → ".join(f"{value:.0f}" for value in samples)
        slack_errors, other_errors = logged_errors(logs[name])
        print(
            f"{name:9s} RSS MiB {series}; CPU {watcher.cpu[name]:.0%} of a core; logged: "
            f"{slack_errors} Slack calls given up, {other_errors} other errors"
        )


if __name__ == "__main__":
    main()
