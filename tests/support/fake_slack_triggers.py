"""What Slack allows once, or for a while, in the fake Slack: a ``trigger_id`` opens one view
within 3 seconds of the request that carried it, and a response URL takes five replies.

A view opened with a trigger already used is refused with ``exchanged_trigger_id``, and one
opened more than ``TRIGGER_SECONDS`` after the fake handed out its trigger (``trigger_id``,
as the tests' Slack client does for each request) with ``expired_trigger_id``; a trigger the
fake didn't hand out (a benchmark's own) is held to one use only. A sixth reply through one
response URL is refused with HTTP 404, ``used_url``. Benchmarks that send one signed body
over and over (ApacheBench) make ``FakeSlack(replayed=True)``, which checks neither.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

TRIGGER_SECONDS = 3.0
RESPONSE_URL_USES = 5
WITH_TRIGGER = frozenset({"views.open", "views.push"})


class FakeSlackTriggers:
    """The triggers and response URLs half of ``FakeSlack``."""

    _lock: threading.Lock
    _ids: Any  # itertools.count

    def _init_triggers(self, replayed: bool) -> None:
        self._checks_uses = not replayed
        self._triggers_handed_out: dict[str, float] = {}  # trigger -> time.monotonic()
        self._triggers_used: set[str] = set()
        self._response_url_uses: Counter[str] = Counter()

    def trigger_id(self) -> str:
        """A trigger for a request the tests send, valid for ``TRIGGER_SECONDS`` from now."""
        trigger = f"{next(self._ids)}.1234.abcdef"
        with self._lock:
            self._triggers_handed_out[trigger] = time.monotonic()
        return trigger

    def use_trigger(self, method: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """Take the trigger ``method`` opens a view with: Slack's refusal when it can't be
        taken (used before, or run out), else None."""
        trigger = args.get("trigger_id")
        if method not in WITH_TRIGGER or not trigger or not self._checks_uses:
            return None
        with self._lock:
            if trigger in self._triggers_used:
                return {"ok": False, "error": "exchanged_trigger_id"}
            self._triggers_used.add(trigger)
            handed_out = self._triggers_handed_out.get(trigger)
        if handed_out is not None and time.monotonic() - handed_out > TRIGGER_SECONDS:
            return {"ok": False, "error": "expired_trigger_id"}
        return None

    def use_response_url(self, path: str) -> str | None:
        """Count a reply through the response URL ``path``: ``used_url`` past the fifth,
        else None."""
        if not self._checks_uses:
            return None
        with self._lock:
            self._response_url_uses[path] += 1
            return "used_url" if self._response_url_uses[path] > RESPONSE_URL_USES else None
