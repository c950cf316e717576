"""Settings: every problem named at once, with how to fix it."""

from __future__ import annotations

import pytest

from bot.core.settings import SettingsError, load_settings
from tests.app.test_manifest import MANIFEST
from tests.conftest import KEY, OLD_KEY

MANIFEST_SCOPES = MANIFEST["oauth_config"]["scopes"]["bot"]

VALID = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "s3cret"}


def problems(environ: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as raised:
        load_settings(environ)
    return str(raised.value)


def test_defaults_with_only_the_two_slack_variables():
    settings = load_settings(VALID)
    assert settings.database_url == "sqlite:///rapport.db"
    assert settings.port == 3000
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.log_level == "INFO"
    assert not settings.socket_mode


def test_nothing_set_names_both_missing_variables_and_where_to_find_them():
    message = problems({})
    assert "SLACK_BOT_TOKEN is not set" in message and "OAuth & Permissions" in message
    assert "SLACK_SIGNING_SECRET is not set" in message and "Basic Information" in message


def test_every_malformed_value_is_reported_together():
    message = problems(
        {
            "SLACK_BOT_TOKEN": "xoxp-user-token",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_APP_TOKEN": "nope",
            "SLACK_API_URL": "slack.example",
            "DATABASE_URL": "mysql://localhost/rapport",
            "PORT": "eighty",
            "LOG_LEVEL": "LOUD",
            "LOG_FORMAT": "xml",
            "METRICS_PORT": "99999",
        }
    )
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "DATABASE_URL",
        "PORT",
        "LOG_LEVEL",
        "LOG_FORMAT must be text or json",
        "METRICS_PORT",
    ):
        assert name in message


def test_socket_mode_does_not_need_a_signing_secret():
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert settings.socket_mode


def test_api_url_gets_a_trailing_slash_and_repr_hides_secrets():
    settings = load_settings(
        VALID
        | {
            "SLACK_API_URL": "http://127.0.0.1:9999/api",
            "DATABASE_URL": "postgresql://rapport:hunter2@db/rapport",
        }
    )
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    shown = repr(settings)
    assert "hunter2" not in shown and "xoxb" not in shown and "s3cret" not in shown


def test_migrate_needs_no_slack_tokens():
    assert load_settings({}, require_slack=False).database_url == "sqlite:///rapport.db"


def test_client_id_and_secret_install_in_several_workspaces_without_a_bot_token():
    settings = load_settings(
        {
            "SLACK_CLIENT_ID": "1111.2222",
            "SLACK_CLIENT_SECRET": "client-secret",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_SCOPES": "commands, chat:write",
            "RAPPORT_ENCRYPTION_KEY": KEY,
        }
    )
    assert settings.multi_workspace and settings.slack_scopes == ("commands", "chat:write")
    assert "client-secret" not in repr(settings)
    assert load_settings(VALID).slack_scopes == tuple(MANIFEST_SCOPES)


def test_half_an_oauth_configuration_or_oauth_over_socket_mode_is_explained():
    message = problems({"SLACK_CLIENT_ID": "1111.2222", "SLACK_SIGNING_SECRET": "s"})
    assert "Set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET" in message
    assert "SLACK_BOT_TOKEN is not set" in message  # without both, one workspace it is
    message = problems(
        {
            "SLACK_CLIENT_ID": "1111.2222",
            "SLACK_CLIENT_SECRET": "c",
            "SLACK_APP_TOKEN": "xapp-1",
        }
    )
    assert "unset SLACK_APP_TOKEN" in message and "SLACK_SIGNING_SECRET is not set" in message


def test_slack_timeout_defaults_to_ten_seconds_and_must_be_sensible():
    assert load_settings(VALID).slack_timeout_seconds == 10
    assert load_settings(VALID | {"SLACK_TIMEOUT_SECONDS": "2.5"}).slack_timeout_seconds == 2.5
    for wrong in ("0", "-1", "61", "soon"):
        assert "SLACK_TIMEOUT_SECONDS" in problems(VALID | {"SLACK_TIMEOUT_SECONDS": wrong})


def test_example_values_are_named_with_where_to_get_the_real_ones():
    message = problems({"SLACK_BOT_TOKEN": "xoxb-your-bot-token", "SLACK_SIGNING_SECRET": "s"})
    assert "SLACK_BOT_TOKEN still holds the example value from .env.example" in message
    assert "Bot User OAuth Token from OAuth & Permissions" in message
    assert load_settings(VALID | {"SLACK_BOT_TOKEN": "xoxb-your-real-token"})


def test_migrate_ignores_the_settings_it_does_not_need():
    settings = load_settings(
        {"DATABASE_URL": "sqlite:///x.db", "PORT": "eighty", "SLACK_APP_TOKEN": "nope"},
        require_slack=False,
    )
    assert settings.database_url == "sqlite:///x.db" and settings.port == 3000
    with pytest.raises(SettingsError, match="LOG_LEVEL"):
        load_settings({"LOG_LEVEL": "LOUD"}, require_slack=False)


def test_several_workspaces_need_an_encryption_key_and_one_workspace_may_have_one():
    oauth = {
        "SLACK_CLIENT_ID": "1111.2222",
        "SLACK_CLIENT_SECRET": "c",
        "SLACK_SIGNING_SECRET": "s",
    }
    message = problems(oauth)
    assert "RAPPORT_ENCRYPTION_KEY is not set" in message and "rapport generate-key" in message
    assert load_settings(VALID).token_cipher is None
    with_keys = load_settings(VALID | {"RAPPORT_ENCRYPTION_KEY": f" {KEY} ,{OLD_KEY},"})
    assert with_keys.encryption_keys == (KEY, OLD_KEY)
    assert KEY not in repr(with_keys) and OLD_KEY not in repr(with_keys)
    assert "key 1 of 1 is not one" in problems(VALID | {"RAPPORT_ENCRYPTION_KEY": "secret"})
