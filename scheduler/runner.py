"""The APScheduler instance that runs inside ``rapport run``, and every job it runs."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.services import Services
from scheduler.checkin_jobs import CHECKIN_JOBS
from scheduler.delivery_jobs import DELIVERY_JOBS
from scheduler.digest_jobs import DIGEST_JOBS
from scheduler.drift_jobs import DRIFT_JOBS
from scheduler.health_jobs import HEALTH_JOBS
from scheduler.home_jobs import HOME_JOBS
from scheduler.intros_jobs import INTROS_JOBS
from scheduler.jobs import Job
from scheduler.pulse_jobs import PULSE_JOBS
from scheduler.workspace_jobs import WORKSPACE_JOBS

MISFIRE_GRACE_SECONDS = 300

ALL_JOBS: list[Job] = [
    *CHECKIN_JOBS,
    *DELIVERY_JOBS,
    *DIGEST_JOBS,
    *DRIFT_JOBS,
    *HEALTH_JOBS,
    *INTROS_JOBS,
    *HOME_JOBS,
    *PULSE_JOBS,
    *WORKSPACE_JOBS,
]


def standby_jobs(jobs: list[Job] = ALL_JOBS) -> list[Job]:
    """What a standby scheduler runs on PostgreSQL: the jobs' shares of the sending."""
    return [Job(job.name, job.every_seconds, job.standby) for job in jobs if job.standby]


def create_scheduler(services: Services, jobs: list[Job] = ALL_JOBS) -> BackgroundScheduler:
    """A UTC scheduler running ``jobs``; a job never overlaps itself and missed runs coalesce
    into one run, never a burst. Every job also runs as soon as the scheduler starts, so a
    standby taking over finishes a fan-out its dead leader began within seconds, not after
    a whole interval."""
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
    )
    started = datetime.now(UTC)
    for job in jobs:
        scheduler.add_job(
            job.run,
            "interval",
            seconds=job.every_seconds,
            args=[services],
            id=job.name,
            next_run_time=started,
        )
    return scheduler
