"""Acknowledgement latency under load while Slack itself is slow.

50 concurrent clients (in two load-generator processes) send signed slash commands
(``/rapport show``, ``/rapport setup``) and button clicks (``open_setup``) to a real
``rapport run`` process; the fake Slack Web API answers every call after 300 ms.
Two phases: *paced* (each client sends every 250 ms, ~200 req/s in all) and *saturation* (no
pause, so it measures the server's capacity; there latency is queueing, 50 ÷ throughput).
Prints p50/p99 acknowledgement latency and requests per second for each.
Target: p99 < 100 ms in the paced phase — Slack calls happen after ``ack()``.

Two of every three requests open a modal, so the Slack calls deferred after the acks must
keep up too: a ``trigger_id`` expires 3 s after Slack sends the request. Each phase also
prints the ``views.open`` calls needed and made, and the lag from sending the request to the
``views.open`` reaching Slack (p50/p99), against that 3 s limit. Between phases it waits for
the deferred calls to finish, so one phase's backlog doesn't weigh on the next.

    python bench/ack_latency.py [--clients 50] [--seconds 15] [--interval 0.25]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from functools import partial
from urllib.parse import urlencode

from harness import LoadResult, ResponseUrls, load, percentile, report, start_rapport

from bot.relationships.setup import create_relationship, RelationshipDraft
from bot.core.clock import SystemClock
from bot.core.db import Database, create_db_engine, migrate
from bot.relationships.models import Side
from tests.support.fake_slack import TEAM_ID, FakeSlack

TRIGGER_LIFETIME = 3.0  # seconds Slack accepts a trigger_id for views.open


def request_bodies(phase: str, urls: ResponseUrls, client_no: int, n: int) -> tuple[str, str]:
    """A mix: /rapport show (database read), /rapport setup and a button (views.open after
    the ack). The trigger_id carries the phase and the moment the request was made."""
    user = "UALICE" if client_no % 2 else "UPAT"
    kind = n % 3
    trigger_id = f"{phase}-{client_no}-{n}-{time.monotonic():.6f}"
    if kind == 2:
        payload = json.dumps(
            {
                "type": "block_actions",
                "team": {"id": TEAM_ID},
                "user": {"id": user},
                "api_app_id": "A1",
                "trigger_id": trigger_id,
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
        "trigger_id": trigger_id,
    }
    return urlencode(form), "application/x-www-form-urlencoded"


def prepare_database(database_url: str) -> None:
    """A relationship with 80 members, watching #acme-stellar."""
    engine = create_db_engine(database_url)
    migrate(engine)
    db = Database(engine)
    with db.transaction() as session:
        draft = RelationshipDraft(
            name="Acme ⇄ Stellar",
            client_org="Acme",
            provider_org="Stellar",
            creator_side=Side.CLIENT,
            provider_owners=("UPAT",),
            client_members=tuple(f"UC{i}" for i in range(40)),
            provider_members=tuple(f"UP{i}" for i in range(40)),
            watched_channels=("CSHARED",),
        )
        create_relationship(session, TEAM_ID, "UALICE", draft, SystemClock().now())
    engine.dispose()


def modal_requests(acknowledged: int, clients: int) -> int:
    """How many requests opened a modal: each client's requests 0, 3, 6… only read. Exact
    when every client sent as many (as when paced), close otherwise."""
    each, extra = divmod(acknowledged, clients)

    def opened(sent: int) -> int:
        return sent - (sent + 2) // 3

    return extra * opened(each + 1) + (clients - extra) * opened(each)


def report_modals(
    fake: FakeSlack, phase: str, result: LoadResult, clients: int, ended: float
) -> None:
    """The views.open calls a phase needed and made (by its end, and once drained), and the
    lag from sending each request to its views.open reaching Slack."""
    needed = modal_requests(len(result.latencies), clients)
    deadline = time.monotonic() + 120
    while True:  # until the deferred calls stop coming
        before = len(fake.calls_to("views.open"))
        time.sleep(2)
        if len(fake.calls_to("views.open")) == before or time.monotonic() > deadline:
            break
    opened = [c for c in fake.calls_to("views.open") if c.args["trigger_id"].startswith(phase)]
    # a call is recorded after the fake's delay; it reached Slack that much earlier
    lags = [c.at - fake.delay - float(c.args["trigger_id"].rsplit("-", 1)[1]) for c in opened]
    late = sum(lag > TRIGGER_LIFETIME for lag in lags)
    print(
        f"  views.open needed ~{needed}, made {sum(c.at <= ended for c in opened)} by the "
        f"phase's end and {len(opened)} in all"
    )
    print(
        f"  request -> views.open at Slack p50 {percentile(lags, 50) * 1000:.0f} ms, "
        f"p99 {percentile(lags, 99) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms; "
        f"after the {TRIGGER_LIFETIME:.0f} s trigger_id lifetime: {late} ({late / len(lags):.0%})"
    )


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
    phases = (
        ("paced", args.interval, f"paced: each client sends every {args.interval * 1000:.0f} ms"),
        ("saturated", 0.0, "saturation: no pause between requests (server capacity)"),
    )
    server = start_rapport("run", fake, database_url, workdir)
    try:
        print(
            f"{args.clients} concurrent clients; the fake Slack answers every call in "
            f"{args.slack_delay * 1000:.0f} ms"
        )
        for phase, interval, title in phases:
            cpu = server.cpu_seconds()
            requests = partial(request_bodies, phase)
            result = load(server.url, fake.api_url, requests, interval=interval, **common)
            ended = time.monotonic()
            report(title, result, 100 if phase == "paced" else None)
            report_modals(fake, phase, result, args.clients, ended)
            used = server.cpu_seconds() - cpu
            print(
                f"  server CPU: {used / len(result.latencies) * 1000:.2f} ms per request, "
                "its Slack calls included"
            )
        slack_calls = len([c for c in fake.calls if c.method != "auth.test"])
        print(f"Slack Web API calls made after the acks: {slack_calls}")
    finally:
        server.stop()
        fake.stop()


if __name__ == "__main__":
    main()
