"""Every recurring job, and how often it looks for due work.

Jobs decide *what is due* (from the database, with the injected clock); the domain decides
*what to do*; ``bot.outbox`` sends. Each job is safe to run twice: sends are claimed in the
ledger first, so an overlapping or repeated run finds nothing left to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.base import BaseScheduler
from slack_sdk import WebClient

from bot.services import Services


@dataclass(frozen=True)
class JobContext:
    services: Services
    client: WebClient


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: int
    run: Callable[[JobContext], object]


JOBS: list[Job] = [
    # each feature adds its jobs here, one line each
]


def register_jobs(scheduler: BaseScheduler, context: JobContext, jobs: list[Job] = JOBS) -> None:
    for job in jobs:
        scheduler.add_job(
            job.run, "interval", seconds=job.every_seconds, args=[context], id=job.name
        )
