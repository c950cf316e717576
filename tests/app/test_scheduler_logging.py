"""What the scheduler logs at INFO: one line for each job run that sent or changed
something, nothing for the idle runs (six a minute, thousands a day), none of APScheduler's."""

from __future__ import annotations

import logging
import threading

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

from bot.core.settings import QUIET_LIBRARIES, Settings, configure_logging
from scheduler.runner import ALL_JOBS, create_scheduler
from tests.support.due_work import seed_due_work
from tests.support.helpers import scheduler_services


def test_only_job_runs_that_did_something_are_logged(rapport, caplog):
    seed_due_work(rapport.db, rapport.clock, 4, rapport.fake)  # pulse and check-in work due
    caplog.set_level(logging.INFO)
    configure_logging(Settings(slack_bot_token="x", slack_signing_secret="s"))  # as `rapport run`
    services = scheduler_services(rapport)
    scheduler = create_scheduler(services)
    ran: set[str] = set()
    failed: list[JobExecutionEvent] = []
    every_job_ran = threading.Event()

    def finished(event: JobExecutionEvent) -> None:
        ran.add(event.job_id)
        if event.exception is not None:
            failed.append(event)
        if ran == {job.name for job in ALL_JOBS}:
            every_job_ran.set()

    scheduler.add_listener(finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    try:
        scheduler.start()  # every job runs once at start, the next runs are minutes away
        assert every_job_ran.wait(timeout=60), f"only {ran} ran"
    finally:
        scheduler.shutdown(wait=True)
        services.close()
        for name in (*QUIET_LIBRARIES, "apscheduler"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    assert failed == []
    job_lines = [r for r in caplog.records if r.name.startswith("scheduler.")]
    assert [r.name for r in job_lines].count("scheduler.pulse_jobs") == 1
    (checkins,) = [r for r in job_lines if r.name == "scheduler.checkin_jobs"]
    assert checkins.getMessage() == "check-in tick: sent 4 message(s)"
    (health,) = [r for r in job_lines if r.name == "scheduler.health_jobs"]
    assert health.getMessage() == "health: 1 weekly snapshot(s) stored"
    assert len(job_lines) == 3  # the four idle jobs said nothing
    assert [r for r in caplog.records if r.name.startswith("apscheduler")] == []
