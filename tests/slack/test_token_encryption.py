"""Slack tokens encrypted at rest: an install through OAuth stores none in clear, keys rotate,
tokens an older Rapport left in clear are encrypted when it migrates or starts, and a missing,
malformed or wrong key stops Rapport with a message that says what to do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from cryptography.fernet import Fernet, InvalidToken
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import select, update

from bot.core.db import Database, alembic_config, create_db_engine
from bot.core.settings import load_settings
from bot.slack.installation_models import BOTS, INSTALLATIONS
from bot.slack.token_cipher import PREFIX
from tests.app.test_cli import free_port, run_rapport, wait_for_health
from tests.app.test_process_roles import Process
from tests.conftest import CLIENT_ID, CLIENT_SECRET, KEY, OLD_KEY, RunningApp, installed_app
from tests.slack.test_installs import BETA, install, one_round_of_prompts
from tests.support.fake_slack import BOT_USER_ID, TOKEN_LENGTH
from tests.support.pulse_helpers import prompts, tick
from tests.support.slack_requests import SIGNING_SECRET

IN_CLEAR = ("xoxb-", "xoxe-", "xoxp-", "hooks.slack.com")
# slack_bots: bot and refresh token; slack_installations: those, the installer's user and
# refresh token, and the incoming webhook URL
TOKENS_PER_INSTALL = 7
CLEAR_BOT_TOKEN = "xoxb-T0BETA-from-an-older-rapport-".ljust(TOKEN_LENGTH, "x")


def oauth_env(**values: str) -> dict[str, str]:
    return {
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "PORT": str(free_port()),
        **values,
    }


def stored_values(db: Database) -> list[str]:
    """Every value in slack-sdk's installation and bot tables, as the database holds it."""
    with db.read() as session:
        return sorted(
            str(value)
            for table in (BOTS, INSTALLATIONS)
            for row in session.execute(select(table))
            for value in row
            if value is not None
        )


def in_clear(db: Database) -> list[str]:
    return [value for value in stored_values(db) if any(kind in value for kind in IN_CLEAR)]


def sealed(db: Database) -> list[str]:
    return [value for value in stored_values(db) if value.startswith(PREFIX)]


def opens(key: str, value: str) -> bool:
    try:
        Fernet(key).decrypt(value.removeprefix(PREFIX))
    except InvalidToken:
        return False
    return True


def token_answering(running: RunningApp, team_id: str) -> str:
    """The bot token Rapport used to answer a signed slash command from ``team_id``."""
    before = len(running.fake.calls_to("views.open"))
    assert running.slack.command("setup", team=team_id).status == 200
    return running.fake.wait_for("views.open", count=before + 1)[-1].token


def expire_soon(running: RunningApp, team_id: str) -> None:
    """Twelve hours on: the bot token has ten minutes left to live."""
    soon = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=10)
    with running.db.transaction() as session:
        session.execute(
            update(BOTS).where(BOTS.c.team_id == team_id).values(bot_token_expires_at=soon)
        )


def store_in_clear(db: Database) -> None:
    """Installation rows as Rapport stored them before it encrypted tokens: slack-sdk's own
    store, as it is."""
    SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=db.engine).save(
        Installation(
            app_id="ARAPPORT",
            enterprise_id=None,
            team_id=BETA,
            team_name="Beta",
            bot_token=CLEAR_BOT_TOKEN,
            bot_user_id=BOT_USER_ID,
            bot_refresh_token="xoxe-1-T0BETA-older",
            bot_token_expires_in=43_200,
            user_id="UINSTALLER",
            user_token="xoxp-T0BETA-older",
            user_refresh_token="xoxe-1-user-T0BETA-older",
            incoming_webhook_url="https://hooks.slack.com/services/T0BETA/B1/older",
        )
    )


def test_an_oauth_install_stores_every_token_encrypted_and_requests_use_the_right_one(multi):
    install(multi, BETA, "Beta", "code-beta", as_user=True)
    assert in_clear(multi.db) == []
    assert len(sealed(multi.db)) == TOKENS_PER_INSTALL
    issued = multi.fake.bot_tokens[BETA]
    assert token_answering(multi, BETA) == issued  # a request: Bolt's token

    one_round_of_prompts(multi, BETA)  # scheduled work: SlackClients' token
    tick(multi.services)
    assert {call.token for call in prompts(multi.fake)} == {issued}


def test_a_rotated_bot_token_is_stored_encrypted_too(multi):
    install(multi, BETA, "Beta", "code-beta")
    first = multi.fake.bot_tokens[BETA]
    expire_soon(multi, BETA)
    refreshed = token_answering(multi, BETA)  # rotated by Bolt before the request
    assert refreshed != first and refreshed == multi.fake.bot_tokens[BETA]
    assert in_clear(multi.db) == []

    expire_soon(multi, BETA)
    one_round_of_prompts(multi, BETA)
    tick(multi.services)  # rotated by SlackClients before the prompts
    assert {call.token for call in prompts(multi.fake)} == {multi.fake.bot_tokens[BETA]}
    assert multi.fake.bot_tokens[BETA] != refreshed
    assert in_clear(multi.db) == []
    assert token_answering(multi, BETA) == multi.fake.bot_tokens[BETA]


def test_a_new_key_listed_first_re_encrypts_every_token_then_the_old_one_can_go(
    fake_slack, db, database_url, clock, tmp_path
):
    with installed_app(fake_slack, db, database_url, clock, keys=[OLD_KEY]) as before:
        install(before, BETA, "Beta", "code-beta", as_user=True)
    issued = fake_slack.bot_tokens[BETA]
    with installed_app(fake_slack, db, database_url, clock, keys=[KEY, OLD_KEY]) as both:
        assert token_answering(both, BETA) == issued  # the old key, listed second, decrypts

    keys = f"{KEY}, {OLD_KEY}"
    result = run_rapport(
        "migrate", cwd=tmp_path, DATABASE_URL=database_url, RAPPORT_ENCRYPTION_KEY=keys
    )
    assert result.returncode == 0, result.stderr
    assert f"encrypted {TOKENS_PER_INSTALL} stored Slack tokens" in result.stderr
    values = sealed(db)
    assert len(values) == TOKENS_PER_INSTALL
    assert all(opens(KEY, value) and not opens(OLD_KEY, value) for value in values)

    with installed_app(fake_slack, db, database_url, clock, keys=[KEY]) as after:
        assert token_answering(after, BETA) == issued


def test_a_token_left_in_clear_is_still_read_until_it_is_encrypted(
    fake_slack, db, database_url, clock
):
    store_in_clear(db)
    with installed_app(fake_slack, db, database_url, clock) as running:
        assert token_answering(running, BETA) == CLEAR_BOT_TOKEN


@pytest.mark.parametrize("role", ["migrate", "run"])
def test_tokens_an_older_rapport_stored_in_clear_are_encrypted_on_migrate_and_start(
    role, fake_slack, clock, tmp_path
):
    url = f"sqlite:///{tmp_path / 'older.db'}"
    older = Database(create_db_engine(url))
    command.upgrade(alembic_config(older.engine), "0008")  # the schema before encryption
    store_in_clear(older)
    env = oauth_env(DATABASE_URL=url, SLACK_API_URL=fake_slack.api_url, RAPPORT_ENCRYPTION_KEY=KEY)
    if role == "migrate":
        result = run_rapport("migrate", cwd=tmp_path, **env)
        assert result.returncode == 0, result.stderr
        assert f"encrypted {TOKENS_PER_INSTALL} stored Slack tokens" in result.stderr
    else:
        server = Process("run", tmp_path, **env)
        try:
            server.wait_for(f"encrypted {TOKENS_PER_INSTALL} stored Slack tokens")
            wait_for_health(f"http://127.0.0.1:{env['PORT']}/healthz", server.popen)
        finally:
            assert server.stop() == 0

    assert in_clear(older) == []
    assert len(sealed(older)) == TOKENS_PER_INSTALL
    with installed_app(fake_slack, older, url, clock) as running:
        assert token_answering(running, BETA) == CLEAR_BOT_TOKEN
    older.engine.dispose()


def test_migrate_without_a_key_says_how_many_tokens_are_stored_unencrypted(tmp_path):
    url = f"sqlite:///{tmp_path / 'older.db'}"
    older = Database(create_db_engine(url))
    command.upgrade(alembic_config(older.engine), "0008")
    store_in_clear(older)
    result = run_rapport("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert f"{TOKENS_PER_INSTALL} Slack tokens are stored unencrypted" in result.stderr
    assert "rapport generate-key" in result.stderr
    older.engine.dispose()


def test_an_oauth_install_without_a_key_refuses_to_start_and_says_how_to_make_one(tmp_path):
    result = run_rapport("run", cwd=tmp_path, **oauth_env())
    assert result.returncode == 2
    assert "RAPPORT_ENCRYPTION_KEY is not set" in result.stderr
    assert "run `rapport generate-key`" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "rapport.db").exists()


def test_generate_key_prints_a_key_rapport_accepts_and_needs_no_configuration(tmp_path):
    result = run_rapport("generate-key", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    settings = load_settings(oauth_env(RAPPORT_ENCRYPTION_KEY=key), dotenv=False)
    assert settings.encryption_keys == (key,)
    assert run_rapport("generate-key", cwd=tmp_path).stdout.strip() != key


@pytest.mark.parametrize(
    ("keys", "named"),
    [("not-a-key", "key 1 of 1"), (f"{KEY},{KEY[:-2]}", "key 2 of 2")],
)
def test_a_malformed_key_is_named_without_showing_it(tmp_path, keys, named):
    result = run_rapport("run", cwd=tmp_path, **oauth_env(RAPPORT_ENCRYPTION_KEY=keys))
    assert result.returncode == 2
    assert "RAPPORT_ENCRYPTION_KEY must be one or more keys printed by" in result.stderr
    assert f"{named} is not one" in result.stderr
    assert keys.split(",")[-1] not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("role", ["run", "migrate"])
def test_a_key_that_decrypts_no_stored_token_stops_rapport_and_changes_nothing(
    role, fake_slack, db, database_url, clock, tmp_path
):
    with installed_app(fake_slack, db, database_url, clock, keys=[OLD_KEY]) as running:
        install(running, BETA, "Beta", "code-beta")
    before = stored_values(db)
    env = oauth_env(
        DATABASE_URL=database_url, SLACK_API_URL=fake_slack.api_url, RAPPORT_ENCRYPTION_KEY=KEY
    )
    result = run_rapport(role, cwd=tmp_path, **env)
    assert result.returncode == 2
    assert "can't decrypt the Slack tokens in its database" in result.stderr
    assert "RAPPORT_ENCRYPTION_KEY=new,old" in result.stderr
    assert "Traceback" not in result.stderr
    assert stored_values(db) == before
