"""Every scheduled message exactly once, whatever goes wrong: schedulers racing without the
lock, Slack failing a fifth of all calls at random, two real scheduler processes, and the
active one killed mid-fan-out.

Each test seeds the same due work (``tests.support.due_work``): prompts, reminders, pulse alerts and
check-in reminders, and compares what the fake Slack *posted* with one of each.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.clock import SystemClock
from bot.services import Services
from bot.slack.outbox import STALE_CLAIM
from bot.slack.pacing import WorkspacePacers
from scheduler.checkin_jobs import run_checkin_tick
from scheduler.pulse_jobs import run_pulse
from tests.app.test_cli import free_port, wait_for_health
from tests.app.test_process_roles import Process, slack_env
from tests.conftest import POSTGRES_URL
from tests.support.due_work import (
    held_back,
    ledger,
    scheduled_sends,
    seed_due_work,
    wait_until,
)
from tests.support.helpers import run_as_scheduler, scheduler_services
from tests.support.slack_requests import SIGNING_SECRET, SlackRequests

MEMBERS = 8
CLIENT_TIMEOUT = 0.5  # seconds; the chaos "timeout" answers take longer than this
MAX_TICKS = 30


def run_jobs(services: Services) -> None:
    """What one scheduler tick does for pulse and check-ins."""
    run_pulse(services, WorkspacePacers.unpaced())
    run_checkin_tick(services)


def test_two_schedulers_racing_without_the_lock_send_each_message_once(rapport):
    work = seed_due_work(rapport.db, rapport.clock, MEMBERS, rapport.fake)
    rapport.fake.delay = 0.005  # so the two schedulers' calls interleave
    failures: list[Exception] = []

    def scheduler(start: threading.Barrier) -> None:
        services = scheduler_services(rapport)  # its own Slack clients, as another process
        try:
            start.wait()
            run_jobs(services)
        except Exception as error:  # reported by the assertion below
            failures.append(error)
        finally:
            services.close()

    for _ in range(3):  # ticks, each raced by both schedulers
        start = threading.Barrier(2)
        racers = [threading.Thread(target=scheduler, args=(start,)) for _ in range(2)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(timeout=60)
        rapport.clock.advance(minutes=1)
    assert failures == []
    assert scheduled_sends(rapport.fake) == work.expected()
    assert ledger(rapport.db) == Counter(sent=sum(work.expected().values()))


def test_with_slack_failing_a_fifth_of_calls_every_message_arrives_exactly_once(rapport):
    work = seed_due_work(rapport.db, rapport.clock, MEMBERS, rapport.fake)
    rapport.fake.chaos(0.2, seed=6, retry_after=1, slow_seconds=CLIENT_TIMEOUT + 0.5)
    services = scheduler_services(rapport, slack_timeout_seconds=CLIENT_TIMEOUT)
    quiet, rows = 0, Counter()
    try:
        for _ in range(MAX_TICKS):  # the scheduler's ticks, a minute apart
            run_jobs(services)
            rapport.clock.advance(minutes=1)
            before, rows = rows, ledger(rapport.db)
            quiet = quiet + 1 if rows == before and not rows["pending"] else 0
            if quiet == 2:
                break
    finally:
        services.close()
    faults = Counter(call.fault for call in rapport.fake.calls if call.fault)
    assert {"ratelimited", "internal_error", "service_unavailable", "request_timeout"} <= set(
        faults
    )
    assert scheduled_sends(rapport.fake) == work.expected()
    assert rows == Counter(sent=sum(work.expected().values()))


def active_scheduler(*processes: Process, timeout: float = 30) -> Process:
    """The one of ``processes`` that took the scheduler lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            try:
                process.wait_for("now the active scheduler", timeout=0.2)
                return process
            except AssertionError:
                continue
    raise AssertionError("no process became the active scheduler")


def wait_for_jobs(process: Process, *names: str) -> None:
    """Until ``process`` has finished a run of each job, e.g. ``run_pulse``."""
    waiting = set(names)
    while waiting:
        process.wait_for("executed successfully")
        waiting = {name for name in waiting if f'"{name} ' not in process.seen[-1]}


@pytest.mark.skipif(not POSTGRES_URL, reason="two active processes need PostgreSQL")
def test_two_processes_on_one_database_send_every_message_once(
    tmp_path, fake_slack, db, database_url
):
    work = seed_due_work(db, SystemClock(), MEMBERS, fake_slack)
    env = slack_env(fake_slack, database_url) | {"SLACK_SIGNING_SECRET": SIGNING_SECRET}
    env["LOG_LEVEL"] = "DEBUG"  # APScheduler logs each finished run only at DEBUG
    port = free_port()
    web_and_jobs = Process("run", tmp_path, PORT=str(port), **env)
    jobs_only = Process("scheduler", tmp_path, **env)
    try:
        wait_for_health(f"http://127.0.0.1:{port}/healthz", web_and_jobs.popen)
        slack = SlackRequests(f"http://127.0.0.1:{port}", fake_slack)
        for user in work.members[:4]:  # people use Rapport while the fan-out runs
            assert slack.command("results", command="/pulse", user=user).status == 200
        leader = active_scheduler(web_and_jobs, jobs_only)
        wait_until(lambda: scheduled_sends(fake_slack) == work.expected(), "every send")
        standby = jobs_only if leader is web_and_jobs else web_and_jobs
        assert leader.stop() == 0  # a deploy: the standby takes over and runs every job
        standby.wait_for("now the active scheduler", timeout=30)
        wait_for_jobs(standby, "run_pulse", "run_checkin_tick")
    finally:
        for process in (web_and_jobs, jobs_only):
            process.popen.kill()
    assert scheduled_sends(fake_slack) == work.expected()
    assert ledger(db) == Counter(sent=sum(work.expected().values()))


@pytest.mark.skipif(not POSTGRES_URL, reason="standby schedulers need PostgreSQL")
def test_killing_the_active_scheduler_mid_fan_out_loses_and_doubles_nothing(
    tmp_path, rapport, database_url
):
    fake, db = rapport.fake, rapport.db
    work = seed_due_work(db, SystemClock(), MEMBERS, fake)
    env = slack_env(fake, database_url)
    first, second = Process("scheduler", tmp_path, **env), Process("scheduler", tmp_path, **env)
    killed: list[float] = []

    others = Counter({name: 1 for name in work.expected() if name.startswith(("alert", "check"))})

    def kill_mid_prompt(method: str) -> None:
        """On a prompt, once the alerts and check-in reminders are out (a check-in reminder
        held by a dead sender would be stale only after the check-in began, too late to send):
        only this call is in flight, and its sender dies before Slack has done it."""
        sent = scheduled_sends(fake)
        prompts = sum(1 for name in sent if name.startswith("prompt:"))
        if killed or method != "chat.postMessage" or prompts < MEMBERS // 2:
            return
        if sent & others != others:
            return
        if ledger(db)["pending"] == 1:  # this call's claim, and nothing else in flight
            leader.popen.kill()
            leader.popen.wait()
            killed.append(time.monotonic())

    try:
        leader = active_scheduler(first, second)
        standby = second if leader is first else first
        fake.before_answer = kill_mid_prompt
        standby.wait_for("now the active scheduler", timeout=60)
        assert killed and time.monotonic() - killed[0] < 30
        # a killed process has at most one call in flight; it may also have died holding a
        # claim it had not sent yet (or the one claim pending was the standby's, as standbys
        # send too): whatever it held waits for now, everything else the standby sends, after
        # its own turn ends (up to TURN_SECONDS)
        assert sum(1 for call in fake.calls if call.fault == "abandoned") <= 1
        wait_until(
            lambda: scheduled_sends(fake) == work.expected() - held_back(db),
            "the standby's fan-out",
            timeout=120,
        )
        assert standby.stop() == 0
    finally:
        first.popen.kill()
        second.popen.kill()
    # ten minutes on, the next tick takes over the claim the killed leader left in flight
    rapport.clock.current = datetime.now(UTC) + STALE_CLAIM + timedelta(minutes=1)
    run_as_scheduler(rapport, run_jobs)
    assert scheduled_sends(fake) == work.expected()
    assert ledger(db) == Counter(sent=sum(work.expected().values()))
