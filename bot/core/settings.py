"""Configuration, read once from the environment (``.env`` is loaded first).

``load_settings()`` collects *every* problem before failing, so a newcomer fixes
their ``.env`` in one go instead of one restart per mistake.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from dotenv import load_dotenv
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.core.request_ids import RequestIdFilter
from bot.slack.token_cipher import KEY_VARIABLE, TokenCipher, parse_keys

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///rapport.db"
DEFAULT_SLACK_TIMEOUT_SECONDS = 10.0
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
TEXT_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SUPPORTED_DATABASES = ("sqlite", "postgresql")
# never below INFO (see configure_logging). slack-sdk's WebClient builds its debug lines
# (whole request and response bodies, ~0.13 ms a call) whenever its own logger's level,
# not the effective one, allows DEBUG: that logger gets its level set too.
QUIET_LIBRARIES = ("slack_sdk", "slack_bolt", "slack_sdk.web.base_client")
# APScheduler logs every run of every job at INFO (six lines a minute); its warnings (missed
# or overlapping runs) and errors still show. The jobs log what they did themselves.
SCHEDULER_LOGGER = "apscheduler"
# What `rapport migrate` reads: a bad PORT or Slack token must not stop a migration.
MIGRATE_VARIABLES = ("DATABASE_URL", "LOG_LEVEL", "LOG_FORMAT", "RAPPORT_ENCRYPTION_KEY")

APP_SETTINGS_PAGE = "https://api.slack.com/apps"
# The bot scopes in manifest.json; installs through /slack/install ask for these.
DEFAULT_SCOPES = (
    "commands",
    "chat:write",
    "channels:read",
    "channels:join",
    "groups:read",
    "team:read",
    "users:read",
    "channels:history",
    "groups:history",
    "im:history",
    "im:write",
    "mpim:write",
    "mpim:history",
    "files:read",
    "files:write",
)
# The placeholders in .env.example: a copied file left unedited is explained here, instead
# of being sent to Slack. Variable -> (placeholder, what to paste instead).
EXAMPLE_VALUES = {
    "SLACK_BOT_TOKEN": ("xoxb-your-bot-token", "the Bot User OAuth Token from OAuth & Permissions"),
    "SLACK_SIGNING_SECRET": ("your-signing-secret", "the Signing Secret from Basic Information"),
    "SLACK_APP_TOKEN": ("xapp-your-app-token", "an app-level token from Basic Information"),
    "SLACK_CLIENT_ID": ("1234567890.1234567890", "the Client ID from Basic Information"),
    "SLACK_CLIENT_SECRET": ("your-client-secret", "the Client Secret from Basic Information"),
}


class SettingsError(Exception):
    """Raised with one human-readable line per problem found in the environment."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))

    def __str__(self) -> str:
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        return (
            "Rapport can't start because its configuration needs attention:\n"
            f"{lines}\n"
            "Set these in your environment or in a .env file (see .env.example)."
        )


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str
    slack_signing_secret: str | None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    port: int = 3000
    log_level: str = "INFO"
    log_format: str = "text"  # or "json": one JSON object per line
    metrics_port: int | None = None  # rapport scheduler's GET /metrics; None: not served
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_scopes: tuple[str, ...] = DEFAULT_SCOPES
    slack_timeout_seconds: float = DEFAULT_SLACK_TIMEOUT_SECONDS  # per Web API call
    encryption_keys: tuple[str, ...] = ()  # RAPPORT_ENCRYPTION_KEY: the first encrypts

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def multi_workspace(self) -> bool:
        """Installed through Slack's OAuth flow, one bot token per workspace."""
        return self.slack_client_id is not None

    @property
    def token_cipher(self) -> TokenCipher | None:
        """Encrypts the Slack tokens Rapport stores; None without ``RAPPORT_ENCRYPTION_KEY``."""
        return TokenCipher(self.encryption_keys) if self.encryption_keys else None

    def __repr__(self) -> str:  # never print secrets, even by accident
        database = make_url(self.database_url).render_as_string(hide_password=True)
        return (
            f"Settings(database={database}, port={self.port}, "
            f"socket_mode={self.socket_mode}, multi_workspace={self.multi_workspace}, "
            f"slack_api_url={self.slack_api_url})"
        )


def load_settings(
    environ: Mapping[str, str] | None = None, *, dotenv: bool = True, require_slack: bool = True
) -> Settings:
    """Read and validate settings; raise ``SettingsError`` naming every problem.

    ``require_slack=False`` is for commands that only touch the database (``rapport migrate``):
    only ``MIGRATE_VARIABLES`` are read, the rest keep their defaults. ``.env`` is read from
    the working directory only, never from a parent directory.
    """
    env = _environment(environ, dotenv=dotenv, require_slack=require_slack)
    problems: list[str] = [
        f"{name} still holds the example value from .env.example: paste {source} on your "
        f"app's page at {APP_SETTINGS_PAGE}."
        for name, (example, source) in EXAMPLE_VALUES.items()
        if env.get(name) == example
    ]
    client_id, client_secret = _oauth_client(env, problems)
    multi_workspace = client_id is not None
    scopes = tuple(
        scope for scope in env.get("SLACK_SCOPES", "").replace(" ", "").split(",") if scope
    )
    bot_token = _bot_token(env, problems, optional=multi_workspace or not require_slack)
    app_token = _app_token(env, problems)
    signing_secret = env.get("SLACK_SIGNING_SECRET")
    if signing_secret is None and (app_token is None or multi_workspace) and require_slack:
        problems.append(
            "SLACK_SIGNING_SECRET is not set. Copy the Signing Secret from Basic Information "
            f"on your app's page at {APP_SETTINGS_PAGE}."
        )
    api_url = _slack_api_url(env, problems)
    database_url = _database_url(env, problems)
    port, log_level, timeout = _server_options(env, problems)
    log_format = env.get("LOG_FORMAT", "text").lower()
    if log_format not in LOG_FORMATS:
        problems.append("LOG_FORMAT must be text or json.")
    metrics_port = _port(env.get("METRICS_PORT"))
    if env.get("METRICS_PORT") and metrics_port is None:
        problems.append("METRICS_PORT must be a whole number between 1 and 65535, e.g. 9464.")
    encryption_keys = _encryption_keys(env, problems, multi_workspace=multi_workspace)
    if problems:
        raise SettingsError(problems)
    return Settings(
        slack_bot_token=bot_token,
        slack_signing_secret=signing_secret,
        slack_app_token=app_token,
        slack_api_url=api_url,
        database_url=database_url,
        port=port,
        log_level=log_level,
        log_format=log_format,
        metrics_port=metrics_port,
        slack_client_id=client_id,
        slack_client_secret=client_secret,
        slack_scopes=scopes or DEFAULT_SCOPES,
        slack_timeout_seconds=timeout or DEFAULT_SLACK_TIMEOUT_SECONDS,
        encryption_keys=encryption_keys,
    )


def _environment(
    environ: Mapping[str, str] | None, *, dotenv: bool, require_slack: bool
) -> dict[str, str]:
    """The variables set to something other than blanks, stripped; ``.env`` fills gaps."""
    if environ is None:
        if dotenv:
            load_dotenv(Path.cwd() / ".env", override=False)
        environ = os.environ
    env = {key: value.strip() for key, value in environ.items() if value and value.strip()}
    if not require_slack:
        env = {key: value for key, value in env.items() if key in MIGRATE_VARIABLES}
    return env


def _oauth_client(env: Mapping[str, str], problems: list[str]) -> tuple[str | None, str | None]:
    """Client ID and secret for installing in several workspaces: both, or (None, None)."""
    client_id, client_secret = env.get("SLACK_CLIENT_ID"), env.get("SLACK_CLIENT_SECRET")
    if (client_id is None) != (client_secret is None):
        problems.append(
            "Set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (Basic Information → App "
            "Credentials) to install Rapport in several workspaces, or neither to run on "
            "SLACK_BOT_TOKEN in one."
        )
    if client_id is None or client_secret is None:
        return None, None
    if env.get("SLACK_APP_TOKEN"):
        problems.append(
            "Installing in several workspaces needs Slack to reach Rapport over HTTP: unset "
            "SLACK_APP_TOKEN (Socket Mode) when SLACK_CLIENT_ID is set."
        )
    return client_id, client_secret


def _bot_token(env: Mapping[str, str], problems: list[str], *, optional: bool) -> str:
    bot_token = env.get("SLACK_BOT_TOKEN", "")
    if not bot_token and not optional:
        problems.append(
            "SLACK_BOT_TOKEN is not set. Copy the Bot User OAuth Token (xoxb-…) from "
            f"OAuth & Permissions on your app's page at {APP_SETTINGS_PAGE}."
        )
    elif bot_token and not bot_token.startswith("xoxb-"):
        problems.append(
            "SLACK_BOT_TOKEN should start with 'xoxb-' (the Bot User OAuth Token, "
            "not a user token or app token)."
        )
    return bot_token


def _app_token(env: Mapping[str, str], problems: list[str]) -> str | None:
    app_token = env.get("SLACK_APP_TOKEN")
    if app_token is not None and not app_token.startswith("xapp-"):
        problems.append(
            "SLACK_APP_TOKEN should start with 'xapp-'. Create an app-level token with the "
            "connections:write scope under Basic Information, or leave it unset to serve HTTP."
        )
    return app_token


def _slack_api_url(env: Mapping[str, str], problems: list[str]) -> str:
    api_url = env.get("SLACK_API_URL", DEFAULT_SLACK_API_URL)
    parsed_api = urlparse(api_url)
    if parsed_api.scheme not in ("http", "https") or not parsed_api.netloc:
        problems.append(
            f"SLACK_API_URL must be an http(s) URL such as {DEFAULT_SLACK_API_URL} "
            "(leave it unset to use Slack's own)."
        )
    elif not api_url.endswith("/"):
        api_url += "/"
    return api_url


def _database_url(env: Mapping[str, str], problems: list[str]) -> str:
    database_url = env.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    try:
        backend = make_url(database_url).get_backend_name()
    except (ArgumentError, ValueError):  # ValueError: a port that isn't a number
        backend = None
    if backend not in SUPPORTED_DATABASES:
        problems.append(
            "DATABASE_URL must be a SQLite or PostgreSQL URL, e.g. sqlite:///rapport.db or "
            "postgresql+psycopg://user:password@host:5432/rapport."
        )
    return database_url


def _port(text: str | None) -> int | None:
    port = int(text) if text and text.isdigit() else 0
    return port if 1 <= port <= 65535 else None


def _server_options(env: Mapping[str, str], problems: list[str]) -> tuple[int, str, float | None]:
    """PORT, LOG_LEVEL and SLACK_TIMEOUT_SECONDS (None when that one is bad)."""
    port = _port(env.get("PORT", "3000")) or 0
    if not port:
        problems.append("PORT must be a whole number between 1 and 65535, e.g. 3000.")
    log_level = env.get("LOG_LEVEL", "INFO").upper()
    if log_level not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}.")
    timeout = _seconds(env.get("SLACK_TIMEOUT_SECONDS"), DEFAULT_SLACK_TIMEOUT_SECONDS)
    if timeout is None:
        problems.append(
            "SLACK_TIMEOUT_SECONDS must be a number of seconds above 0 and at most 60, e.g. 10."
        )
    return port, log_level, timeout


def _encryption_keys(
    env: Mapping[str, str], problems: list[str], *, multi_workspace: bool
) -> tuple[str, ...]:
    try:
        encryption_keys = parse_keys(env.get(KEY_VARIABLE, ""))
    except ValueError as bad_key:
        problems.append(
            f"{KEY_VARIABLE} must be one or more keys printed by `rapport generate-key`, "
            f"separated by commas, and {bad_key} is not one (a key is 44 characters of "
            "URL-safe base64)."
        )
        return ()
    if multi_workspace and not encryption_keys:
        problems.append(
            f"{KEY_VARIABLE} is not set. Installed in several workspaces, Rapport keeps "
            "each workspace's Slack tokens in its database, encrypted with this key: run "
            f"`rapport generate-key` and set {KEY_VARIABLE} to what it prints (keep it "
            "apart from the database's backups)."
        )
    return encryption_keys


def _seconds(text: str | None, default: float) -> float | None:
    """``text`` as seconds in (0, 60], ``default`` when unset; None when it isn't one."""
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 < value <= 60 else None


def configure_logging(settings: Settings) -> None:
    """Log at ``LOG_LEVEL``, except slack-sdk and Bolt, kept at INFO or above: at DEBUG
    they log whole request and response bodies, such as the thank-you that shows the
    pulse answer a person just gave. APScheduler's routine INFO lines show only at DEBUG.
    ``LOG_FORMAT=json`` writes one JSON object a line, with the Slack request's id."""
    level = getattr(logging, settings.log_level)
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if settings.log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "{levelname}{name}{message}{request_id}",
                style="{",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_LOG_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(level, logging.INFO))
    scheduler_level = level if level == logging.DEBUG else max(level, logging.WARNING)
    logging.getLogger(SCHEDULER_LOGGER).setLevel(scheduler_level)
