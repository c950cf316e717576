"""Fan-out of one pulse round to 5,000 members against a rate-limited fake Slack.

Run from the repository root:

    python bench/pulse_fanout.py [members] [paced|unpaced|killed …] [--repeat N]

The fake Slack allows ``PROMPTS_PER_SECOND`` chat.postMessage calls per second
workspace-wide (a token bucket holding one second's worth: the limit production paces
itself to, see ``scheduler/pulse_jobs.py``) and one per second per channel, and answers
anything over with HTTP 429 and ``Retry-After: 1``. The pulse tick runs in a separate
process, as in production, with production's pacing. Runs on fresh databases:

* paced: the tick as production runs it (``Pacer(PROMPTS_PER_SECOND)``);
* unpaced: the tick posts as fast as it can and relies on 429 + Retry-After;
* killed: the paced tick is killed (SIGKILL) half-way, at the worst moment: right after
  Slack took a prompt, before the process heard back or recorded it. A new process
  resumes; the claim the dead one left in flight is taken over once stale (10 minutes),
  simulated by a last run with the clock moved on, which first looks for it in the DM's
  history (by the key in its message metadata) and records it, as Slack already has it.

Each prints the total time, its ratio to the minimum the limits allow (members / rate),
and prompts lost (members never reached) and duplicated (reached twice); ``killed`` also
how many claims were taken over and how many of those Slack already had.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select

from bot.pulse.rounds import open_round_now
from bot.relationships.setup import create_relationship, RelationshipDraft
from bot.core.db import Database, create_db_engine, migrate
from bot.relationships.models import Member, Relationship, Role, Side
from bot.slack.models import SentMessage
from bot.slack.pacing import PROMPTS_PER_SECOND, Pacer
from tests.support.fake_slack import send_json

TEAM = "TBENCH"


class RateLimitedSlack:
    """Just enough of Slack for a fan-out: chat.postMessage with rate limits, and the DM
    history (with message metadata) a claim taken over is looked for in."""

    def __init__(self, per_second: float):
        self.per_second = per_second
        self.tokens = per_second
        self.refilled = time.monotonic()
        self.last_by_channel: dict[str, float] = {}
        self.delivered: Counter[str] = Counter()
        self.history: dict[str, list[dict]] = {}  # DM channel -> messages posted
        self.lookups = 0
        self.limited = 0
        self.kill_at: int | None = None  # the post after which ``victim`` dies
        self.victim: subprocess.Popen | None = None
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
            disable_nagle_algorithm = True  # as tests/support/fake_slack.py's, for kept connections

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
                    ts, dm = f"{time.time():.6f}", "D" + channel[1:]
                    posted = {"type": "message", "ts": ts, "metadata": args.get("metadata")}
                    with fake.lock:
                        fake.delivered[channel] += 1
                        fake.history.setdefault(dm, []).insert(0, posted)
                        dies = sum(fake.delivered.values()) == fake.kill_at and fake.victim
                    if dies:  # Slack took it; its sender dies before hearing so
                        fake.victim.kill()
                        fake.victim.wait()
                        return
                    self._send(200, {"ok": True, "channel": dm, "ts": ts})
                    return
                if self.path.endswith("conversations.open"):
                    dm = "D" + str(args.get("users", ""))[1:]
                    self._send(200, {"ok": True, "channel": {"id": dm}})
                    return
                if self.path.endswith("conversations.history"):
                    oldest = float(args.get("oldest") or 0)
                    with fake.lock:
                        fake.lookups += 1
                        found = [
                            m for m in fake.history.get(channel, []) if float(m["ts"]) > oldest
                        ]
                    self._send(200, {"ok": True, "messages": found, "has_more": False})
                    return
                self._send(200, {"ok": True})

            def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
                send_json(self, status, body, headers)

        return Handler


def bench_relationship(
    session,
    team: str,
    members: int,
    now: datetime,
    role: Callable[[int], Role] = lambda n: Role.FRONTLINE,
) -> Relationship:
    """A relationship of ``members`` people, half on each side (two of them owners), their
    ids ``U0000000`` on; ``role`` gives the n-th one's role."""
    draft = RelationshipDraft(
        name="Bench",
        client_org="Client",
        provider_org="Provider",
        creator_side=Side.CLIENT,
        provider_owners=("UPOWNER",),
    )
    relationship = create_relationship(session, team, "UCOWNER", draft, now)
    session.execute(
        insert(Member),
        [
            {
                "team_id": team,
                "relationship_id": relationship.id,
                "user_id": f"U{n:07d}",
                "side": Side.CLIENT if n % 2 else Side.PROVIDER,
                "role": role(n),
                "added_at": now,
            }
            for n in range(members - 2)
        ],
    )
    return relationship


def seed(url: str, members: int) -> None:
    engine = create_db_engine(url)
    migrate(engine)
    db = Database(engine)
    now = datetime.now(UTC)
    with db.transaction() as session:
        relationship = bench_relationship(session, TEAM, members, now)
        open_round_now(session, relationship, "UCOWNER", now)
    engine.dispose()


def worker(url: str, api_url: str, paced: bool, clock_offset_minutes: float) -> None:
    """One pulse tick in this process, as the scheduler runs it (paced) or unpaced."""
    from bot.services import create_services
    from bot.core.settings import Settings
    from scheduler.pulse_jobs import run_pulse

    class OffsetClock:
        def now(self) -> datetime:
            return datetime.now(UTC) + timedelta(minutes=clock_offset_minutes)

    engine = create_db_engine(url)
    settings = Settings(
        slack_bot_token="xoxb-bench", slack_signing_secret="s", slack_api_url=api_url
    )
    services = create_services(settings, Database(engine), OffsetClock())
    tick = run_pulse(services, Pacer(PROMPTS_PER_SECOND if paced else 0))
    print(json.dumps(tick.prompts), flush=True)
    services.close()


def _run_worker(url: str, fake: RateLimitedSlack, paced: bool, offset: float = 0) -> str:
    """Run one tick in a new process; the fake kills it at its ``kill_at``-th post."""
    command = [
        sys.executable,
        __file__,
        "worker",
        url,
        fake.api_url,
        "paced" if paced else "unpaced",
        str(offset),
    ]
    process = fake.victim = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out, _ = process.communicate()
    fake.victim = None
    return out.strip() if process.returncode == 0 else "killed"


def _taken_over(url: str) -> list[str]:
    """The DM channels of the claims a later run took over (tried more than once)."""
    engine = create_db_engine(url)
    with engine.connect() as connection:
        channels = connection.scalars(
            select(SentMessage.channel).where(SentMessage.attempts > 1)
        ).all()
    engine.dispose()
    return list(channels)


def scenario(name: str, members: int) -> None:
    limit, paced, kill = PROMPTS_PER_SECOND, name != "unpaced", name == "killed"
    fake = RateLimitedSlack(limit)
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/fanout.db"
        seed(url, members)
        minimum = members / limit
        started = time.perf_counter()
        if kill:
            fake.kill_at = members // 2
            _run_worker(url, fake, paced)
            fake.kill_at = None
            killed_at = sum(fake.delivered.values())
            _run_worker(url, fake, paced)
            resumed = time.perf_counter() - started
            in_slack = set(fake.delivered)
            _run_worker(url, fake, paced, offset=11)  # stale claims of the dead process
            taken_over = _taken_over(url)
            found = sum(1 for channel in taken_over if channel in in_slack)
        else:
            _run_worker(url, fake, paced)
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
                f"(ratio {resumed / minimum:.2f}); claims taken over {len(taken_over)}, "
                f"of which already in Slack {found} (history lookups {fake.lookups})"
            )
        print(line, flush=True)
    fake.server.shutdown()


SCENARIOS = ("paced", "unpaced", "killed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("members", nargs="?", type=int, default=5000)
    parser.add_argument("scenarios", nargs="*", help=f"some of {', '.join(SCENARIOS)}")
    parser.add_argument("--repeat", type=int, default=1, help="run each scenario N times")
    args = parser.parse_args()
    if set(args.scenarios) - set(SCENARIOS):
        parser.error(f"scenarios are {', '.join(SCENARIOS)}")
    for name in args.scenarios or SCENARIOS:
        for _ in range(args.repeat):
            scenario(name, args.members)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(sys.argv[2], sys.argv[3], sys.argv[4] == "paced", float(sys.argv[5]))
    else:
        main()
