"""Health figures Slack has just shown, reused for a few seconds.

Working out a relationship's figures reads a dozen tables and costs a few milliseconds, and
people often ask for the same relationship's health together: a team looking at it in a
meeting, both sides' owners after the weekly digest. For ``FRESH_FOR`` after they were
worked out, once Slack has shown them whole (the chart too, if there is one), the same
relationship's health is answered from them at once, in the acknowledgement, each person
seeing them as their role allows. A change made meanwhile (a check-in marked as held) shows
once they are that old: short enough that someone who changes something and then asks
again sees it. Each process keeps its own, and at most ``MOST`` relationships' at a time
(the least recently asked for go first).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from cachetools import LRUCache

FRESH_FOR = timedelta(seconds=5)
MOST = 1024

V = TypeVar("V")


class RecentlyShown(Generic[V]):
    """What was shown of each relationship in a workspace, and when, by the app's clock."""

    def __init__(self) -> None:
        self._shown: LRUCache[tuple[int, str], tuple[V, datetime]] = LRUCache(maxsize=MOST)
        self._lock = threading.Lock()  # cachetools' caches aren't safe across threads

    def get(self, relationship_id: int, team_id: str, now: datetime) -> V | None:
        """What was shown less than ``FRESH_FOR`` before ``now``, else None."""
        with self._lock:
            kept = self._shown.get((relationship_id, team_id))
        if kept is None or not timedelta(0) <= now - kept[1] < FRESH_FOR:
            return None
        return kept[0]

    def put(self, relationship_id: int, team_id: str, shown: V, at: datetime) -> None:
        with self._lock:
            self._shown[relationship_id, team_id] = (shown, at)
