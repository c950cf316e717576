"""Slack Web API calls, and replies through response URLs, over connections kept alive from
one call to the next.

slack-sdk's ``WebClient`` opens a new connection for every call (through urllib): a TCP
connection and, with Slack, a TLS handshake, which costs the calling thread more CPU than
the rest of the call (``bench/slack_https_cost.py``). ``KeepAliveWebClient`` makes its
calls over connections this process keeps open (``KeptConnections``: the standard
library's ``http.client`` connections, the ones urllib opens, kept after their answer) and
hands slack-sdk what urllib would have, since it is urllib's own handling of the same
connection: the same answers, ``HTTPError`` for an HTTP error status, ``URLError`` around
the socket's error when the request couldn't be sent, the socket's error itself when the
answer failed to come. So slack-sdk's retry handlers, Rapport's and the send ledger's
reading of a failed post see what they always saw: a refused connection never carried the
request; one that drops after sending it may have. Bolt's ``respond`` (slack-sdk's
``WebhookClient``) opened a connection for every reply too; ``KeepAliveRespond`` posts its
replies over the same connections.

Kept ``http.client`` connections rather than urllib3's pool, which these calls went through
before: far less Python a call, measured where it counts (``docs/architecture.md``), and no
errors to translate back into urllib's.
"""

from __future__ import annotations

import http.client
import io
import os
import select
import ssl
import threading
from typing import Any, NamedTuple
from urllib.error import HTTPError, URLError
from urllib.request import Request

from slack_bolt import Respond
from slack_bolt.context.respond.internals import _build_message  # how Bolt's respond builds it
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient, WebhookResponse

# Idle connections kept per host: more than a process has threads calling Slack (a web
# process's background threads, a scheduler's send threads), so none is thrown away.
CONNECTIONS_PER_HOST = 512

Origin = tuple[str, str]  # scheme, and host with its port if any (as urllib's Request has them)


class Answer(NamedTuple):
    """A successful answer, read whole."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes


class KeptConnections:
    """A process's open connections to Slack's hosts, each used by one call at a time:
    a call takes an idle one (or opens one), and gives it back once it has read the whole
    answer. One the other end has closed since (Slack closes those left idle) is noticed
    before it is used, and left."""

    def __init__(self) -> None:
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    def take(self, origin: Origin, timeout: float) -> http.client.HTTPConnection:
        # Idle ones are checked holding the lock: the threads queueing for it then wait
        # asleep instead of for the interpreter (bench/command_throughput.py: /rapport setup
        # 1,185-1,458 acks a second against 743-779 with the check outside it)
        with self._lock:
            idle = self._idle.get(origin)
            while idle:
                connection = idle.pop()  # the most recently used: the likeliest still open
                if _still_open(connection):
                    connection.sock.settimeout(timeout)
                    return connection
                connection.close()
        scheme, host = origin
        if scheme == "https":
            return http.client.HTTPSConnection(host, timeout=timeout, context=self._context())
        return http.client.HTTPConnection(host, timeout=timeout)

    def give_back(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < CONNECTIONS_PER_HOST:
                idle.append(connection)
                return
        connection.close()

    def _context(self) -> ssl.SSLContext:
        """What urllib verifies Slack's certificate with when given no context."""
        if self._tls is None:
            self._tls = ssl.create_default_context()
            self._tls.set_alpn_protocols(["http/1.1"])
        return self._tls


_kept = KeptConnections()


def _forget_connections() -> None:
    """In a forked child: the parent's connections are the parent's to use."""
    global _kept
    _kept = KeptConnections()


os.register_at_fork(after_in_child=_forget_connections)


class KeepAliveWebClient(WebClient):
    """A ``WebClient`` whose calls reuse this process's connections to Slack. A client
    given its own SSL context or a proxy calls as slack-sdk does."""

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if not _pooled(self, url):
            return super()._perform_urllib_http_request_internal(url, req)
        status, headers, body = _post(req, self.timeout)
        if headers.get_content_type() == "application/gzip":
            return {"status": status, "headers": headers, "body": body}
        text = body.decode(headers.get_content_charset() or "utf-8")
        return {"status": status, "headers": headers, "body": text}


class KeepAliveWebhookClient(WebhookClient):
    """A ``WebhookClient`` (replies through a response URL) posting over this process's
    kept connections, as ``KeepAliveWebClient`` calls."""

    def _perform_http_request_internal(self, url: str, req: Request) -> WebhookResponse:
        if not _pooled(self, url):
            return super()._perform_http_request_internal(url, req)
        status, headers, body = _post(req, self.timeout)
        text = body.decode(headers.get_content_charset() or "utf-8")
        return WebhookResponse(url=url, status_code=status, body=text, headers=headers)


class KeepAliveRespond(Respond):
    """Bolt's ``respond``, its replies posted by a ``KeepAliveWebhookClient``."""

    def __call__(self, text: str | dict = "", **message: Any) -> WebhookResponse:
        if self.response_url is None or not isinstance(text, str):
            return super().__call__(text, **message)  # Bolt's refusal, or a whole message
        client = KeepAliveWebhookClient(url=self.response_url, proxy=self.proxy, ssl=self.ssl)
        return client.send_dict(_build_message(text=text, **message))


def _pooled(client: WebClient | WebhookClient, url: str) -> bool:
    """Whether ``client``'s call to ``url`` goes through the kept connections: not for a
    client given its own SSL context or a proxy, which calls as slack-sdk does."""
    return client.ssl is None and client.proxy is None and url.startswith("http")


def _post(req: Request, timeout: float) -> Answer:
    """``req`` posted over a kept connection: the answer, read whole, or the error urllib
    would have raised (its ``do_open``, and ``HTTPError`` for an error status)."""
    origin = (req.type, req.host)
    connection = _kept.take(origin, timeout)
    try:
        try:
            connection.request(
                req.get_method(), req.selector, body=req.data, headers=dict(req.header_items())
            )
        except OSError as error:  # as urllib says it: not sent (a refused connection, …)
            raise URLError(error) from error
        response = connection.getresponse()  # its errors as they are: it may have been sent
        body = response.read()
    except BaseException:
        connection.close()
        raise
    if response.will_close:
        connection.close()
    else:
        _kept.give_back(origin, connection)
    if not 200 <= response.status < 300:
        raise HTTPError(
            req.full_url, response.status, response.reason, response.msg, io.BytesIO(body)
        )
    return Answer(response.status, response.msg, body)


def respond_keeping_alive(respond: Respond) -> Respond:
    """``respond`` itself (the one Bolt makes for each request), its replies posted from now
    on over this process's kept connections, as ``keep_alive`` does for a client."""
    respond.__class__ = KeepAliveRespond
    return respond


def keep_alive(client: WebClient) -> WebClient:
    """``client`` itself (the one Bolt makes for each request), its calls made from now on
    through this process's kept connections. ``KeepAliveWebClient`` adds no state to
    ``WebClient``'s, so changing the class keeps the token, workspace and retry handlers as
    they are, at no cost."""
    client.__class__ = KeepAliveWebClient
    return client


def _still_open(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle connection is still open: nothing to read on it yet (the other end
    closing it would be)."""
    if connection.sock is None:
        return False
    poller = select.poll()  # (select.select can't watch a descriptor past 1,023)
    poller.register(connection.sock, select.POLLIN)
    return not poller.poll(0)
