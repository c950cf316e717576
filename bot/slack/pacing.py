"""Pacing of a big fan-out of Slack messages."""

from __future__ import annotations

import time as time_module
from collections.abc import Callable

# Slack allows chat.postMessage about once per second per channel and in bursts beyond
# that; pacing a big fan-out below the workspace limit avoids most 429s (which are still
# honoured: the client waits Retry-After, and a prompt that keeps failing is retried on
# the next tick). bench/pulse_fanout.py measures both ways.
PROMPTS_PER_SECOND = 20
# conversations.open and users.info are in Slack's Tier 3 (50+ calls a minute)
OPENS_PER_SECOND = 50 / 60


class Pacer:
    """Spaces calls to at most ``per_second`` (0 = unpaced) so a big fan-out stays under
    Slack's rate limit instead of bouncing off 429s."""

    def __init__(self, per_second: float, sleep: Callable[[float], None] = time_module.sleep):
        self.interval = 1.0 / per_second if per_second else 0.0
        self.sleep = sleep
        self.next_at = 0.0

    def wait(self) -> None:
        if not self.interval:
            return
        now = time_module.monotonic()
        if self.next_at > now:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval
