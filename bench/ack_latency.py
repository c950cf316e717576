"""Acknowledgement latency under load while Slack itself is slow.

50 concurrent clients send signed slash commands (``/rapport show``, ``/rapport setup``) and
button clicks (``open_setup``) to the real app behind waitress; the fake Slack Web API answers
every call after 300 ms. Prints p50/p99 acknowledgement latency and requests per second.
Target: p99 < 100 ms — Slack calls happen after ``ack()``.

    python bench/ack_latency.py [--clients 50] [--seconds 20] [--slack-delay 0.3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import relationships as rel
from bot.app import create_app
from bot.clock import SystemClock
from bot.db import Database, create_db_engine, migrate
from bot.models import Side
from bot.settings import Settings
from bot.web import RapportWsgi, create_http_server, stop_http_server
from tests.fake_slack import TEAM_ID, FakeSlack
from tests.slack_requests import SIGNING_SECRET, sign


def signed_headers(body: str, content_type: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(body, timestamp),
    }


def request_bodies(fake: FakeSlack, client_no: int, n: int) -> tuple[str, str]:
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
    url: str, fake: FakeSlack, client_no: int, stop_at: float, latencies: list[float], errors: list
) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    n = 0
    while time.monotonic() < stop_at:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--slack-delay", type=float, default=0.3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    fake = FakeSlack().start()
    workdir = tempfile.mkdtemp(prefix="rapport-bench-")
    database_url = f"sqlite:///{workdir}/bench.db"
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
    settings = Settings(
        slack_bot_token="xoxb-bench",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.api_url,
        database_url=database_url,
    )
    app = create_app(settings, db)
    fake.delay = args.slack_delay  # from here on, every Web API answer is slow
    server = create_http_server(RapportWsgi(app, db), "127.0.0.1", 0)
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}"

    latencies: list[float] = []
    errors: list = []
    stop_at = time.monotonic() + args.seconds
    clients = [
        threading.Thread(target=client_loop, args=(url, fake, i, stop_at, latencies, errors))
        for i in range(args.clients)
    ]
    started = time.monotonic()
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    elapsed = time.monotonic() - started
    slack_calls = len([c for c in fake.calls if c.method != "auth.test"])

    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    rate = len(latencies) / elapsed
    mean = statistics.mean(latencies) * 1000
    print(f"clients: {args.clients}, {elapsed:.1f} s, Slack answers in {args.slack_delay:.2f} s")
    print(f"requests acknowledged: {len(latencies)} ({rate:.0f} req/s), errors: {len(errors)}")
    print(f"ack latency p50: {p50:.1f} ms, p99: {p99:.1f} ms, mean: {mean:.1f} ms")
    print(f"p99 / 100 ms target: {p99 / 100:.2f} ({'met' if p99 < 100 else 'NOT met'})")
    print(f"Slack Web API calls made after the acks during the run: {slack_calls}")
    sys.stdout.flush()
    stop_http_server(server)
    os._exit(0)  # don't wait for the deferred Slack calls still queued behind the slow fake


if __name__ == "__main__":
    main()
