"""The HTTP front door: ``POST /slack/events`` for Slack, ``GET /healthz`` for load balancers,
``GET /metrics`` for Prometheus, and, when Rapport is installed through OAuth,
``GET /slack/install`` and ``GET /slack/oauth_redirect``.

Served by granian (``bot.serving``). Every POST is checked here, before anything
parses it: Slack's signature and timestamp (slack-sdk's ``SignatureVerifier``), then the
body's shape; only then does Bolt's WSGI adapter see it, with characters no database can
store already taken out. Refusals are logged by reason alone, never with the body.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from bot.core import metrics, request_ids
from bot.core.db import Database
from bot.slack.outbox import LedgerBacklog

logger = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
METRICS_PATH = "/metrics"
# Slack's largest request is the edit of a longest message (``message_changed``). A message
# holds up to 40,000 characters; JSON-escaped as Slack sends it, one character takes up to
# 12 bytes (an emoji is a surrogate pair, ``\ud83d\ude00``): 480,000 bytes. The event carries
# the text four times (``message`` and ``previous_message``, each as ``text`` and again in
# its rich-text ``blocks``): 1,920,000 bytes. Doubled for the blocks' and attachments'
# structure and the envelope, and rounded up: 4 MiB.
MAX_BODY_BYTES = 4 * 1024 * 1024
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
STALE_AFTER_SECONDS = 5 * 60  # SignatureVerifier's own window: said apart from a bad signature
# PostgreSQL text can't hold NUL, nor can any database a lone UTF-16 surrogate (JSON's
# "\ud800" without its pair)
UNSTORABLE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")

StartResponse = Callable[..., Any]


class MalformedBody(ValueError):
    """A signed body that isn't a Slack payload (form fields, or a JSON object)."""


class RefusalLog:
    """Logs refused requests at WARNING by reason alone (never their body or headers), at most
    one line a minute for each reason: a mistyped signing secret refuses every request, and
    would otherwise fill the log. A line counts the refusals left unlogged since the last."""

    def __init__(self, now: Callable[[], float] = time.monotonic, every_seconds: float = 60.0):
        self._now, self._every = now, every_seconds
        self._lock = threading.Lock()
        self._last_logged: dict[str, float] = {}
        self._unlogged: dict[str, int] = {}

    def refused(self, reason: str) -> None:
        with self._lock:
            now, last = self._now(), self._last_logged.get(reason)
            if last is not None and now - last < self._every:
                self._unlogged[reason] = self._unlogged.get(reason, 0) + 1
                return
            self._last_logged[reason] = now
            unlogged = self._unlogged.pop(reason, 0)
        since = f" (and {unlogged} more since the last such line)" if unlogged else ""
        logger.warning("refused a request to %s: %s%s", SLACK_PATH, reason, since)


class RapportWsgi:
    def __init__(self, app: App, db: Database, signing_secret: str):
        # Bolt's own check is off (see create_app): it runs after Bolt has parsed the body,
        # and logs the whole body of every request it refuses
        self._slack = SlackRequestHandler(app, path=SLACK_PATH)
        self._verifier = SignatureVerifier(signing_secret)
        self._refusals = RefusalLog()
        self._db = db
        self._backlog = LedgerBacklog(db)
        flow = app.oauth_flow
        self._oauth_paths = {flow.install_path, flow.redirect_uri_path} if flow else set()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        known = path if path in (SLACK_PATH, "/healthz", METRICS_PATH) else "other"
        if path in self._oauth_paths:
            known = "oauth"
        with (
            request_ids.serving_request(),
            metrics.timed(metrics.instruments().requests.labels(path=known).observe),
        ):
            return self._answer(path, environ, start_response)

    def _answer(
        self, path: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if path == METRICS_PATH and method in ("GET", "HEAD"):
            data = metrics.exposition(self._backlog)
            start_response(
                "200 OK",
                [("Content-Type", metrics.CONTENT_TYPE), ("Content-Length", str(len(data)))],
            )
            return [data]
        if path == "/healthz" and method in ("GET", "HEAD"):
            if self._db.is_available():
                return _json(start_response, "200 OK", {"status": "ok", "database": "ok"})
            return _json(
                start_response,
                "503 Service Unavailable",
                {"status": "unavailable", "database": "unreachable"},
            )
        if path == SLACK_PATH and method == "POST":
            if int(environ.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
                return _json(start_response, "413 Payload Too Large", {"error": "body too large"})
            return self._slack_request(environ, start_response)
        if path in self._oauth_paths and method == "GET":
            return self._slack(environ, start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    def _slack_request(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Verify, then check and clean the body, then hand it to Bolt: nothing parses a
        request before its signature is known to be Slack's."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        content_type = environ.get("CONTENT_TYPE", "")
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            return self._refuse(start_response, "body is not UTF-8, so it isn't from Slack")
        problem = self._signature_problem(environ, text)
        if problem is not None:
            if _is_certificate_check(text, content_type):
                return _json(start_response, "200 OK", None)  # Bolt's answer to it: empty
            return self._refuse(start_response, problem)
        try:
            payload = storable_payload(text, content_type)
        except MalformedBody:
            self._refusals.refused("signed, but the body is not a Slack payload")
            return _json(start_response, "400 Bad Request", {"error": "malformed request"})
        body = json.dumps(payload).encode()
        cleaned = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        acks = metrics.instruments().acks.labels(kind=request_kind(payload))
        with metrics.timed(acks.observe):
            return self._slack(cleaned, start_response)

    def _signature_problem(self, environ: dict[str, Any], body: str) -> str | None:
        """Why the request isn't signed by Slack, or None when it is."""
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        if timestamp is None or signature is None:
            return "not signed (no X-Slack-Signature or X-Slack-Request-Timestamp)"
        if not re.fullmatch("[0-9]{1,15}", timestamp):
            return "its X-Slack-Request-Timestamp is not a time"
        if self._verifier.is_valid(body, timestamp, signature):
            return None
        if abs(self._verifier.clock.now() - int(timestamp)) > STALE_AFTER_SECONDS:
            return (
                "its timestamp is more than 5 minutes off this server's clock (a replay, or "
                "this server's clock is wrong)"
            )
        return "bad signature (is SLACK_SIGNING_SECRET the Signing Secret of this Slack app?)"

    def _refuse(self, start_response: StartResponse, reason: str) -> list[bytes]:
        self._refusals.refused(reason)
        return _json(start_response, "401 Unauthorized", {"error": "invalid request"})


def storable_payload(body: str, content_type: str) -> dict[str, Any]:
    """The Slack payload in ``body`` (a JSON body, form fields with a JSON ``payload``, or a
    slash command's plain form fields, as Bolt reads them) as one object, without the
    characters no database can store, so no feature ever meets one. Handed to Bolt as JSON,
    which Bolt reads as it is: it reads a form body that merely contains the word "payload"
    (in a command's text) as empty. Raises ``MalformedBody`` if it isn't a Slack payload.
    """
    if content_type.split(";")[0].strip() == "application/json" or body.startswith("{"):
        return _json_object(body)
    fields = dict(parse_qsl(body, keep_blank_values=True))
    return _json_object(fields["payload"]) if "payload" in fields else storable(fields)


def request_kind(payload: dict[str, Any]) -> str:
    """What a Slack request is, for metrics: ``command:/pulse``, ``block_actions``,
    ``event:message``… Only signed requests get here, and Slack sends only the app's own
    commands and Slack's own types, so the set stays small; anything else is ``other``."""
    command, kind = payload.get("command"), payload.get("type")
    if isinstance(command, str) and re.fullmatch("/[a-z0-9_-]{1,32}", command):
        return f"command:{command}"
    if kind == "event_callback" and isinstance(event := payload.get("event"), dict):
        event_type = event.get("type")
        if isinstance(event_type, str) and re.fullmatch("[a-z_]{1,40}", event_type):
            return f"event:{event_type}"
    if isinstance(kind, str) and re.fullmatch("[a-z_]{1,40}", kind):
        return kind
    return "other"


def _json_object(text: str) -> dict[str, Any]:
    try:
        parsed = storable(json.loads(text))
    except (ValueError, RecursionError) as error:
        raise MalformedBody("not JSON") from error
    if not isinstance(parsed, dict):
        raise MalformedBody("not a JSON object")
    return parsed


def storable(value: Any) -> Any:
    """``value`` with every string in it (keys too) rid of ``UNSTORABLE_CHARACTERS``."""
    if isinstance(value, str):
        return UNSTORABLE_CHARACTERS.sub("", value)
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    return value


def _is_certificate_check(body: str, content_type: str) -> bool:
    """Slack's check of the TLS certificate (``ssl_check=1``), which it sends unsigned."""
    return content_type.startswith(FORM_CONTENT_TYPE) and ("ssl_check", "1") in parse_qsl(body)


def _json(start_response: StartResponse, status: str, body: dict[str, str] | None) -> list[bytes]:
    """A JSON answer; an empty one for ``body=None``."""
    data = b"" if body is None else json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]
