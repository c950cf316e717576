"""Pulse prompts to many workspaces on PostgreSQL, by one sending process and by two.

Run from the repository root, on a scratch PostgreSQL database (it is wiped):

    python bench/sending_scale.py postgresql+psycopg://…/scratch [--workspaces 1000]
        [--members 100] [--latency 0.1] [--scenario one two killed ratelimited …] [--seeded]
        [--sender-cores 0.3]

Each workspace installs Rapport (its own encrypted bot token) and has one relationship of
``--members`` people with a pulse round opened now (``/pulse send``), so every prompt is due
at once. The fake Slack (``tests/support/fake_slack.py``) runs in a process of its own,
answers every call after ``--latency`` seconds and enforces Slack's per-workspace limit on
chat.postMessage (20 a second, bursts of 20; 429 + ``Retry-After`` beyond). Senders are
processes running the real pulse tick back to back, as a busy scheduler does: the active
scheduler's ``run_pulse`` and, with two, a standby's ``run_pulse_sends``, until a tick finds
nothing left that it may send. Scenarios:

* ``one``: one sending process; ``two``: two, sharing the workspaces (target ≥ 1.8× faster);
* ``killed``: two, one SIGKILLed half-way; the claims it left in flight are taken over once
  stale (10 minutes), simulated by a last tick with the clock moved on: lost and duplicated
  prompts (both must be 0);
* ``ratelimited``: one process; one workspace answers every call 429 (``Retry-After: 60``)
  for 10 minutes: how much later the other workspaces' last prompt went out than in ``one``
  (target: at most one tick, 60 s).

On one 2-core machine the senders share their cores with PostgreSQL and the fake Slack, so
a second sender finds no CPU to use. ``--sender-cores F`` (root; cgroup v1's cpu
controller) holds each sender to F of a core with a CPU cgroup of its own, standing in for
a machine of its own: then one sender is held to its budget and a second brings its own, as
in a deployment with a sending process per machine, and the ``two``/``one`` ratio shows
what the sharing itself costs.

Also the scheduler's "what is due" step at that size (``open_due_rounds``,
``note_prompted_rounds`` and ``rounds_with_work``; target < 100 ms a tick) with everything
due, with nothing left (everyone prompted, reminders not due yet) and with everyone reminded.
Figures are printed beside the calibration loop (``bench/calibration.py``) run in this process.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import Engine, delete, func, insert, literal, select, text, update

from bench.calibration import calibration_rate
from bot.core.clock import SystemClock
from bot.core.db import Database, create_db_engine
from bot.core.settings import Settings
from bot.pulse.models import PulseRecipient, PulseRound, RecipientStatus
from bot.pulse.prompts import note_prompted_rounds, rounds_with_work
from bot.pulse.rounds import open_due_rounds, open_round_now
from bot.relationships.models import Member, Side
from bot.relationships.setup import RelationshipDraft, create_relationship
from bot.slack.installations import InstallationStore
from bot.slack.models import SendStatus, SentMessage
from tests.support.fake_slack import TOKEN_LENGTH, FakeSlack
from tests.support.fresh_db import fresh_database

KEY = "sX7xIiuWfs4uWAqTB1KNuSSXnH3PfEBzKD-TjzyusdU="  # a scratch RAPPORT_ENCRYPTION_KEY
TICK = 60  # seconds between scheduler ticks
BAD_TEAM = "T0WS00000"


def team(n: int) -> str:
    return f"T0WS{n:05d}"


def token(team_id: str) -> str:
    return f"xoxb-{team_id}-1-".ljust(TOKEN_LENGTH, "x")


def settings(api_url: str = "http://127.0.0.1:9/api/") -> Settings:
    return Settings(
        slack_bot_token="",
        slack_signing_secret="s",
        slack_api_url=api_url,
        slack_client_id="1.2",
        slack_client_secret="secret",
        encryption_keys=(KEY,),
    )


def install(store: InstallationStore, team_id: str) -> None:
    """Rapport installed in ``team_id`` through OAuth: its bot token, stored encrypted."""
    store.save(
        Installation(
            app_id="ARAPPORT", enterprise_id=None, team_id=team_id, team_name=team_id,
            bot_token=token(team_id), bot_id="BRAPPORT", bot_user_id="UBOTRAPPORT",
            user_id="UOWNER",
        )
    )  # fmt: skip


def seed(url: str, workspaces: int, members: int) -> None:
    db = fresh_database(url)
    store = InstallationStore(settings(), db, SystemClock())
    now = datetime.now(UTC)
    for n in range(workspaces):
        team_id = team(n)
        install(store, team_id)
        people = [f"U{n:05d}{k:04d}" for k in range(members - 2)]
        draft = RelationshipDraft(
            name=f"Client {n} ⇄ Provider",
            client_org=f"Client {n}",
            provider_org="Provider",
            creator_side=Side.CLIENT,
            client_members=tuple(people[::2]),
            provider_owners=(f"UPOWN{n:05d}",),
            provider_members=tuple(people[1::2]),
        )
        with db.transaction() as session:
            relationship = create_relationship(
                session, team_id, f"UCOWN{n:05d}", draft, now - timedelta(days=1)
            )
            open_round_now(session, relationship, f"UCOWN{n:05d}", now - timedelta(minutes=1))
    db.engine.dispose()


def reset(url: str) -> None:
    """Nothing sent yet: every round's prompts due again (and no round noted as prompted)."""
    engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.execute(delete(SentMessage))
        connection.execute(delete(PulseRecipient))
        connection.execute(update(PulseRound).values(prompted_generation=None))
    vacuum(engine)
    engine.dispose()


def vacuum(engine: Engine) -> None:
    """Clear away the rows the bench deleted, as autovacuum would in time: a database in use
    doesn't delete and insert 100,000 prompts at once between two ticks."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in (SentMessage, PulseRecipient, PulseRound):
            connection.execute(text(f"VACUUM ANALYZE {table.__tablename__}"))


def mark_everyone_prompted(url: str, reminded: bool) -> None:
    """Every member of every round prompted (as after a fan-out), and reminded or not."""
    engine = create_db_engine(url)
    columns = ["team_id", "round_id", "user_id", "side", "role", "status", "reminded"]
    everyone = select(
        Member.team_id,
        PulseRound.id,
        Member.user_id,
        Member.side,
        Member.role,
        literal(RecipientStatus.SENT),
        literal(reminded),
    ).join(PulseRound, PulseRound.relationship_id == Member.relationship_id)
    with engine.begin() as connection:
        connection.execute(delete(PulseRecipient))
        connection.execute(insert(PulseRecipient).from_select(columns, everyone))
        connection.execute(update(PulseRound).values(prompted_generation=None))  # not noted
    vacuum(engine)
    engine.dispose()


def due_step_ms(url: str, repeats: int = 7) -> tuple[float, float, float]:
    """The pulse tick's "what is due", in ms: opening due rounds, then noting the rounds
    whose members all have their prompt and finding the rounds with members to prompt or
    remind (median of ``repeats`` ticks, each on a new ``now``); and the first tick's second
    part, which here must note every round itself (a sender notes the rounds it finished as
    it goes, so a tick does this only for rounds a sender didn't: one that died, say)."""
    db = Database(create_db_engine(url))
    opening, finding = [], []
    for _ in range(repeats):
        now = datetime.now(UTC)
        started = time.perf_counter()
        with db.transaction() as session:
            open_due_rounds(session, now)
        opening.append(time.perf_counter() - started)
        started = time.perf_counter()
        with db.transaction() as session:
            note_prompted_rounds(session, now)
        with db.read() as session:
            rounds_with_work(session, now)
        finding.append(time.perf_counter() - started)
    db.engine.dispose()
    median = statistics.median
    return median(opening) * 1000, median(finding) * 1000, finding[0] * 1000


# -- the fake Slack's process ----------------------------------------------------------------


def slack_process(latency: float, workspaces: int, bad_for: float) -> None:
    """Serve the fake Slack; print its URL; on a line on stdin, print what it posted."""
    fake = FakeSlack()
    fake.teams.update({team(n): team(n) for n in range(workspaces)})
    fake.delay = latency
    fake.limit_rate("chat.postMessage", per_minute=20 * 60, burst=20)
    if bad_for:
        fake.rate_limit("chat.postMessage", retry_after=TICK, times=None, team=BAD_TEAM)
        threading.Timer(bad_for, fake.clear_faults).start()
    fake.start()
    print(fake.api_url, flush=True)
    sys.stdin.readline()
    last: dict[str, float] = {}
    keys: Counter[str] = Counter()
    for call in fake.done("chat.postMessage"):
        keys[call.args["metadata"]["event_payload"]["key"]] += 1
        workspace = fake.team_of(call.token)
        last[workspace] = max(last.get(workspace, 0.0), call.at)
    limited = sum(limit.limited for limit in fake.rate_limits.values())
    print(json.dumps({"keys": keys, "last": last, "limited": limited}))
    fake.stop()


class SlackProcess:
    def __init__(self, latency: float, workspaces: int, bad_for: float = 0):
        command = [sys.executable, __file__, "slack", str(latency), str(workspaces), str(bad_for)]
        self.popen = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.api_url = self.popen.stdout.readline().strip()

    def report(self) -> dict:
        self.popen.stdin.write("report\n")
        self.popen.stdin.flush()
        return json.loads(self.popen.stdout.readline())


# -- a sending process -------------------------------------------------------------------------


def sender_process(url: str, api_url: str, role: str, offset_minutes: float) -> None:
    """Pulse ticks back to back, until one sends nothing new (a claim in flight elsewhere
    is left to its owner, or to the takeover once stale)."""
    from bot.services import create_services
    from scheduler.pulse_jobs import run_pulse, run_pulse_sends

    class MovedClock:
        def now(self) -> datetime:
            return datetime.now(UTC) + timedelta(minutes=offset_minutes)

    services = create_services(settings(api_url), Database(create_db_engine(url)), MovedClock())
    job = run_pulse if role == "active" else run_pulse_sends
    sent = 0
    while True:
        tick = job(services)
        sent += tick.prompts.get("sent", 0)
        if not tick.prompts.get("sent") and not tick.prompts.get("retry"):
            break
    print(json.dumps({"sent": sent}), flush=True)
    services.close()


def start_sender(
    url: str, api_url: str, role: str, offset: float = 0, cores: float | None = None
) -> subprocess.Popen:
    command = [sys.executable, __file__, "sender", url, api_url, role, str(offset)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    if cores is not None:
        CpuBudget(process.pid, cores)
    return process


class CpuBudget:
    """A CPU cgroup of its own for process ``pid``, holding it to ``cores`` of a core, with
    the cgroup v1 ``cpu`` controller (as root). Its directory is removed once the process
    has gone (``remove_all``)."""

    PERIOD_US = 100_000
    CONTROLLER = Path("/sys/fs/cgroup/cpu")
    made: ClassVar[list[Path]] = []

    def __init__(self, pid: int, cores: float):
        if not (self.CONTROLLER / "cpu.cfs_quota_us").exists():
            raise SystemExit(
                f"--sender-cores needs cgroup v1's cpu controller at {self.CONTROLLER}"
            )
        group = self.CONTROLLER / f"rapport-bench-{pid}"
        group.mkdir()
        self.made.append(group)
        (group / "cpu.cfs_period_us").write_text(str(self.PERIOD_US))
        (group / "cpu.cfs_quota_us").write_text(str(round(cores * self.PERIOD_US)))
        (group / "cgroup.procs").write_text(str(pid))

    @classmethod
    def remove_all(cls) -> None:
        while cls.made:
            cls.made.pop().rmdir()


def reap(process: subprocess.Popen) -> float:
    """Wait for a sender to exit; the CPU seconds it used (user and system)."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def sent_rows(url: str) -> int:
    engine = create_db_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).where(SentMessage.status == SendStatus.SENT))
    engine.dispose()
    return count or 0


# -- scenarios -----------------------------------------------------------------------------------


def scenario(url: str, args: argparse.Namespace, senders: int, kill: bool = False, bad=0.0):
    """Seconds until the last prompt went out, per workspace; lost, duplicates, 429s."""
    reset(url)
    slack = SlackProcess(args.latency, args.workspaces, bad)
    started = time.monotonic()
    cores = args.sender_cores
    processes = [start_sender(url, slack.api_url, "active", cores=cores)]
    processes += [
        start_sender(url, slack.api_url, "standby", cores=cores) for _ in range(senders - 1)
    ]
    expected = args.workspaces * args.members
    if kill:
        while sent_rows(url) < expected // 2:
            time.sleep(0.2)
        os.kill(processes[0].pid, signal.SIGKILL)
    cpu = sum(reap(process) for process in processes)
    CpuBudget.remove_all()
    if kill:  # ten minutes on, the claims the killed process left are taken over
        cpu += reap(start_sender(url, slack.api_url, "active", offset=11))
    report = slack.report()
    slack.popen.wait()
    # time.monotonic() is the system's clock, the same in every process on the machine
    last = {workspace: at - started for workspace, at in report["last"].items()}
    keys = Counter(report["keys"])
    return {
        "last": last,
        "all_out": max(last.values()),
        "sent": len(keys),
        "lost": expected - len(keys) - (args.members if bad else 0),
        "duplicates": sum(count - 1 for count in keys.values()),
        "limited": report["limited"],
        "cpu": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url", help="a scratch PostgreSQL database (wiped)")
    parser.add_argument("--workspaces", type=int, default=1000)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.1, help="the fake's answer, s")
    parser.add_argument("--scenario", nargs="*", default=["one", "two", "killed", "ratelimited"])
    parser.add_argument(
        "--sender-cores",
        type=float,
        help="hold each sender to this share of a core (a CPU cgroup each; root)",
    )
    parser.add_argument(
        "--seeded", action="store_true", help="the database holds this size already: no seeding"
    )
    args = parser.parse_args()
    rate = calibration_rate()
    print(f"calibration: {rate:,.0f} loops/CPU-second (bench/calibration.py)")
    seeding = time.perf_counter()
    if not args.seeded:
        seed(args.database_url, args.workspaces, args.members)
    total = args.workspaces * args.members
    print(
        f"{args.workspaces} workspaces × {args.members} members = {total:,} prompts "
        f"(seeded in {time.perf_counter() - seeding:.0f} s); Slack answers in "
        f"{args.latency * 1000:.0f} ms, 20 posts/s per workspace"
        + (f"; each sender held to {args.sender_cores} of a core" if args.sender_cores else "")
    )
    results = {}
    for name in args.scenario:
        senders, kill = (1, False) if name in ("one", "ratelimited") else (2, name == "killed")
        bad = 600.0 if name == "ratelimited" else 0.0
        results[name] = found = scenario(args.database_url, args, senders, kill, bad)
        print(
            f"{name}: every prompt out after {found['all_out']:.1f} s "
            f"({found['all_out'] * rate / 1e6:.1f} M calibration loops; "
            f"{found['sent'] / found['all_out']:.0f} prompts/s); lost {found['lost']}, "
            f"duplicates {found['duplicates']}, 429s {found['limited']}; the senders' CPU "
            f"{found['cpu'] / found['sent'] * 1000:.2f} ms a prompt "
            f"({found['cpu'] / found['sent'] * rate:,.0f} calibration loops)"
        )
    if "one" in results and "two" in results:
        speedup = results["one"]["all_out"] / results["two"]["all_out"]
        print(f"two senders vs one: {speedup:.2f}× faster (target ≥ 1.8×)")
    if "one" in results and "ratelimited" in results:
        others = [t for w, t in results["ratelimited"]["last"].items() if w != BAD_TEAM]
        delay = max(others) - results["one"]["all_out"]
        print(
            f"one workspace answering 429 for 10 min: the others' last prompt {delay:+.1f} s "
            f"vs no such workspace (target ≤ one tick, {TICK} s)"
        )
    reset(args.database_url)
    for state in ("everything due", "nothing left", "everyone reminded"):
        if state != "everything due":
            mark_everyone_prompted(args.database_url, reminded=state == "everyone reminded")
        opening, finding, first = due_step_ms(args.database_url)
        print(
            f"'what is due' per tick, {state}: open_due_rounds {opening:.1f} ms + "
            f"note_prompted_rounds and rounds_with_work {finding:.1f} ms (a first tick "
            f"noting every round itself: {first:.1f} ms) = {opening + finding:.1f} ms "
            f"({(opening + finding) / 1000 * rate / 1e3:.1f} k calibration loops; "
            f"target < 100 ms)"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "slack":
        slack_process(float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "sender":
        sender_process(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
    else:
        main()
