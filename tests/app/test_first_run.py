"""A first start as a new user makes it: a copied .env.example, a mistyped DATABASE_URL, a
Slack that can't be reached, `--help`. Each is explained in a line that says what to fix,
leaves nothing behind, and a start that works logs nothing a person has to wonder about."""

from __future__ import annotations

import re
import shutil
import signal
import socket
from collections.abc import Iterator
from importlib.metadata import version

import pytest
from sqlalchemy.engine import make_url

from tests.app.test_cli import (
    REPO,
    free_port,
    run_rapport,
    start_run,
    wait_for_health,
)
from tests.app.test_manifest import MANIFEST
from tests.conftest import POSTGRES_URL

EXAMPLE_ASSIGNMENT = re.compile(r"^#?\s*([A-Z_]+)=(.*)$")


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def port_in_use() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        yield taken.getsockname()[1]


def sqlite_leftovers(directory) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if path.name.startswith("rapport.db"))


def test_an_unedited_copy_of_env_example_is_named_not_sent_to_slack(tmp_path, fake_slack):
    shutil.copy(REPO / ".env.example", tmp_path / ".env")
    result = run_rapport("run", cwd=tmp_path, SLACK_API_URL=fake_slack.api_url)
    assert result.returncode == 2
    assert (
        "SLACK_BOT_TOKEN still holds the example value from .env.example: paste the Bot User "
        "OAuth Token from OAuth & Permissions on your app's page at https://api.slack.com/apps."
    ) in result.stderr
    assert "SLACK_SIGNING_SECRET still holds the example value" in result.stderr
    assert fake_slack.calls == []  # the placeholder never reached Slack
    assert sqlite_leftovers(tmp_path) == []


def test_every_placeholder_in_env_example_is_recognised(tmp_path, fake_slack):
    """With every line of .env.example uncommented, each token, secret and client id left
    as the example is named."""
    assignments = [
        match.groups()
        for line in (REPO / ".env.example").read_text().splitlines()
        if (match := EXAMPLE_ASSIGNMENT.match(line))
    ]
    placeholders = [name for name, _ in assignments if re.search(r"TOKEN|SECRET|CLIENT_ID", name)]
    assert len(placeholders) == 5
    (tmp_path / ".env").write_text("".join(f"{name}={value}\n" for name, value in assignments))
    result = run_rapport("run", cwd=tmp_path, SLACK_API_URL=fake_slack.api_url)
    assert result.returncode == 2
    for name in placeholders:
        assert f"{name} still holds the example value from .env.example" in result.stderr
    assert fake_slack.calls == []


def test_env_is_read_from_the_working_directory_only(tmp_path, fake_slack):
    (tmp_path / ".env").write_text(
        f"SLACK_BOT_TOKEN=xoxb-from-parent\nSLACK_SIGNING_SECRET=abc\n"
        f"SLACK_API_URL={fake_slack.api_url}\n"
    )
    below = tmp_path / "below"
    below.mkdir()
    result = run_rapport("run", cwd=below)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in result.stderr
    assert fake_slack.calls == []


@pytest.mark.parametrize(
    ("database_url", "cause"),
    [
        ("postgresql+psycopg://rapport:hunter2@127.0.0.1:{port}/rapport", "Connection refused"),
        (
            "postgresql+psycopg://rapport:hunter2@no-such-host.invalid/rapport",
            "failed to resolve host 'no-such-host.invalid'",
        ),
        ("sqlite:////no/such/dir/rapport.db", "unable to open database file"),
    ],
)
@pytest.mark.parametrize("command", ["run", "migrate"])
def test_a_database_that_cant_be_reached_is_explained_in_the_drivers_words(
    tmp_path, fake_slack, command, database_url, cause
):
    result = run_rapport(
        command,
        cwd=tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="abc",
        SLACK_API_URL=fake_slack.api_url,
        DATABASE_URL=database_url.format(port=closed_port()),
    )
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("Rapport couldn't prepare its database (") and cause in line
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not POSTGRES_URL, reason="needs a PostgreSQL server")
def test_a_missing_postgresql_database_is_named(tmp_path):
    url = make_url(POSTGRES_URL).set(database="rapport_no_such_database", password="hunter2")
    result = run_rapport(
        "migrate", cwd=tmp_path, DATABASE_URL=url.render_as_string(hide_password=False)
    )
    assert result.returncode == 1
    assert 'database "rapport_no_such_database" does not exist' in result.stderr
    assert "hunter2" not in result.stderr


def test_a_slack_that_cant_be_reached_is_explained_and_creates_no_database(tmp_path):
    result = run_rapport(
        "run",
        cwd=tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="abc",
        SLACK_API_URL=f"http://127.0.0.1:{closed_port()}/api/",
    )
    assert result.returncode == 1
    assert "couldn't be reached (Connection refused)" in result.stderr
    assert sqlite_leftovers(tmp_path) == []


def test_a_refused_token_is_checked_before_any_database_is_made(tmp_path, fake_slack):
    fake_slack.fail("auth.test", "invalid_auth", times=None)
    result = run_rapport(
        "run",
        cwd=tmp_path,
        SLACK_BOT_TOKEN="xoxb-revoked",
        SLACK_SIGNING_SECRET="abc",
        SLACK_API_URL=fake_slack.api_url,
    )
    assert result.returncode == 1 and "invalid_auth" in result.stderr
    assert sqlite_leftovers(tmp_path) == []


def test_a_failed_first_start_leaves_no_empty_database_but_keeps_an_existing_one(
    tmp_path, fake_slack, port_in_use
):
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "abc",
        "SLACK_API_URL": fake_slack.api_url,
    }
    result = run_rapport("web", cwd=tmp_path, **env)  # `rapport migrate` was never run
    assert result.returncode == 1 and "needs migrating first" in result.stderr
    assert sqlite_leftovers(tmp_path) == []

    assert run_rapport("run", cwd=tmp_path, PORT=str(port_in_use), **env).returncode == 1
    assert sqlite_leftovers(tmp_path) == []  # made, migrated, then the port was refused

    assert run_rapport("migrate", cwd=tmp_path).returncode == 0
    assert run_rapport("run", cwd=tmp_path, PORT=str(port_in_use), **env).returncode == 1
    assert "rapport.db" in sqlite_leftovers(tmp_path)  # a database already there is kept


def test_migrate_reads_only_what_it_needs(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    result = run_rapport(
        "migrate",
        cwd=tmp_path,
        DATABASE_URL=url,
        PORT="eighty",
        SLACK_API_URL="slack.example",
        SLACK_APP_TOKEN="nope",
        SLACK_CLIENT_ID="1111.2222",
        SLACK_TIMEOUT_SECONDS="soon",
    )
    assert result.returncode == 0, result.stderr
    assert "database is up to date" in result.stderr


def test_help_is_plain_text_and_version_names_the_package(tmp_path):
    helped = run_rapport("--help", cwd=tmp_path)
    assert helped.returncode == 0
    assert "``" not in helped.stdout
    assert "run the bot (or its web and\nscheduler roles apart)" in helped.stdout
    assert "--version" in helped.stdout
    shown = run_rapport("--version", cwd=tmp_path)
    assert shown.returncode == 0
    assert shown.stdout == f"rapport {version('rapport')}\n"


def test_a_start_logs_no_library_warnings_nor_scheduler_chatter(tmp_path, fake_slack):
    port = free_port()
    process = start_run(tmp_path, fake_slack, port)
    try:
        wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "Rapport is listening on port" in stderr and "Rapport stopped" in stderr
    assert "WARNING" not in stderr
    assert "apscheduler" not in stderr


def test_the_messages_tab_is_read_only_unless_direct_messages_are_answered():
    """Rapport takes no message.im events, so nobody may type to it there only to hear nothing."""
    home = MANIFEST["features"]["app_home"]
    answers_dms = "message.im" in MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    assert home["messages_tab_enabled"] is True  # prompts and alerts arrive there
    assert home["messages_tab_read_only_enabled"] is not answers_dms
