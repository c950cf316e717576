"""Slack Web API calls over connections kept alive from one call to the next.

slack-sdk's ``WebClient`` opens a new connection for every call (through urllib): a TCP
connection and, with Slack, a TLS handshake, which costs the calling thread more CPU than
the rest of the call (``bench/slack_https_cost.py``). ``KeepAliveWebClient`` makes its
calls through one pool of connections per process (urllib3), and hands slack-sdk what
urllib would have: the same answers, ``HTTPError`` for an HTTP error status, ``URLError``
around the socket's error when no connection could be made, the socket's error itself
when the answer failed to come. So slack-sdk's retry handlers, Rapport's and the send ledger's
reading of a failed post see what they always saw: a refused connection never carried the
request; one that drops after sending it may have.
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
from slack_sdk import WebClient

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
        if self.ssl is not None or self.proxy is not None or not url.startswith("http"):
            return super()._perform_urllib_http_request_internal(url, req)
        try:
            response = _connections().request(
                "POST",
                url,
                body=req.data,
                headers=dict(req.header_items()),
                timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout),
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
        if headers.get_content_type() == "application/gzip":
            return {"status": response.status, "headers": headers, "body": response.data}
        body = response.data.decode(headers.get_content_charset() or "utf-8")
        return {"status": response.status, "headers": headers, "body": body}


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
