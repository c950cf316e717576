"""Fan-out of one pulse round to 5,000 members against a rate-limited fake Slack.

Run from the repository root:  python bench/pulse_fanout.py [members] [per_second]

The fake Slack allows ``per_second`` chat.postMessage calls per second workspace-wide (a
token bucket holding one second's worth) and one per second per channel, and answers
anything over with HTTP 429 and ``Retry-After: 1``. The pulse tick runs in a separate
process, as in production. Three runs on fresh databases:

* paced: the tick spaces its posts to the limit (``Pacer``);
* unpaced: the tick posts as fast as it can and relies on 429 + Retry-After;
* killed: the paced tick is killed (SIGKILL) half-way and a new process resumes; a claim
  left in flight by the dead process is taken over once stale (10 minutes), simulated by a
  last run with the clock moved on.

Each prints the total time, its ratio to the minimum the limit allows (members / rate),
and prompts lost (members never reached) and duplicated (reached twice).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert

from bot import pulse
from bot import relationships as rel
from bot.db import Database, create_db_engine, migrate
from bot.models import Member, Role, Side
from tests.fake_slack import send_json

TEAM = "TBENCH"


class RateLimitedSlack:
    """Just enough of Slack for a fan-out: chat.postMessage with rate limits."""

    def __init__(self, per_second: float):
        self.per_second = per_second
        self.tokens = per_second
        self.refilled = time.monotonic()
        self.last_by_channel: dict[str, float] = {}
        self.delivered: Counter[str] = Counter()
        self.limited = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.request_queue_size = 256
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def api_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def allow(self, channel: str) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(
                self.per_second, self.tokens + (now - self.refilled) * self.per_second
            )
            self.refilled = now
            if self.tokens < 1 or now - self.last_by_channel.get(channel, -9.0) < 1.0:
                self.limited += 1
                return False
            self.tokens -= 1
            self.last_by_channel[channel] = now
            return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(raw or "{}")
                else:
                    args = dict(parse_qsl(raw))
                channel = str(args.get("channel", ""))
                if self.path.endswith("chat.postMessage"):
                    if not fake.allow(channel):
                        self._send(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
                        return
                    with fake.lock:
                        fake.delivered[channel] += 1
                    ts = f"{time.time():.6f}"
                    self._send(200, {"ok": True, "channel": "D" + channel[1:], "ts": ts})
                    return
                self._send(200, {"ok": True})

            def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
                send_json(self, status, body, headers)

        return Handler


def seed(url: str, members: int) -> None:
    engine = create_db_engine(url)
    migrate(engine)
    db = Database(engine)
    now = datetime.now(UTC)
    draft = rel.RelationshipDraft(
        name="Bench",
        client_org="Client",
        provider_org="Provider",
        creator_side=Side.CLIENT,
        provider_owners=("UPOWNER",),
    )
    with db.transaction() as session:
        relationship = rel.create_relationship(session, TEAM, "UCOWNER", draft, now)
        session.execute(
            insert(Member),
            [
                {
                    "team_id": TEAM,
                    "relationship_id": relationship.id,
                    "user_id": f"U{n:07d}",
                    "side": Side.CLIENT if n % 2 else Side.PROVIDER,
                    "role": Role.FRONTLINE,
                    "added_at": now,
                }
                for n in range(members - 2)
            ],
        )
        pulse.open_round_now(session, relationship, "UCOWNER", now)
    engine.dispose()


def worker(url: str, api_url: str, per_second: float, clock_offset_minutes: float) -> None:
    """One pulse tick in this process, as the scheduler would run it."""
    from bot.services import create_services
    from bot.settings import Settings
    from scheduler.pulse_jobs import Pacer, run_pulse

    class OffsetClock:
        def now(self) -> datetime:
            return datetime.now(UTC) + timedelta(minutes=clock_offset_minutes)

    engine = create_db_engine(url)
    settings = Settings(
        slack_bot_token="xoxb-bench", slack_signing_secret="s", slack_api_url=api_url
    )
    services = create_services(settings, Database(engine), OffsetClock())
    tick = run_pulse(services, Pacer(per_second))
    print(json.dumps(tick.prompts), flush=True)
    services.close()


def _run_worker(url: str, fake: RateLimitedSlack, rate: float, offset: float = 0, kill_after=None):
    command = [
        sys.executable,
        __file__,
        "worker",
        url,
        fake.api_url,
        str(rate),
        str(offset),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    if kill_after is None:
        out, _ = process.communicate()
        return out.strip()
    try:
        process.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return "killed"


def scenario(name: str, members: int, limit: float, pace: float, kill: bool) -> None:
    fake = RateLimitedSlack(limit)
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/fanout.db"
        seed(url, members)
        minimum = members / limit
        started = time.perf_counter()
        if kill:
            _run_worker(url, fake, pace, kill_after=minimum / 2)
            killed_at = sum(fake.delivered.values())
            _run_worker(url, fake, pace)
            resumed = time.perf_counter() - started
            _run_worker(url, fake, pace, offset=11)  # stale claims of the dead process
        else:
            _run_worker(url, fake, pace)
        elapsed = time.perf_counter() - started
        expected = {"UCOWNER", "UPOWNER"} | {f"U{n:07d}" for n in range(members - 2)}
        lost = len(expected - set(fake.delivered))
        duplicates = sum(count - 1 for count in fake.delivered.values() if count > 1)
        line = (
            f"{name:8s} {members} members, limit {limit:g}/s: {elapsed:.1f}s "
            f"(minimum {minimum:.1f}s, ratio {elapsed / minimum:.2f}), "
            f"429s {fake.limited}, lost {lost}, duplicates {duplicates}"
        )
        if kill:
            line += (
                f"; killed after {killed_at} sent, resumed run done at {resumed:.1f}s "
                f"(ratio {resumed / minimum:.2f})"
            )
        print(line, flush=True)
    fake.server.shutdown()


def main(members: int, limit: float) -> None:
    scenario("paced", members, limit, pace=limit, kill=False)
    scenario("unpaced", members, limit, pace=0, kill=False)
    scenario("killed", members, limit, pace=limit, kill=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]))
    else:
        args = sys.argv[1:]
        main(int(args[0]) if args else 5000, float(args[1]) if len(args) > 1 else 100.0)
