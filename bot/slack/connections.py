"""Slack Web API calls, and replies through response URLs, over connections kept alive from
one call to the next.

slack-sdk's ``WebClient`` opens a new connection for every call (through urllib): a TCP
connection and, with Slack, a TLS handshake, which costs the calling thread more CPU than
the rest of the call (``bench/slack_https_cost.py``). ``KeepAliveWebClient`` makes its
calls through one pool of connections per process (urllib3), and hands slack-sdk what
urllib would have: the same answers, ``HTTPError`` for an HTTP error status, ``URLError``
around the socket's error when no connection could be made, the socket's error itself
when the answer failed to come. So slack-sdk's retry handlers, Rapport's and the send ledger's
reading of a failed post see what they always saw: a refused connection never carried the
request; one that drops after sending it may have. Bolt's ``respond`` (slack-sdk's
``WebhookClient``) opened a connection for every reply too; ``KeepAliveRespond`` posts its
replies through the same pool.
"""

from __future__ import annotations

import http.client
import io
import os
import threading
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request

import urllib3
from slack_bolt import Respond
from slack_bolt.context.respond.internals import _build_message  # how Bolt's respond builds it
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient, WebhookResponse

# Connections kept per host: more than a process has threads calling Slack (a web
# process's background threads, a scheduler's send threads), so none is thrown away.
CONNECTIONS_PER_HOST = 512

_pool: urllib3.PoolManager | None = None
_pool_lock = threading.Lock()


def _connections() -> urllib3.PoolManager:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = urllib3.PoolManager(maxsize=CONNECTIONS_PER_HOST, retries=False)
        return _pool


def _forget_connections() -> None:
    """In a forked child: the parent's connections are the parent's to use."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_connections)


class KeepAliveWebClient(WebClient):
    """A ``WebClient`` whose calls reuse this process's connections to Slack. A client
    given its own SSL context or a proxy calls as slack-sdk does."""

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if not _pooled(self, url):
            return super()._perform_urllib_http_request_internal(url, req)
        response, headers = _post(url, req, self.timeout)
        if headers.get_content_type() == "application/gzip":
            return {"status": response.status, "headers": headers, "body": response.data}
        body = response.data.decode(headers.get_content_charset() or "utf-8")
        return {"status": response.status, "headers": headers, "body": body}


class KeepAliveWebhookClient(WebhookClient):
    """A ``WebhookClient`` (replies through a response URL) posting over this process's
    kept connections, as ``KeepAliveWebClient`` calls."""

    def _perform_http_request_internal(self, url: str, req: Request) -> WebhookResponse:
        if not _pooled(self, url):
            return super()._perform_http_request_internal(url, req)
        response, headers = _post(url, req, self.timeout)
        body = response.data.decode(headers.get_content_charset() or "utf-8")
        return WebhookResponse(url=url, status_code=response.status, body=body, headers=headers)


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


def _post(
    url: str, req: Request, timeout: float
) -> tuple[urllib3.BaseHTTPResponse, http.client.HTTPMessage]:
    """``req`` posted over a kept connection: the answer and its headers, or the error
    urllib would have raised."""
    try:
        response = _connections().request(
            "POST",
            url,
            body=req.data,
            headers=dict(req.header_items()),
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            redirect=False,
        )
    except (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ProtocolError) as error:
        # the request went out and the answer didn't come: urllib raises the socket's
        # error itself (a time-out, a reset or a connection closed unanswered)
        raise _socket_error(error) from error
    except urllib3.exceptions.HTTPError as error:  # no connection: the request never left
        raise URLError(_socket_error(error)) from error
    headers = http.client.HTTPMessage()
    for name, value in response.headers.items():
        headers[name] = value
    if not 200 <= response.status < 300:
        answer = io.BytesIO(response.data)
        raise HTTPError(url, response.status, response.reason, headers, answer)
    return response, headers


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


def _socket_error(error: urllib3.exceptions.HTTPError) -> BaseException:
    """The socket's error under urllib3's (a refused connection, a reset, a time-out)."""
    cause = error.__cause__ or next((a for a in error.args if isinstance(a, OSError)), None)
    return cause if isinstance(cause, OSError) else error
