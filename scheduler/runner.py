"""The APScheduler instance that runs inside ``rapport run``."""

from __future__ import annotations

from datetime import UTC

from apscheduler.schedulers.background import BackgroundScheduler

MISFIRE_GRACE_SECONDS = 300


def create_scheduler() -> BackgroundScheduler:
    """A UTC scheduler whose jobs never overlap themselves and coalesce missed runs.

    Jobs are registered by the features that need them; a missed run is run once on
    start-up (coalesced), never as a burst.
    """
    return BackgroundScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
    )
