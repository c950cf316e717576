"""Work that several threads ask for at once, done once.

A thread that asks for a key while another thread's run of it is under way waits for that
run and takes its result (or its error) instead of doing the work again; once a run ends,
the next ask runs it anew. Nothing is kept after a run: it is no cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[K, Future[V]] = {}

    def run(self, key: K, work: Callable[[], V]) -> tuple[V, bool]:
        """``work()``'s result, or that of the run of ``key`` under way; and whether this
        call did the work (True) or shared another's (False)."""
        with self._lock:
            running = self._running.get(key)
            leads = running is None
            if running is None:
                running = self._running[key] = Future()
        if not leads:
            return running.result(), False
        try:
            value = work()
        except BaseException as error:
            running.set_exception(error)
            raise
        finally:
            with self._lock:
                del self._running[key]
        running.set_result(value)
        return value, True
