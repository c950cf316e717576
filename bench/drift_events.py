"""Drift end to end: signed message events into a real ``rapport run``, scored and stored.

Clients post Slack message events (both sides, friendly and formal talk) to a watched
channel at a steady rate, then with no pause. Prints events/second, p50/p99 acknowledgement
latency, the server's CPU time per event (all its processes), and checks that every
acknowledged event was stored exactly once. Target: at least 300 events/s with p99
acknowledgement under 100 ms on a 2-core machine, hence ``rapport run --workers 2`` by default.

The first seconds after start-up are reported on their own (``--warm-up``): a process that
has just started or forked pays once for its database connections, first statement
compilations and copy-on-write page faults, which is not the sustained rate the target
is about. Their figures are printed, not hidden; ``--warm-up 0`` measures from a cold start.

    python bench/drift_events.py [--rate 300] [--seconds 15] [--warm-up 3] [--workers 2]
                                 [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from harness import ResponseUrls, load, report, start_rapport, tree_cpu_seconds

from bench.ack_latency import prepare_database
from bench.calibration import calibration_rate
from bot.core.db import create_db_engine
from sqlalchemy import func, select
from bot.drift.models import DriftSignal
from tests.support.fake_slack import TEAM_ID, FakeSlack

MESSAGES = [
    "Morning! The overnight batch finished early, nice one team",
    "Please be advised that as per clause 7.2 of the MSA this request is out of scope.",
    "Can you take a look at ticket 4411 when you get a sec?",
    "Kindly note CR-1042 must go through formal change control.",
    "Thanks, that fix worked a treat :tada:",
    "We hereby notify you of an SLA breach; service credits will apply.",
    "lunch on Thursday? the new place by the depot",
    "no need for a formal change request, just ping me",
]


def message_event(urls: ResponseUrls, client_no: int, n: int) -> tuple[str, str]:
    user = f"UC{client_no % 40}" if n % 2 else f"UP{client_no % 40}"
    ts = f"{int(time.time())}.{client_no:02d}{n % 10_000:04d}"  # unique per message
    envelope = {
        "token": "x",
        "team_id": TEAM_ID,
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": f"Ev{client_no:04d}{n:08d}",
        "event_time": int(time.time()),
        "event": {
            "type": "message",
            "channel": "CSHARED",
            "channel_type": "channel",
            "user": user,
            "text": MESSAGES[(client_no + n) % len(MESSAGES)],
            "ts": ts,
        },
    }
    return json.dumps(envelope), "application/json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=300.0, help="paced phase: events/s")
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase")
    parser.add_argument(
        "--warm-up", type=float, default=3.0, help="seconds at the paced rate, reported apart"
    )
    parser.add_argument("--workers", type=int, default=2, help="rapport run --workers N")
    parser.add_argument(
        "--database-url", help="an empty PostgreSQL database to use instead of SQLite"
    )
    args = parser.parse_args()

    calibration = calibration_rate()
    print(f"calibration: {calibration:,.0f} loops per CPU second on this machine")
    # the calibration gauges a core's speed, not how many are free: other work shows here
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    fake = FakeSlack().start()
    fake.delay = 0.1  # a realistic Slack for the alerts that fire along the way
    workdir = tempfile.mkdtemp(prefix="rapport-bench-")
    database_url = args.database_url or f"sqlite:///{workdir}/bench.db"
    prepare_database(database_url)
    print(f"database: {database_url.split(':')[0]}, rapport run --workers {args.workers}")
    common = {"clients": args.clients, "processes": args.processes}
    server = start_rapport(
        "run", fake, database_url, workdir, args=("--workers", str(args.workers))
    )
    acknowledged = 0
    try:
        paced = args.clients / args.rate
        for title, interval, seconds, target in (
            (
                f"warm-up, first {args.warm_up:.0f} s at {args.rate:.0f} events/s",
                paced,
                args.warm_up,
                None,
            ),
            (f"paced at {args.rate:.0f} events/s", paced, args.seconds, 100),
            ("saturation: no pause (capacity)", 0.0, args.seconds, None),
        ):
            if not seconds:
                continue
            cpu = tree_cpu_seconds(server.popen.pid)
            result = load(
                server.url,
                fake.api_url,
                message_event,
                interval=interval,
                seconds=seconds,
                **common,
            )
            report(title, result, target, unit="events")
            used = tree_cpu_seconds(server.popen.pid) - cpu
            rate = len(result.latencies) / result.elapsed
            per_event = used / len(result.latencies)
            print(
                f"  server CPU: {per_event * 1000:.2f} ms per event "
                f"({per_event * calibration:.0f} calibration loops)"
            )
            print(f"  {rate / calibration * 1000:.2f} events/s per 1,000 calibration loops/s")
            acknowledged += len(result.latencies)
    finally:
        server.stop()
        fake.stop()
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(DriftSignal))
    print(
        f"signals stored: {stored} of {acknowledged} acknowledged events "
        f"({'all, once each' if stored == acknowledged else 'MISMATCH'})"
    )


if __name__ == "__main__":
    main()
