"""Stopping on SIGTERM without leaving a library's lock held.

SIGTERM stops a Rapport process by raising ``SystemExit`` in its main thread, but only
while that thread waits to be stopped (``waiting``: serving, standing by, watching its web
workers). Raised in the middle of other work, such as a Slack call at start-up, the
exception could leave a library's lock held for good, and something at exit would then wait
on it forever. A SIGTERM that comes then is kept until the main thread next waits.

The main thread waits in naps (``NAP_SECONDS``) where it can: the kernel may hand a
process's SIGTERM to any of its threads, and Python then only sets a flag that the main
thread reads between two steps of Python code, so a main thread blocked in one long wait (a
lock, ``os.wait``) would never read it.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TypeVar

NAP_SECONDS = 0.5

T = TypeVar("T")

_waiting = False
_requested = False


def stop_on_sigterm() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    global _requested
    _requested = True
    if _waiting:
        raise SystemExit(0)


@contextmanager
def waiting() -> Iterator[None]:
    """The main thread only waits to be stopped in here: a SIGTERM, now or kept from
    before, raises ``SystemExit``."""
    global _waiting
    _waiting = True  # first, so that a SIGTERM from now on raises at once
    try:
        if _requested:
            raise SystemExit(0)
        yield
    finally:
        _waiting = False


def nap_until(found: Callable[[], T | None]) -> T:
    """What ``found`` finds, asked now and after each nap; a SIGTERM meanwhile stops it."""
    with waiting():
        while (result := found()) is None:
            time.sleep(NAP_SECONDS)
        return result


def nap_until_stopped() -> None:
    nap_until(lambda: None)
