"""Pacing of a big fan-out of Slack messages, per workspace and per kind of call.

Slack's rate limits are per workspace and per method, so each workspace gets its own pacers:
one workspace's fan-out never spends another's allowance nor waits behind it.
"""

from __future__ import annotations

import threading
import time as time_module
from collections.abc import Callable

# Slack allows chat.postMessage about once per second per channel and in bursts beyond
# that; pacing a workspace's fan-out below its limit avoids most 429s (which are still
# honoured: the workspace is held back until Retry-After has passed, and a prompt that
# failed is retried on a later tick). bench/pulse_fanout.py measures both ways.
PROMPTS_PER_SECOND = 20
# conversations.open and users.info are in Slack's Tier 3 (50+ calls a minute)
OPENS_PER_SECOND = 50 / 60

POSTS = "posts"  # chat.postMessage (and a pulse's zone lookups, which share its pace)
OPENS = "opens"  # conversations.open, users.info
PRODUCTION_PACE = {POSTS: PROMPTS_PER_SECOND, OPENS: OPENS_PER_SECOND}


class Pacer:
    """Spaces calls to at most ``per_second`` (0 = unpaced) so a big fan-out stays under
    Slack's rate limit instead of bouncing off 429s. Safe to share between threads."""

    def __init__(self, per_second: float, sleep: Callable[[float], None] = time_module.sleep):
        self.interval = 1.0 / per_second if per_second else 0.0
        self.sleep = sleep
        self.next_at = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:  # take the next slot; sleep for it outside the lock
            now = time_module.monotonic()
            slot = max(now, self.next_at)
            self.next_at = slot + self.interval
        if slot > now:
            self.sleep(slot - now)


class WorkspacePacers:
    """A ``Pacer`` per (workspace, kind of call), made on first use and shared by every job
    of the process, at ``pace[kind]`` calls a second (``PRODUCTION_PACE``; 0 = unpaced)."""

    def __init__(self, pace: dict[str, float] | None = None):
        self._pace = PRODUCTION_PACE if pace is None else pace
        self._pacers: dict[tuple[str, str], Pacer] = {}
        self._lock = threading.Lock()

    @classmethod
    def unpaced(cls) -> WorkspacePacers:
        return cls(dict.fromkeys(PRODUCTION_PACE, 0.0))

    def pacer(self, team_id: str, kind: str) -> Pacer:
        with self._lock:
            pacer = self._pacers.get((team_id, kind))
            if pacer is None:
                pacer = self._pacers[(team_id, kind)] = Pacer(self._pace[kind])
            return pacer

    def wait(self, team_id: str, kind: str) -> None:
        self.pacer(team_id, kind).wait()
