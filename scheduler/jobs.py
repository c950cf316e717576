"""What a recurring job is.

Jobs decide *what is due* (from the database, with the injected clock); the domain decides
*what to do*; ``bot.slack.outbox`` sends. Each job is safe to run twice: sends are claimed in the
ledger first, so an overlapping or repeated run finds nothing left to do. A run that did
something (sent, changed) says so in one INFO line; an idle run logs nothing (APScheduler's
own lines show only at DEBUG). Every feature's jobs are listed in
``scheduler.runner.ALL_JOBS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.services import Services


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: int
    run: Callable[[Services], object]  # on the active scheduler
    # on each standby scheduler (PostgreSQL), at the same interval: its share of the sending,
    # workspaces split with the active one (bot.slack.fan_out); None: nothing
    standby: Callable[[Services], object] | None = None
