"""A short id for each Slack request, on every log line written while serving it.

The id is set where a request comes in (``bot.web``) and lives in a context variable, so it
follows the request into its listener and into the work deferred after the ack
(``Services.defer`` runs that work in the request's context). ``LOG_FORMAT=json`` writes it
as ``request_id``; lines outside any request have none.
"""

from __future__ import annotations

import contextvars
import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


@contextmanager
def serving_request() -> Iterator[str]:
    """A new request id for the block: 12 hex characters, unique enough to grep for. Not a
    secret, so not from the operating system's random source, which costs a system call."""
    token = _current.set(f"{random.getrandbits(48):012x}")
    try:
        yield _current.get() or ""
    finally:
        _current.reset(token)


def current() -> str | None:
    return _current.get()


class RequestIdFilter(logging.Filter):
    """Puts the request id (or None) on each record as ``record.request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get()
        return True
