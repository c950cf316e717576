"""The HTTP front door: ``POST /slack/events`` for Slack, ``GET /healthz`` for load balancers,
and, when Rapport is installed through OAuth, ``GET /slack/install`` and
``GET /slack/oauth_redirect``.

Served by waitress (a production WSGI server); Bolt's WSGI adapter does Slack's signature
and timestamp checks on every request.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server

from bot.db import Database

logger = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
MAX_BODY_BYTES = 512 * 1024  # Slack's largest payloads (views with many blocks) are far smaller
# waitress drops the connection above this; between the two the app answers a clean 413
SERVER_BODY_CAP_BYTES = 4 * MAX_BODY_BYTES
SERVER_THREADS = 8

StartResponse = Callable[..., Any]


class RapportWsgi:
    def __init__(self, app: App, db: Database):
        self._slack = SlackRequestHandler(app, path=SLACK_PATH)
        self._db = db
        flow = app.oauth_flow
        self._oauth_paths = {flow.install_path, flow.redirect_uri_path} if flow else set()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            if self._db.is_available():
                return _json(start_response, "200 OK", {"status": "ok", "database": "ok"})
            return _json(
                start_response,
                "503 Service Unavailable",
                {"status": "unavailable", "database": "unreachable"},
            )
        if path == SLACK_PATH:
            if int(environ.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
                return _json(start_response, "413 Payload Too Large", {"error": "body too large"})
            return self._slack(environ, start_response)
        if path in self._oauth_paths and method == "GET":
            return self._slack(environ, start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})


def _json(start_response: StartResponse, status: str, body: dict[str, str]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def create_http_server(
    wsgi_app: RapportWsgi,
    host: str = "0.0.0.0",
    port: int = 0,
    sockets: list[socket.socket] | None = None,
) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server; ``port=0`` picks a free port (see ``effective_port``). With
    ``sockets`` it serves those, already listening (web workers share one)."""
    where: dict[str, Any] = {"sockets": sockets} if sockets else {"host": host, "port": port}
    return create_server(
        wsgi_app,
        **where,
        threads=SERVER_THREADS,
        max_request_body_size=SERVER_BODY_CAP_BYTES,
        ident="rapport",
        clear_untrusted_proxy_headers=True,
    )


def stop_http_server(server: BaseWSGIServer) -> None:
    """Stop a server running in another thread: closing happens inside its own loop."""

    def close_everything() -> None:
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)

    server.trigger.pull_trigger(close_everything)
