"""The ``rapport`` command as a person runs it: real processes, real signals."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.core.db import create_db_engine
from bot.drift.tone import tone_model
from tests.support.fake_slack import FakeSlack
from tests.support.signals import sigterm_through_another_thread
from tests.support.slack_requests import SIGNING_SECRET, SlackRequests

REPO = Path(__file__).resolve().parents[2]


def rapport_env(**values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_", "RAPPORT_ENCRYPTION_"))
    }
    env["PYTHONPATH"] = str(REPO)
    env.update(values)
    return env


def run_rapport(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=rapport_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_run_with_nothing_set_explains_and_exits_non_zero(tmp_path):
    result = run_rapport("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in result.stderr
    assert "SLACK_SIGNING_SECRET is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_reads_tokens_from_dotenv_and_rejects_a_bad_one(tmp_path, fake_slack, database_url):
    (tmp_path / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-revoked\nSLACK_SIGNING_SECRET=abc\n"
        f"SLACK_API_URL={fake_slack.api_url}\nDATABASE_URL={database_url}\n"
    )
    fake_slack.fail("auth.test", "invalid_auth", times=None)
    result = run_rapport("run", cwd=tmp_path)
    assert result.returncode == 1
    assert "didn't accept SLACK_BOT_TOKEN" in result.stderr and "invalid_auth" in result.stderr
    assert "Traceback" not in result.stderr
    assert fake_slack.calls_to("auth.test")[0].token == "xoxb-revoked"


def test_migrate_creates_the_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = run_rapport("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    tables = set(inspect(create_db_engine(url)).get_table_names())
    assert {"relationships", "members", "watched_channels", "alembic_version"} <= tables


def test_migrate_with_unreachable_database_says_so(tmp_path):
    result = run_rapport("migrate", cwd=tmp_path, DATABASE_URL="sqlite:////no/such/dir/x.db")
    assert result.returncode == 1
    assert "couldn't prepare its database" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "database_url",
    [
        "postgresql+psycopg://rapport@no-such-host.invalid:5432/rapport",  # unknown host
        "postgresql+psycopg2://rapport@127.0.0.1:5432/rapport",  # a driver not installed
        "postgresql://rapport@127.0.0.1:notaport/rapport",  # no port number
    ],
)
@pytest.mark.parametrize("command", ["run", "migrate"])
def test_a_database_url_that_cant_be_used_is_explained(tmp_path, fake_slack, command, database_url):
    result = run_rapport(
        command,
        cwd=tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="abc",
        SLACK_API_URL=fake_slack.api_url,  # `run` checks the token first
        DATABASE_URL=database_url,
    )
    assert result.returncode in (1, 2)  # 2: refused with the other settings problems
    assert "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_on_a_port_in_use_says_so(tmp_path, fake_slack):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_rapport(
            "run",
            cwd=tmp_path,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET="abc",
            SLACK_API_URL=fake_slack.api_url,
            PORT=str(port),
        )
    assert result.returncode == 1
    assert f"Port {port} is already in use: stop the other program or set PORT." in result.stderr
    assert "Traceback" not in result.stderr
    assert "migration" not in result.stderr  # it said so before doing anything else


def test_run_serves_slack_and_health_then_stops_cleanly_on_sigterm(tmp_path, fake_slack):
    port = free_port()
    process = start_run(tmp_path, fake_slack, port)
    try:
        health = wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        assert health == {"status": "ok", "database": "ok"}
        reply = SlackRequests(f"http://127.0.0.1:{port}", fake_slack).command("help")
        assert reply.status == 200 and "/rapport setup" in reply.text
        assert status_of_an_absurd_body(port) == b"413"  # told before one byte is sent
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "Rapport stopped" in stderr
    assert (tmp_path / "rapport.db").exists()  # the SQLite default, next to where it runs


def status_of_an_absurd_body(port: int) -> bytes:
    """The status code granian's worker answers to 20 MB announced, none of it sent."""
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: rapport\r\nContent-Type: application/json\r\n"
        "X-Slack-Request-Timestamp: 1\r\nX-Slack-Signature: v0=1\r\n"
        f"Content-Length: {20 * 1000 * 1000}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head.encode())
        return connection.makefile("rb").readline().split()[1]


def start_run(cwd: Path, fake_slack: FakeSlack, port: int, **env: str) -> subprocess.Popen:
    """`rapport run` on ``port`` in the background, talking to the fake Slack with a bot
    token (and ``env`` on top), its output captured as text."""
    settings = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "PORT": str(port),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=cwd,
        env=rapport_env(**settings | env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stopped_within(process: subprocess.Popen, seconds: float) -> tuple[str, str]:
    """``process``'s output once it exits; a failure showing where each of its threads was,
    should it still run after ``seconds`` (it needs PYTHONFAULTHANDLER=1 for that)."""
    try:
        return process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)  # the fault handler prints every thread's stack
        _, stderr = process.communicate(timeout=30)
        pytest.fail(f"still running {seconds:.0f} s after SIGTERM:\n{stderr[-8000:]}")


def migrated_sqlite(tmp_path: Path) -> str:
    """The URL of a SQLite database in ``tmp_path`` that ``rapport migrate`` has set up."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    assert run_rapport("migrate", cwd=tmp_path, DATABASE_URL=url).returncode == 0
    return url


def wait_for_health(url: str, process: subprocess.Popen) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"rapport exited early: {process.communicate()[1]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return json.loads(answer.read())
        except OSError:
            time.sleep(0.2)
    raise AssertionError("rapport never became healthy")


@pytest.mark.parametrize("taken_by", ["main thread", "another thread"])
def test_socket_mode_connects_with_the_app_token_and_opens_no_port(tmp_path, fake_slack, taken_by):
    port = free_port()
    process = start_run(
        tmp_path, fake_slack, port, SLACK_APP_TOKEN="xapp-1-test", PYTHONFAULTHANDLER="1"
    )
    try:
        (opened, *_) = fake_slack.wait_for("apps.connections.open", timeout=30)
        assert opened.token == "xapp-1-test"
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
        if taken_by == "main thread":
            process.send_signal(signal.SIGTERM)
        else:  # the kernel may hand it to any of the connection's or scheduler's threads
            time.sleep(1)  # (once the main thread has nothing left to do but wait)
            sigterm_through_another_thread(process.pid)
        _, stderr = stopped_within(process, seconds=15)
    finally:
        process.kill()
    assert process.returncode == 0
    assert "Socket Mode" in stderr and "Rapport stopped" in stderr


def test_installed_console_script_migrates_from_the_packaged_revisions(tmp_path):
    script = Path(sys.executable).parent / "rapport"
    assert script.exists(), "install the project first: pip install '.[test]'"
    url = f"sqlite:///{tmp_path / 'packaged.db'}"
    env = {k: v for k, v in rapport_env(DATABASE_URL=url).items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [str(script), "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "relationships" in set(inspect(create_db_engine(url)).get_table_names())


def test_classify_scores_stdin_lines_as_json_without_any_configuration(tmp_path):
    process = subprocess.run(
        [sys.executable, "-m", "bot", "classify", "--json"],
        input="Please be advised this is out of scope as per clause 7.2\n\nlunch on Friday?\n",
        cwd=tmp_path,
        env=rapport_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 0, process.stderr
    formal, friendly = (json.loads(line) for line in process.stdout.splitlines())
    assert formal["score"] >= 0.5 > friendly["score"]
    assert any(cue.startswith("scope dispute") for cue in formal["cues"])
    assert friendly == {
        "text": "lunch on Friday?",
        "score": friendly["score"],
        "cues": [],
        "formal": False,
        "kinds": [],
        "model": tone_model().version,
        "lexicon_score": 0.0,
        "sounds_like": None,
    }
