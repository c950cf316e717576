"""Weekly health digests for 500 relationships (1,000 owners) due at the same local time,
against a fake Slack enforcing the ``files.*`` and ``chat.postMessage`` rate limits.

Run from the repository root:

    python bench/health_digest.py [--relationships 500] [--database-url …] [--no-kill]

Every relationship has a closed pulse round (an index), its two owners in Europe/Berlin
(zones cached, as the daily lookups leave them) and the default digest (Monday 09:00, by
DM). The fake Slack (``tests/support/fake_slack.py``) allows chat.postMessage 20 a second
(a bucket of 20: the pace production keeps to, ``bot/slack/pacing.py``), and Tier 4's 100 a
minute, in bursts of 10, to files.getUploadURLExternal, the upload URL,
files.completeUploadExternal and files.info; anything over is answered 429 with
``Retry-After``. The digest tick (``scheduler/digest_jobs.py``, the real sending code, with
production's pacing) runs in a process of its own whose clock reads Monday 09:00 Berlin at
the start. Half-way through, the fake kills it (SIGKILL) at the worst moment: right after
Slack took a digest, before the process heard back or recorded it. A new process resumes at
once; the claim the dead one left in flight is taken over once stale (10 minutes),
simulated by a last run with the clock moved on, which finds the digest in the DM's history
(by the key in its message metadata) and records it, as Slack already has it.

Prints, beside the calibration loop (``bench/calibration.py``) timed in this process: when
the last digest reached Slack after its local time (target < 10 minutes), p50, digests lost
and duplicated, charts uploaded and shown, and the 429s per method.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select

from bench.calibration import calibration_rate
from bot.core.db import Database, create_db_engine
from bot.pulse.models import PulseAnswer, PulseRecipient, PulseRound
from bot.relationships.models import Role, Side
from bot.relationships.setup import RelationshipDraft, create_relationship
from bot.slack.models import PersonProfile, SentMessage
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.fresh_db import fresh_database

ZONE = "Europe/Berlin"
LOCAL_NINE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin
TARGET = timedelta(minutes=10)
FILES_METHODS = (
    "files.getUploadURLExternal",
    "upload",
    "files.completeUploadExternal",
    "files.info",
)
PER_SIDE = 3  # front-line people besides the owner: four a side, over the minimum of 3


class KillingSlack(FakeSlack):
    """The fake Slack, killing ``victim`` right after it posted its ``kill_at``-th digest."""

    def __init__(self) -> None:
        super().__init__()
        self.kill_at: int | None = None
        self.victim: subprocess.Popen | None = None
        self.posted = 0

    def answer(self, method: str, args: dict[str, Any], token: str | None = None) -> dict:
        answered = super().answer(method, args, token)
        if method == "chat.postMessage" and answered.get("ok"):
            self.posted += 1
            if self.posted == self.kill_at and self.victim is not None:
                os.kill(self.victim.pid, signal.SIGKILL)  # Slack took it; its sender dies
        return answered


def seed(url: str, relationships: int) -> None:
    db = fresh_database(url)
    opened = LOCAL_NINE - timedelta(days=6)
    for n in range(relationships):
        client = tuple(f"UC{n:04d}{k}" for k in range(PER_SIDE))
        provider = tuple(f"UP{n:04d}{k}" for k in range(PER_SIDE))
        draft = RelationshipDraft(
            name=f"Client {n} ⇄ Provider",
            client_org=f"Client {n}",
            provider_org="Provider",
            creator_side=Side.CLIENT,
            client_members=client,
            provider_owners=(f"UPOWN{n:04d}",),
            provider_members=provider,
        )
        with db.transaction() as session:
            relationship = create_relationship(
                session, TEAM_ID, f"UCOWN{n:04d}", draft, opened - timedelta(days=30)
            )
            _answered_round(session, relationship.id, n, opened)
            session.execute(
                insert(PersonProfile),
                [
                    {"team_id": TEAM_ID, "user_id": owner, "tz": ZONE,
                     "refreshed_at": LOCAL_NINE - timedelta(hours=1)}
                    for owner in (f"UCOWN{n:04d}", f"UPOWN{n:04d}")
                ],
            )  # fmt: skip
    db.engine.dispose()


def _answered_round(session, relationship_id: int, n: int, opened: datetime) -> None:
    """A pulse round closed three days ago that everyone answered."""
    pulse_round = PulseRound(
        team_id=TEAM_ID, relationship_id=relationship_id, day=None, prompt_at=opened.time(),
        opens_at=opened, closes_at=opened + timedelta(days=3),
        questions='[[0, "How well is the partnership working for you this week?"]]',
        secret="", reminder_before_hours=24, min_group=3, alerts_done=True, created_at=opened,
    )  # fmt: skip
    session.add(pulse_round)
    session.flush()
    people = [
        (f"UCOWN{n:04d}", Side.CLIENT, Role.OWNER),
        (f"UPOWN{n:04d}", Side.PROVIDER, Role.OWNER),
    ]
    people += [(f"UC{n:04d}{k}", Side.CLIENT, Role.FRONTLINE) for k in range(PER_SIDE)]
    people += [(f"UP{n:04d}{k}", Side.PROVIDER, Role.FRONTLINE) for k in range(PER_SIDE)]
    session.execute(
        insert(PulseRecipient),
        [
            {"team_id": TEAM_ID, "round_id": pulse_round.id, "user_id": user, "side": side,
             "role": role, "status": "sent", "reminded": True}
            for user, side, role in people
        ],
    )  # fmt: skip
    session.execute(
        insert(PulseAnswer),
        [
            {"team_id": TEAM_ID, "round_id": pulse_round.id, "question_key": 0,
             "respondent": f"{relationship_id}-{number}", "side": side, "role": role,
             "score": 2 + (number + n) % 4}
            for number, (_, side, role) in enumerate(people)
        ],
    )  # fmt: skip


def worker(url: str, api_url: str, started: float, offset_minutes: float) -> None:
    """Digest ticks in this process, one after another as a busy scheduler runs them, until
    one sends nothing new (a claim in flight elsewhere is left to its owner, or to the
    takeover once stale); the clock reads Monday 09:00 Berlin at ``started``."""
    from bot.core.settings import Settings
    from bot.services import create_services
    from scheduler.digest_jobs import run_digests

    class BenchClock:
        def now(self) -> datetime:
            elapsed = time.time() - started + offset_minutes * 60
            return LOCAL_NINE + timedelta(seconds=elapsed)

    settings = Settings(
        slack_bot_token="xoxb-bench", slack_signing_secret="s", slack_api_url=api_url
    )
    services = create_services(settings, Database(create_db_engine(url)), BenchClock())
    sent: Counter[str] = Counter()
    charts: Counter[str] = Counter()
    while True:
        tick = run_digests(services)
        sent.update(tick.sent)
        charts.update(tick.charts)
        if not tick.sent.get("sent") and not tick.sent.get("retry"):
            break
    print(json.dumps({"sent": sent, "charts": charts}), flush=True)
    services.close()


def _run_worker(url: str, fake: KillingSlack, started: float, offset: float = 0) -> str:
    command = [sys.executable, __file__, "worker", url, fake.api_url, repr(started), str(offset)]
    process = fake.victim = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out, _ = process.communicate()
    fake.victim = None
    return out.strip() if process.returncode == 0 else "killed"


def _posted(fake: FakeSlack) -> list[tuple[str, float]]:
    """(ledger key without its ``:text`` suffix, Slack's ts) of every digest Slack took."""
    return [
        (message["metadata"]["event_payload"]["key"].removesuffix(":text"), float(message["ts"]))
        for messages in fake.messages.values()
        for message in messages
        if (message.get("metadata") or {}).get("event_type") == "rapport_send"
    ]


def _ledger(url: str) -> Counter[str]:
    engine = create_db_engine(url)
    with engine.connect() as connection:
        statuses = connection.scalars(select(SentMessage.status)).all()
        taken_over = connection.scalar(
            select(SentMessage.key).where(SentMessage.attempts > 1).limit(1)
        )
    engine.dispose()
    counted = Counter(str(status) for status in statuses)
    counted["taken over"] = int(taken_over is not None)
    return counted


def run(url: str, relationships: int, kill: bool) -> None:
    rate = calibration_rate()
    fake = KillingSlack()
    fake.start()
    fake.limit_rate("chat.postMessage", per_minute=20 * 60, burst=20)
    for method in FILES_METHODS:
        fake.limit_rate(method, per_minute=100, burst=10)
    seeding = time.perf_counter()
    seed(url, relationships)
    seeded = time.perf_counter() - seeding
    owners = 2 * relationships
    started = time.time()
    outputs = []
    if kill:
        fake.kill_at = owners // 2
    outputs.append(_run_worker(url, fake, started))
    fake.kill_at = None
    if kill:
        outputs.append(_run_worker(url, fake, started))
    resumed = time.time() - started
    if kill:
        outputs.append(_run_worker(url, fake, started, offset=11))  # stale claims taken over
    posted = _posted(fake)
    keys = Counter(key for key, _ in posted)
    expected = {
        f"health-digest:{n + 1}:{owner}{n:04d}:2026-03-02"
        for n in range(relationships)
        for owner in ("UCOWN", "UPOWN")
    }
    lost = len(expected - set(keys))
    duplicates = sum(count - 1 for count in keys.values())
    first = {key: ts for key, ts in sorted(posted, key=lambda item: -item[1])}
    late = sorted(ts - started for ts in first.values())
    ledger = _ledger(url)
    limited = {method: fake.rate_limits[method].limited for method in fake.rate_limits}
    uploads = len(fake.done("files.completeUploadExternal"))
    print(f"calibration: {rate:,.0f} loops/CPU-second (bench/calibration.py)")
    print(f"seeded {relationships} relationships ({owners} owners) in {seeded:.0f} s")
    print(
        f"digests: {len(keys)} of {owners} reached Slack; the last {late[-1] / 60:.1f} min "
        f"after their local time (target < {TARGET.seconds // 60} min), p50 "
        f"{statistics.median(late) / 60:.1f} min; lost {lost}, duplicates {duplicates}"
    )
    if kill:
        print(
            f"killed after {owners // 2} digests, right after Slack took one; resumed run done "
            f"at {resumed / 60:.1f} min; ledger {dict(ledger)}"
        )
    print(f"charts uploaded {uploads}; ticks {outputs}")
    print(f"429s answered: {limited}")
    print(f"whole run {late[-1]:.0f} s = {late[-1] * rate / 1e6:.1f} M calibration loops")
    fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--relationships", type=int, default=500)
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (default SQLite)")
    parser.add_argument("--no-kill", action="store_true", help="no kill and restart")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{scratch}/digest.db"
        run(url, args.relationships, not args.no_kill)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]))
    else:
        main()
