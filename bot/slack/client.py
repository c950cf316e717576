"""Slack Web API clients, with slack-sdk's own retry handlers for 429s, 5xx and timeouts.

Work that doesn't start from a Slack request (scheduled prompts, reminders, alerts) asks
``SlackClients.for_team`` for the workspace's client: the one bot token in a
single-workspace install, or the installation's (rotated when near expiry) when Rapport is
installed through OAuth. A workspace that uninstalled Rapport gets no client, so nothing
is sent there from that moment on.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from slack_sdk import WebClient
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.core.db import Database
from bot.core.metrics import instruments
from bot.core.settings import Settings
from bot.slack import workspaces
from bot.slack.connections import KeepAliveWebClient
from bot.slack.installations import ROTATE_MINUTES_BEFORE_EXPIRY, InstallationStore

logger = logging.getLogger(__name__)

# Scheduled work waits out a 429 in the calling thread only when Slack asks for a short
# pause; a longer Retry-After is answered as an error, and the fan-out holds that workspace
# back (bot.slack.fan_out) instead of sleeping in a thread other workspaces need.
SCHEDULED_RATE_LIMIT_WAIT = 5.0  # seconds
# How long a workspace's client is used without asking the database again: a big fan-out
# would otherwise read the workspace and decrypt its token for every message. A workspace
# uninstalled meanwhile (in another process) answers token_revoked, which is retried later.
CLIENT_FRESH_SECONDS = 10.0


def create_web_client(
    settings: Settings, token: str | None = None, rate_limit_wait: float | None = None
) -> WebClient:
    """A client for ``token`` (default: ``SLACK_BOT_TOKEN``; none in a multi-workspace
    install, where Bolt supplies each request's token). A 429 is retried after its
    Retry-After, if that is at most ``rate_limit_wait`` seconds (None: however long)."""
    return KeepAliveWebClient(
        token=token or settings.slack_bot_token or None,
        base_url=settings.slack_api_url,
        timeout=settings.slack_timeout_seconds,
        retry_handlers=_retry_handlers(
            ConnectionErrorRetryHandler(max_retry_count=2), rate_limit_wait
        ),
    )


def posting_once(client: WebClient) -> WebClient:
    """The same client for a call that must not be made twice, such as posting a message.

    A connection that drops after the request went out may have lost Slack's answer to a
    post Slack made, so it is not retried here: the caller finds out (the send ledger looks
    for the message in the conversation) before posting again. A connection Slack refused
    never carried the request, and is retried."""
    rate_limits = next(h for h in client.retry_handlers if isinstance(h, _RateLimitRetryHandler))
    return KeepAliveWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=_retry_handlers(
            _RefusedConnectionRetryHandler(max_retry_count=2), rate_limits.longest_wait
        ),
    )


def _retry_handlers(
    connection_errors: RetryHandler, rate_limit_wait: float | None
) -> list[RetryHandler]:
    return [
        _CallCounter(),  # first: slack-sdk asks the handlers in order, and stops at a retry
        connection_errors,
        _RateLimitRetryHandler(max_retry_count=3, longest_wait=rate_limit_wait),
        ServerErrorRetryHandler(max_retry_count=2),
    ]


class _RateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack-sdk's: waits Retry-After and tries again; here only if that is at most
    ``longest_wait`` seconds."""

    def __init__(self, max_retry_count: int, longest_wait: float | None):
        super().__init__(max_retry_count=max_retry_count)
        self.longest_wait = longest_wait

    def _can_retry(self, *, response: HttpResponse | None = None, **kwargs: object) -> bool:
        if not super()._can_retry(response=response, **kwargs):  # type: ignore[arg-type]
            return False
        if self.longest_wait is None or response is None:
            return True
        wait = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
        try:
            return float(wait[0] if isinstance(wait, list) else wait) <= self.longest_wait
        except ValueError:
            return True


class _RefusedConnectionRetryHandler(ConnectionErrorRetryHandler):
    def _can_retry(self, *, error: Exception | None = None, **_: object) -> bool:
        reason = getattr(error, "reason", error)  # urllib wraps the socket's error
        return isinstance(reason, (ConnectionRefusedError, socket.gaierror))


class _CallCounter(RetryHandler):
    """Counts every answer Slack gives (``rapport_slack_calls``), tells the operator of a
    scope the installation lacks, and never retries.

    slack-sdk shows each response, success or not, to the client's retry handlers, and Bolt
    copies the app client's handlers into the client it makes for each request, so this
    sees the calls of listeners as well as of scheduled jobs."""

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = request.url.split("?")[0].rsplit("/", 1)[-1]
        instruments().slack_calls.labels(method=method, outcome=_outcome(response)).inc()
        if response is not None and (response.body or {}).get("error") == "missing_scope":
            logger.warning(
                "Slack refused %s: the installation lacks a scope it needs (%s). Reinstall "
                "Rapport in that workspace, or approve the app's new scopes, to grant it",
                method,
                response.body.get("needed") or "not named",
            )
        return False


def _outcome(response: HttpResponse | None) -> str:
    if response is None:  # no answer: the connection failed
        return "error"
    body = response.body or {}
    if response.status_code == 429 or body.get("error") == "ratelimited":
        return "ratelimited"
    return "ok" if response.status_code == 200 and body.get("ok") else "error"


class SlackClients:
    """One workspace's client, or None once it uninstalled Rapport."""

    def __init__(self, settings: Settings, db: Database, store: InstallationStore | None = None):
        self._settings, self._db, self._store = settings, db, store
        self._single = (
            None
            if store is not None
            else create_web_client(settings, rate_limit_wait=SCHEDULED_RATE_LIMIT_WAIT)
        )
        self._by_team: dict[str, WebClient] = {}
        self._fresh_until: dict[str, float] = {}  # team id -> time.monotonic()
        self._lock = threading.Lock()
        self._rotator = (
            TokenRotator(
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret,
                client=create_web_client(settings),
            )
            if store is not None and settings.slack_client_secret
            else None
        )

    def is_installed(self, team_id: str) -> bool:
        """Whether Rapport may work in ``team_id``: not uninstalled, and (installed through
        OAuth) holding a bot token there. Asks Slack nothing."""
        with self._db.read() as session:
            if not workspaces.is_active(session, team_id):
                return False
        if self._store is None:
            return True
        bot = self._store.find_bot(enterprise_id=None, team_id=team_id)
        return bot is not None and bool(bot.bot_token)

    def for_team(self, team_id: str) -> WebClient | None:
        """The workspace's client (``CLIENT_FRESH_SECONDS`` old at most); None while Rapport
        is not installed there, which is never cached."""
        with self._lock:
            client = self._by_team.get(team_id, self._single)
            if client is not None and self._fresh_until.get(team_id, 0.0) > time.monotonic():
                return client
        with self._db.read() as session:
            if not workspaces.is_active(session, team_id):
                return None
        client = self._single if self._store is None else self._installed(team_id)
        if client is not None:
            with self._lock:
                self._fresh_until[team_id] = time.monotonic() + CLIENT_FRESH_SECONDS
        return client

    def forget(self, team_id: str) -> None:
        """Ask the database again next time (this process saw the workspace uninstall)."""
        with self._lock:
            self._fresh_until.pop(team_id, None)

    def _installed(self, team_id: str) -> WebClient | None:
        assert self._store is not None
        bot = self._store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            return None
        if self._rotator is not None and bot.bot_refresh_token:
            refreshed = self._rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=ROTATE_MINUTES_BEFORE_EXPIRY
            )
            if refreshed is not None:
                self._store.save_bot(refreshed)
                bot = refreshed
        with self._lock:  # one client per workspace, replaced when its token rotates
            client = self._by_team.get(team_id)
            if client is None or client.token != bot.bot_token:
                client = self._by_team[team_id] = create_web_client(
                    self._settings, bot.bot_token, rate_limit_wait=SCHEDULED_RATE_LIMIT_WAIT
                )
            return client
