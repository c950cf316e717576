"""One round of intros for 2,000 people against a fake Slack enforcing its limits.

Run from the repository root:

    python bench/intro_round.py [people] [--rate 20] [--kill-after 300]

A relationship of ``people`` (half each side) is paired for today, everyone in, their time
zones known (all UTC+14, so every group is due at once); then the real intros job
(``scheduler.intros_jobs.run_intros``) introduces every group in a separate process, as
the scheduler would, paced as production paces itself (``IntroPacers``) but at ``--rate``
calls a second for both ``conversations.open`` and ``chat.postMessage``, which the fake
Slack (``tests/support/fake_slack.py``) enforces as token buckets answering 429 +
``Retry-After`` beyond them. Printed: the time against the floor those limits allow (the
larger of opens / rate and posts / rate; target ≤ 1.2×).

Then the same round on a fresh database, with the sender killed (SIGKILL) right after Slack
took its ``--kill-after``-th intro, before it heard back or recorded it. A new process
resumes at once, and another once the dead one's claim is stale (the clock moved on ten
minutes), which finds that intro in the group DM's history by the key in its metadata.
Printed: duplicates (an intro posted twice) and lost intros (a group never introduced).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select

from bench.calibration import calibration_rate
from bench.pulse_fanout import bench_relationship
from bot.core.db import Database, create_db_engine, migrate
from bot.intros import rounds as intro_rounds
from bot.intros.models import IntroGroup, IntroPreference, IntroSettings
from bot.relationships.models import Role
from bot.slack.models import PersonProfile
from tests.support.fake_slack import TEAM_ID, FakeSlack

BASE = datetime.now(UTC)  # the job's "now" (fixed, so a killed round resumes the same day)
# UTC+14: the working day has begun there by any hour of today's UTC date, so every group
# is due at once
ZONE = ZoneInfo("Pacific/Kiritimati")


class KillingSlack(FakeSlack):
    """The fake Slack, killing ``victim`` right after it posts the ``kill_at``-th intro."""

    kill_at: int | None = None
    victim: subprocess.Popen | None = None
    intros_posted = 0

    def answer(self, method: str, args: dict[str, Any], token: str | None = None) -> dict:
        answered = super().answer(method, args, token)
        if method == "chat.postMessage" and answered.get("ok"):
            self.intros_posted += 1
            if self.intros_posted == self.kill_at and self.victim is not None:
                self.victim.kill()
                self.victim.wait()
        return answered


def seed(url: str, people: int) -> int:
    """Everyone in, zones cached, today's round paired; returns the number of groups."""
    engine = create_db_engine(url)
    migrate(engine)
    db = Database(engine)
    today = BASE.date()
    with db.transaction() as session:
        relationship = bench_relationship(
            session, TEAM_ID, people, BASE, lambda n: Role.FRONTLINE if n % 3 else Role.MANAGER
        )
        users = [f"U{n:07d}" for n in range(people - 2)]
        everyone = [*users, "UCOWNER", "UPOWNER"]
        session.execute(
            insert(IntroPreference),
            [
                {"team_id": TEAM_ID, "relationship_id": relationship.id, "user_id": user,
                 "choice": "in", "left_slack": False}
                for user in everyone
            ],
        )  # fmt: skip
        session.execute(
            insert(PersonProfile),
            [{"team_id": TEAM_ID, "user_id": u, "tz": ZONE.key, "refreshed_at": BASE}
             for u in everyone],
        )  # fmt: skip
        session.add(
            IntroSettings(
                relationship_id=relationship.id, team_id=TEAM_ID, enabled=True, every_weeks=2,
                weekday=today.weekday(), size=2, default_in=True, history_months=12, anchor=today,
            )
        )  # fmt: skip
    with db.transaction() as session:
        (due,) = intro_rounds.due_rounds(session, BASE)
        zones = {person.user_id: ZONE for person in due.participants}
        intro_rounds.open_round(session, due, zones, BASE)
        groups = session.scalar(select(func.count()).select_from(IntroGroup))
    engine.dispose()
    return groups


def worker(url: str, api_url: str, rate: float, offset_minutes: float) -> None:
    """The intros job once, in this process, as the scheduler runs it."""
    from bot.core.settings import Settings
    from bot.services import create_services
    from bot.slack.pacing import Pacer
    from scheduler.intros_jobs import IntroPacers, run_intros

    class FixedClock:
        def now(self) -> datetime:
            return BASE + timedelta(minutes=offset_minutes)

    engine = create_db_engine(url)
    settings = Settings(
        slack_bot_token="xoxb-bench", slack_signing_secret="s", slack_api_url=api_url
    )
    services = create_services(settings, Database(engine), FixedClock())
    started = time.perf_counter()
    tick = run_intros(services, IntroPacers(Pacer(rate), Pacer(rate)))
    print(json.dumps({"seconds": time.perf_counter() - started, "sent": tick.sent}), flush=True)
    services.close()


def run_worker(url: str, fake: KillingSlack, rate: float, offset: float = 0) -> dict | None:
    command = [sys.executable, __file__, "worker", url, fake.api_url, str(rate), str(offset)]
    process = fake.victim = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out, _ = process.communicate()
    fake.victim = None
    return json.loads(out) if process.returncode == 0 else None


def fresh(rate: float) -> KillingSlack:
    fake = KillingSlack().start()
    fake.limit_rate("conversations.open", per_minute=rate * 60, burst=max(1, int(rate)))
    fake.limit_rate("chat.postMessage", per_minute=rate * 60, burst=max(1, int(rate)))
    return fake


def intro_counts(fake: KillingSlack) -> Counter[str]:
    """How often each intro's ledger key reached a conversation."""
    keys: Counter[str] = Counter()
    for messages in fake.messages.values():
        for message in messages:
            key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key", "")
            if key.startswith("intro:"):
                keys[key] += 1
    return keys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("people", nargs="?", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--kill-after", type=int, default=300)
    options = parser.parse_args()
    print(f"calibration: {calibration_rate():,.0f} loops/s")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/paced.db"
        groups = seed(url, options.people)
        fake = fresh(options.rate)
        result = run_worker(url, fake, options.rate)
        assert result is not None
        floor = groups / options.rate  # one open and one post per group, each at the rate
        counts = intro_counts(fake)
        limited = {m: limit.limited for m, limit in fake.rate_limits.items()}
        print(
            f"paced: {options.people} people, {groups} groups: {result['seconds']:.1f} s "
            f"against a floor of {floor:.1f} s (ratio {result['seconds'] / floor:.2f}); "
            f"429s {limited}; lost {groups - len(counts)}, "
            f"duplicates {sum(n - 1 for n in counts.values())}"
        )
        fake.stop()

        url = f"sqlite:///{folder}/killed.db"
        seed(url, options.people)
        fake = fresh(options.rate)
        fake.kill_at = options.kill_after
        first = run_worker(url, fake, options.rate)
        fake.kill_at = None
        resumed = run_worker(url, fake, options.rate)
        taken_over = run_worker(url, fake, options.rate, offset=11)
        counts = intro_counts(fake)
        state = "killed" if first is None else "not killed"
        print(
            f"killed after intro {options.kill_after} ({state}),"
            f" resumed ({(resumed or {}).get('sent')}), stale claim taken over "
            f"({(taken_over or {}).get('sent')}): lost {groups - len(counts)}, "
            f"duplicates {sum(n - 1 for n in counts.values())}"
        )
        fake.stop()


if __name__ == "__main__":
    main()
