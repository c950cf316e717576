"""What listeners and jobs need: the database, the clock, each workspace's Slack client,
and a place to run Slack calls after the acknowledgement."""

from __future__ import annotations

import contextvars
import gc
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackClientError
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from bot.core.clock import Clock, SystemClock
from bot.core.db import Database
from bot.core.settings import Settings
from bot.drift.config import DriftConfigCache
from bot.slack.client import SlackClients
from bot.slack.fan_out import WorkspaceFanOut, locks_for
from bot.slack.installations import InstallationStore

logger = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on our side and nothing was changed. Please try again."
DATABASE_DOWN = "Rapport can't reach its database right now. Please try again in a moment."


class Backlog:
    """How long the work handed to ``Services.defer`` has been waiting for a thread: since
    the oldest piece not started yet was handed over. Work waits only while every thread is
    busy, and the pool starts it in the order it was handed over, so each start takes the
    oldest time off."""

    def __init__(self) -> None:
        self._handed: deque[datetime] = deque()  # of the pieces waiting, oldest first
        self._lock = threading.Lock()

    def handed(self, at: datetime) -> None:
        with self._lock:
            self._handed.append(at)

    def started(self) -> None:
        with self._lock:
            if self._handed:
                self._handed.popleft()

    def waited(self, now: datetime) -> timedelta:
        """How long the oldest piece not started yet has waited; zero when none waits."""
        with self._lock:
            return max(now - self._handed[0], timedelta(0)) if self._handed else timedelta(0)


@dataclass(frozen=True)
class Services:
    db: Database
    clock: Clock
    background: Executor  # Slack calls made after ack(); see defer()
    slack: SlackClients  # for scheduled messages, which no Slack request brought a client for
    fan_out: WorkspaceFanOut  # scheduled messages to many workspaces at once
    installations: InstallationStore | None = None  # set when installed through OAuth
    drift_configs: DriftConfigCache = field(default_factory=DriftConfigCache)
    backlog: Backlog = field(default_factory=Backlog)  # of the work handed to defer()

    def defer(
        self,
        work: Callable[..., Any],
        *args: Any,
        apologise: Callable[..., Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Run ``work`` after the listener returns.

        Bolt acknowledges from its listener threads, so a listener that waited on Slack there
        would make the next requests' acknowledgements queue behind it. Failures are logged.
        With ``apologise`` (a click's ``respond``), Rapport's own failures (the database, a
        bug) are also told to the person who clicked; Slack's are not, since Slack may have
        done the work, and the way back to the person is Slack too.
        """
        context = contextvars.copy_context()  # the request's id goes along (bot.core.request_ids)
        self.backlog.handed(self.clock.now())
        future = self.background.submit(context.run, self._start, work, *args, **kwargs)
        future.add_done_callback(lambda done: context.run(_log_failure, apologise, done))

    def _start(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.backlog.started()
        return work(*args, **kwargs)

    def too_busy_for_a_form(self) -> bool:
        """Whether a form opened now would likely open too late: the work queued before it
        has waited so long that its trigger (3 s) would run out first."""
        return self.backlog.waited(self.clock.now()) > FORM_QUEUE_LIMIT

    def prepare_to_serve(self) -> None:
        """Before the first request: load what it would otherwise wait for (the cue sets of
        every watched relationship), then keep everything loaded so far out of the garbage
        collector's full passes, which would otherwise stop every thread, acknowledgements
        included, for 50-90 ms each time (measured with bench/ack_latency.py)."""
        try:
            with self.db.read() as session:
                self.drift_configs.warm(session)
        except SQLAlchemyError as error:  # loaded on first use instead
            logger.warning("couldn't preload drift settings: %s", type(error).__name__)
        gc.freeze()

    def close(self) -> None:
        """Finish the Slack calls in flight; drop queued ones so shutdown is prompt."""
        self.background.shutdown(wait=True, cancel_futures=True)
        self.fan_out.close()


# Slack calls are I/O: a thread waits on the network, not the CPU, so the pool is sized by
# Little's law (calls in flight = calls per second x seconds per call) so that it is never
# what limits. Flat out, a web process on a 2-core machine acknowledges ~800 requests/s
# (bench/ack_latency.py); if two in three open a modal and Slack answers in 300 ms, 160 calls
# are in flight, and 256 threads keep up until Slack slows to ~480 ms; a views.open still
# queued when its trigger_id is 3 s old fails (with 128 threads, a third of them did at
# saturation). Threads start only as work arrives: at 200 requests/s about 40 are used.
BACKGROUND_THREADS = 256
# Past this wait for a thread, a form isn't queued: with Slack's answer to come after it, it
# would open after its trigger has run out (3 s), and the person would only hear so later.
# Under a flood of forms past what the threads can open, people are told at once instead.
# The newest form waits longer than the oldest has while the queue grows: under a closed-loop
# flood of /rapport setup (bench/command_throughput.py) on a slow machine of the kind Rapport
# is sized for, the last form was answered by Slack 1.2-1.6 s after the last ack with this
# limit, 1.8-2.5 s with 1 s (which kept it to 1.1-1.4 s on a faster one), so a machine half
# as fast still opens its forms inside the 3 s.
FORM_QUEUE_LIMIT = timedelta(seconds=0.75)


def create_services(settings: Settings, db: Database, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    store = InstallationStore(settings, db, clock) if settings.multi_workspace else None
    return Services(
        db=db,
        clock=clock,
        background=ThreadPoolExecutor(
            max_workers=BACKGROUND_THREADS, thread_name_prefix="rapport-slack"
        ),
        slack=SlackClients(settings, db, store),
        fan_out=WorkspaceFanOut(clock, locks_for(db.engine)),
        installations=store,
    )


def apology(error: Exception) -> str:
    """What to tell a person whose request failed with ``error``."""
    return DATABASE_DOWN if isinstance(error, OperationalError | DBAPIError) else SORRY


def _log_failure(apologise: Callable[..., Any] | None, future: Future) -> None:
    error = future.exception()
    if error is None:
        return
    if isinstance(error, SlackClientError | OSError):  # Slack (or the way there) failed
        logger.error("Slack call after the acknowledgement failed: %s", type(error).__name__)
        return
    logger.error("work after the acknowledgement failed: %s", type(error).__name__, exc_info=error)
    if apologise is not None:
        try:
            apologise(text=apology(error), replace_original=False)
        except Exception as failed:  # Slack unreachable too: the log above is all we can do
            logger.error("couldn't tell the person: %s", type(failed).__name__)
