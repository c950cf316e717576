"""rapport web / scheduler / run as separate processes, and one active scheduler at a time."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot import serving
from bot.core.settings import Settings
from bot.slack.token_cipher import KEY_VARIABLE
from bot.web import RapportWsgi
from scheduler.leader import LeaderElection
from tests.app.test_cli import free_port, migrated_sqlite, rapport_env, run_rapport, wait_for_health
from tests.conftest import POSTGRES_URL
from tests.support.metrics import scrape, value
from tests.support.signals import sigterm_through_another_thread
from tests.support.slack_requests import SIGNING_SECRET, SlackRequests


class Process:
    """A rapport process whose stderr lines can be awaited: ``rapport <role> <args>``, or the
    whole command line when ``role`` is a list."""

    def __init__(self, role: str | list[str], cwd, *args: str, **env: str):
        self.popen = subprocess.Popen(
            role if isinstance(role, list) else [sys.executable, "-m", "bot", role, *args],
            cwd=cwd,
            env=rapport_env(**env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.popen.stderr:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return
        raise AssertionError(f"never saw {text!r}; saw: {''.join(self.seen)[-2000:]}")

    def stop(self, through_another_thread: bool = False) -> int:
        if through_another_thread:
            sigterm_through_another_thread(self.popen.pid)
        else:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=20)
        finally:
            self.popen.kill()


def slack_env(fake_slack, database_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": fake_slack.api_url,
        "DATABASE_URL": database_url,
    }


class FakeLock:
    def __init__(self, free: bool):
        self.free, self.mine = free, False

    def acquire(self) -> bool:
        self.mine = self.free
        return self.mine

    def still_held(self) -> bool:
        return self.mine

    def release(self) -> None:
        self.mine = False


class FakeScheduler:
    def __init__(self):
        self.running = False

    def start(self):
        self.running = True

    def shutdown(self, wait: bool = True):
        self.running = False


def test_a_standby_takes_over_when_the_lock_frees_and_steps_down_when_it_is_lost():
    lock, scheduler = FakeLock(free=False), FakeScheduler()
    election = LeaderElection(lock, lambda: scheduler)
    election.step()
    assert not election.leading and not scheduler.running
    lock.free = True
    election.step()
    assert election.leading and scheduler.running
    lock.mine = False  # e.g. PostgreSQL restarted and the session is gone
    election.step()
    assert not election.leading and not scheduler.running


def test_web_refuses_to_start_on_a_database_that_needs_migrating(tmp_path, fake_slack):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = run_rapport("web", cwd=tmp_path, **slack_env(fake_slack, url))
    assert result.returncode == 1
    assert "run `rapport migrate` once" in result.stderr


def test_web_serves_slack_without_running_the_scheduler(tmp_path, fake_slack):
    url = migrated_sqlite(tmp_path)
    port = free_port()
    web = Process("web", tmp_path, PORT=str(port), **slack_env(fake_slack, url))
    try:
        assert wait_for_health(f"http://127.0.0.1:{port}/healthz", web.popen)["status"] == "ok"
        scheduler = Process("scheduler", tmp_path, **slack_env(fake_slack, url))
        scheduler.wait_for("now the active scheduler")  # web didn't take the lock
        assert scheduler.stop() == 0
    finally:
        assert web.stop() == 0
    assert not (tmp_path / "r.db.scheduler.lock").read_text()  # nothing written, just locked


def test_a_second_scheduler_on_sqlite_refuses_with_a_clear_message(tmp_path, fake_slack):
    url = migrated_sqlite(tmp_path)
    first = Process("scheduler", tmp_path, **slack_env(fake_slack, url))
    try:
        first.wait_for("now the active scheduler")
        second = run_rapport("scheduler", cwd=tmp_path, **slack_env(fake_slack, url))
        assert second.returncode == 1
        assert "Another Rapport scheduler is already running" in second.stderr
        also_run = run_rapport(
            "run", cwd=tmp_path, PORT=str(free_port()), **slack_env(fake_slack, url)
        )
        assert also_run.returncode == 1 and "only one may" in also_run.stderr
    finally:
        assert first.stop() == 0
    after = Process("scheduler", tmp_path, **slack_env(fake_slack, url))
    after.wait_for("now the active scheduler")
    assert after.stop() == 0


def children_of(pid: int) -> set[int]:
    """Live processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # it just exited
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("role", ["run", "web"])
def test_workers_serve_signed_requests_and_all_stop_on_sigterm(tmp_path, fake_slack, role):
    url = migrated_sqlite(tmp_path)
    port = free_port()
    env = {**slack_env(fake_slack, url), "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    rapport = Process(role, tmp_path, "--workers", "2", PORT=str(port), **env)
    try:
        rapport.wait_for("serving with 2 web workers of 4 request threads")
        (server,) = children_of(rapport.popen.pid)  # (the parent serves nothing itself)
        assert wait_for_health(f"http://127.0.0.1:{port}/healthz", rapport.popen)
        workers = children_of(server)
        assert len(workers) == 2
        for _ in range(4):  # new connections each time: workers race to accept them
            reply = SlackRequests(f"http://127.0.0.1:{port}", fake_slack).command("help")
            assert reply.status == 200 and "/rapport setup" in reply.text
        for _ in range(3):  # whichever worker answers, /metrics adds up every process
            _, samples = scrape(f"http://127.0.0.1:{port}")
            assert value(samples, "rapport_slack_ack_seconds_count", kind="command:/rapport") == 4
            # auth.test: the parent checked the token before forking, and the answering
            # worker's Bolt app did as it started (the other may still be starting)
            checked = {"method": "auth.test", "outcome": "ok"}
            assert value(samples, "rapport_slack_calls_total", **checked) >= 2
        if role == "run":  # the scheduler runs once, in the parent
            rapport.wait_for("now the active scheduler")
            assert value(scrape(f"http://127.0.0.1:{port}")[1], "rapport_scheduler_leading") == 1
            other = run_rapport("scheduler", cwd=tmp_path, **env)
            assert other.returncode == 1 and "already running" in other.stderr
    finally:  # with the scheduler's threads in the parent, the SIGTERM may reach one of them
        assert rapport.stop(through_another_thread=role == "run") == 0
    assert not any(is_running(pid) for pid in (server, *workers))
    rapport.wait_for("Rapport stopped")


def test_a_lone_worker_on_sqlite_answers_on_one_thread(tmp_path, fake_slack):
    # its threads would only hand the interpreter lock to each other (serving.REQUEST_THREADS)
    assert serving.request_threads("sqlite:///rapport.db", workers=1) == 1
    assert serving.request_threads("sqlite:///rapport.db", workers=2) == 4
    assert serving.request_threads("postgresql+psycopg://rapport@db/rapport", workers=1) == 4
    port = free_port()
    env = {
        **slack_env(fake_slack, migrated_sqlite(tmp_path)),
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    }
    rapport = Process("web", tmp_path, PORT=str(port), **env)
    try:
        rapport.wait_for("serving with 1 web worker of 1 request thread ")
        assert wait_for_health(f"http://127.0.0.1:{port}/healthz", rapport.popen)
        slack = SlackRequests(f"http://127.0.0.1:{port}", fake_slack)
        with ThreadPoolExecutor(8) as senders:  # at once: they wait their turn, none is refused
            replies = list(senders.map(lambda _: slack.command("list"), range(16)))
        assert [reply.status for reply in replies] == [200] * 16
        assert {reply.text for reply in replies} == {"Your relationships"}
    finally:
        assert rapport.stop() == 0


def test_workers_are_refused_for_socket_mode_and_need_a_sensible_count(tmp_path, fake_slack):
    env = slack_env(fake_slack, f"sqlite:///{tmp_path / 'r.db'}")
    socket_mode = run_rapport(
        "run", "--workers", "2", cwd=tmp_path, SLACK_APP_TOKEN="xapp-1", **env
    )
    assert socket_mode.returncode == 2 and "Socket Mode" in socket_mode.stderr
    for count in ("0", "two", "1000"):
        refused = run_rapport("web", "--workers", count, cwd=tmp_path, **env)
        assert refused.returncode == 2 and "number of workers from 1 to 64" in refused.stderr


@pytest.mark.skipif(not POSTGRES_URL, reason="standby schedulers need PostgreSQL")
def test_on_postgresql_a_standby_takes_over_within_30_seconds_of_the_leader_dying(
    tmp_path, fake_slack, database_url
):
    env = slack_env(fake_slack, database_url)
    leader = Process("scheduler", tmp_path, **env)
    leader.wait_for("now the active scheduler")
    standby = Process("scheduler", tmp_path, **env)
    try:
        standby.wait_for("standing by")
        leader.popen.kill()  # no goodbye: the session just disappears
        killed_at = time.monotonic()
        standby.wait_for("now the active scheduler", timeout=30)
        assert time.monotonic() - killed_at < 30
    finally:
        leader.popen.kill()
        assert standby.stop() == 0


def test_a_web_worker_keeps_secrets_out_of_the_environment_its_requests_see(
    monkeypatch, fake_slack, database_url
):
    """Granian starts each request's WSGI environ from a copy of the worker's environment:
    once the app is built from the settings, the secrets are no longer in it."""
    for name in ("SLACK_SIGNING_SECRET", "SLACK_CLIENT_SECRET", "DATABASE_URL", KEY_VARIABLE):
        monkeypatch.setenv(name, "secret")
    monkeypatch.setenv("PORT", "3000")
    settings = Settings(
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        database_url=database_url,
    )
    app = serving._worker_app(settings)
    try:
        assert "secret" not in os.environ.values()
        assert os.environ["PORT"] == "3000"  # the rest stays
        assert isinstance(app, RapportWsgi)
    finally:
        app._db.engine.dispose()


def test_a_web_worker_that_dies_stops_rapport_with_a_failure_status(tmp_path, fake_slack):
    """So that whatever supervises Rapport (systemd) sees it and starts it again."""
    url = migrated_sqlite(tmp_path)
    port = free_port()
    rapport = Process(
        "web", tmp_path, "--workers", "2", PORT=str(port), **slack_env(fake_slack, url)
    )
    try:
        rapport.wait_for("serving with 2 web workers")
        (server,) = children_of(rapport.popen.pid)
        assert wait_for_health(f"http://127.0.0.1:{port}/healthz", rapport.popen)
        workers = children_of(server)
        os.kill(min(workers), signal.SIGKILL)
        assert rapport.popen.wait(timeout=30) == 1
        rapport.wait_for("the web server exited")
        rapport.wait_for("Rapport stopped")
    finally:
        rapport.popen.kill()
    assert not any(is_running(pid) for pid in (server, *workers))


def test_workers_stopped_while_they_start_stop_at_once(tmp_path, fake_slack):
    """A SIGTERM that comes while the workers still load the app (systemctl restart just
    after a start) stops them then, rather than after the server's 20 s kill timeout."""
    url = migrated_sqlite(tmp_path)
    port = free_port()
    rapport = Process(
        "web", tmp_path, "--workers", "2", PORT=str(port), **slack_env(fake_slack, url)
    )
    rapport.wait_for("serving with 2 web workers")
    (server,) = children_of(rapport.popen.pid)
    while len(children_of(server)) < 2:  # forked, and loading the app for a second or more
        time.sleep(0.01)
    started = time.monotonic()
    assert rapport.stop() == 0
    assert time.monotonic() - started < serving.STOP_SECONDS / 2
    rapport.wait_for("Rapport stopped")
