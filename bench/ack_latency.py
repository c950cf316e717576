"""Acknowledgement latency under load while Slack itself is slow.

50 concurrent clients (in two load-generator processes) send signed slash commands
(``/rapport show``, ``/rapport setup``) and button clicks (``open_setup``) to a real
``rapport run`` process; the fake Slack Web API answers every call after 300 ms.
Two phases: *paced* (each client sends every 250 ms, ~200 req/s in all) and *saturation* (no
pause, so it measures the server's capacity; there latency is queueing, 50 ÷ throughput).
Prints p50/p99 acknowledgement latency and requests per second for each.
Target: p99 < 100 ms in the paced phase — Slack calls happen after ``ack()``.

    python bench/ack_latency.py [--clients 50] [--seconds 15] [--interval 0.25]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot import relationships as rel
from bot.clock import SystemClock
from bot.db import Database, create_db_engine, migrate
from bot.models import Side
from tests.fake_slack import TEAM_ID, FakeSlack
from tests.slack_requests import SIGNING_SECRET, sign


def signed_headers(body: str, content_type: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(body, timestamp),
    }


def request_bodies(fake: ResponseUrls, client_no: int, n: int) -> tuple[str, str]:
    user = "UALICE" if client_no % 2 else "UPAT"
    kind = n % 3
    if kind == 2:
        payload = json.dumps(
            {
                "type": "block_actions",
                "team": {"id": TEAM_ID},
                "user": {"id": user},
                "api_app_id": "A1",
                "trigger_id": f"{client_no}.{n}",
                "response_url": fake.response_url("bench"),
                "container": {"type": "view", "view_id": "VHOME"},
                "actions": [{"action_id": "open_setup", "type": "button", "value": ""}],
            }
        )
        return urlencode({"payload": payload}), "application/x-www-form-urlencoded"
    form = {
        "team_id": TEAM_ID,
        "user_id": user,
        "channel_id": "CSHARED",
        "command": "/rapport",
        "text": "show" if kind == 0 else "setup",
        "response_url": fake.response_url("bench"),
        "trigger_id": f"{client_no}.{n}",
    }
    return urlencode(form), "application/x-www-form-urlencoded"


def client_loop(
    url: str,
    fake: ResponseUrls,
    client_no: int,
    stop_at: float,
    interval: float,
    latencies: list[float],
    errors: list,
) -> None:
    """Send requests until ``stop_at``; with ``interval`` > 0, one every ``interval`` seconds."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    n = 0
    next_send = time.monotonic() + interval * (client_no % 10) / 10  # spread the starts
    while time.monotonic() < stop_at:
        if interval:
            time.sleep(max(0.0, next_send - time.monotonic()))
            next_send += interval
        body, content_type = request_bodies(fake, client_no, n)
        started = time.perf_counter()
        try:
            connection.request("POST", "/slack/events", body, signed_headers(body, content_type))
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            errors.append(repr(error))
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            continue
        latencies.append(time.perf_counter() - started)
        if status != 200:
            errors.append(status)
        n += 1
    connection.close()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def run_clients(url: str, api_url: str, first: int, count: int, seconds: float, interval: float):
    """One load-generator process: ``count`` client threads for ``seconds``."""
    latencies: list[float] = []
    errors: list = []
    stop_at = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=client_loop,
            args=(url, ResponseUrls(api_url), first + i, stop_at, interval, latencies, errors),
        )
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def prepare_database(database_url: str) -> None:
    engine = create_db_engine(database_url)
    migrate(engine)
    db = Database(engine)
    with db.transaction() as session:
        draft = rel.RelationshipDraft(
            name="Acme ⇄ Stellar",
            client_org="Acme",
            provider_org="Stellar",
            creator_side=Side.CLIENT,
            provider_owners=("UPAT",),
            client_members=tuple(f"UC{i}" for i in range(40)),
            provider_members=tuple(f"UP{i}" for i in range(40)),
            watched_channels=("CSHARED",),
        )
        rel.create_relationship(session, TEAM_ID, "UALICE", draft, SystemClock().now())
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase")
    parser.add_argument("--interval", type=float, default=0.25, help="paced phase: s between sends")
    parser.add_argument("--slack-delay", type=float, default=0.3)
    args = parser.parse_args()

    fake = FakeSlack().start()
    fake.delay = args.slack_delay
    workdir = tempfile.mkdtemp(prefix="rapport-bench-")
    database_url = f"sqlite:///{workdir}/bench.db"
    prepare_database(database_url)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=workdir,
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": database_url,
            "PORT": str(port),
            "LOG_LEVEL": "ERROR",
        },
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url)
        print(
            f"{args.clients} concurrent clients; the fake Slack answers every call in "
            f"{args.slack_delay * 1000:.0f} ms"
        )
        paced = load(url, fake, args, interval=args.interval)
        report(f"paced: each client sends every {args.interval * 1000:.0f} ms", paced, target=True)
        saturated = load(url, fake, args, interval=0.0)
        report("saturation: no pause between requests (server capacity)", saturated)
        slack_calls = len([c for c in fake.calls if c.method != "auth.test"])
        print(f"Slack Web API calls made after the acks: {slack_calls}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        fake.stop()


def load(url: str, fake: FakeSlack, args: argparse.Namespace, interval: float):
    per_process = [args.clients // args.processes] * args.processes
    per_process[0] += args.clients - sum(per_process)
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=args.processes) as pool:
        futures = [
            pool.submit(
                run_clients, url, fake.api_url, sum(per_process[:i]), n, args.seconds, interval
            )
            for i, n in enumerate(per_process)
        ]
        results = [future.result() for future in futures]
    elapsed = time.monotonic() - started
    latencies = [value for result in results for value in result[0]]
    errors = [value for result in results for value in result[1]]
    return latencies, errors, elapsed


def report(title: str, outcome, target: bool = False) -> None:
    latencies, errors, elapsed = outcome
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    print(f"- {title}")
    print(
        f"  acknowledged {len(latencies)} requests, {len(latencies) / elapsed:.0f} req/s, "
        f"errors: {len(errors)}"
    )
    print(f"  ack latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(latencies) * 1000:.1f} ms")
    if target:
        print(f"  p99 / 100 ms target = {p99 / 100:.2f} ({'met' if p99 < 100 else 'NOT met'})")


class ResponseUrls:
    """Response URLs pointing at the fake Slack, as Slack puts them in every payload."""

    def __init__(self, api_url: str):
        self._base = api_url.removesuffix("/api/")
        self._ids = itertools.count(1)

    def response_url(self, name: str) -> str:
        return f"{self._base}/response/{name}-{next(self._ids)}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("rapport run never became healthy")


if __name__ == "__main__":
    main()
