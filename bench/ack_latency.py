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
import json
import tempfile
from urllib.parse import urlencode

from harness import ResponseUrls, load, rapport_process, report

from bot import relationships as rel
from bot.clock import SystemClock
from bot.db import Database, create_db_engine, migrate
from bot.models import Side
from tests.fake_slack import TEAM_ID, FakeSlack


def request_bodies(urls: ResponseUrls, client_no: int, n: int) -> tuple[str, str]:
    """A mix: /rapport show (database read), /rapport setup and a button (Slack calls)."""
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
                "response_url": urls.response_url("bench"),
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
        "response_url": urls.response_url("bench"),
        "trigger_id": f"{client_no}.{n}",
    }
    return urlencode(form), "application/x-www-form-urlencoded"


def prepare_database(database_url: str) -> None:
    """A relationship with 80 members, watching #acme-stellar."""
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
    common = {"clients": args.clients, "processes": args.processes, "seconds": args.seconds}
    try:
        with rapport_process(fake, database_url, workdir) as url:
            print(
                f"{args.clients} concurrent clients; the fake Slack answers every call in "
                f"{args.slack_delay * 1000:.0f} ms"
            )
            paced = load(url, fake.api_url, request_bodies, interval=args.interval, **common)
            report(f"paced: each client sends every {args.interval * 1000:.0f} ms", paced, 100)
            saturated = load(url, fake.api_url, request_bodies, interval=0.0, **common)
            report("saturation: no pause between requests (server capacity)", saturated)
            slack_calls = len([c for c in fake.calls if c.method != "auth.test"])
            print(f"Slack Web API calls made after the acks: {slack_calls}")
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
