"""Exactly one active scheduler per database.

On PostgreSQL every scheduler process asks for a session-level advisory lock on a dedicated
connection; the one that gets it runs the jobs, the others stand by and ask again every few
seconds. If the leader dies its connection closes, PostgreSQL drops the lock and a standby
takes over (TCP keepalives bound how long a vanished host holds it). On SQLite there is no
server to arbitrate between machines, so a file lock next to the database lets one scheduler
run and makes a second one refuse to start.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot.core.metrics import instruments

logger = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x52415050  # "RAPP"
STANDBY_POLL_SECONDS = 5.0


class SchedulerLock(Protocol):
    def acquire(self) -> bool:
        """Try once, without waiting; True when this process now holds the lock."""
        ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


class PostgresAdvisoryLock:
    def __init__(self, engine: Engine):
        self._engine = engine
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        try:
            if self._connection is None:
                self._connection = self._engine.connect()
            got = self._connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar()
            self._connection.commit()
            return bool(got)
        except SQLAlchemyError:
            self._drop_connection()
            return False

    def still_held(self) -> bool:
        """The lock lives as long as the session: check the connection still answers."""
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except SQLAlchemyError:
            self._drop_connection()
            return False

    def release(self) -> None:
        self._drop_connection()  # closing the session releases the lock

    def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._connection.invalidate()  # never hand a lock-holding session to the pool
            self._connection = None


class SqliteFileLock:
    def __init__(self, database_path: str):
        self.path = Path(database_path + ".scheduler.lock")
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        handle = self.path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def still_held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def lock_for(engine: Engine) -> SchedulerLock:
    if engine.dialect.name == "postgresql":
        return PostgresAdvisoryLock(engine)
    return SqliteFileLock(engine.url.database or "rapport.db")


class LeaderElection:
    """Runs the jobs while this process holds the lock; stands by otherwise. A standby
    runs ``standby``'s jobs meanwhile, if given: on PostgreSQL, its share of the sending
    (``scheduler.jobs.Job.standby``)."""

    def __init__(
        self,
        lock: SchedulerLock,
        create: Callable[[], BaseScheduler],
        poll_seconds: float = STANDBY_POLL_SECONDS,
        standby: Callable[[], BaseScheduler] | None = None,
    ):
        self._lock = lock
        self._create = create
        self._create_standby = standby
        self._poll = poll_seconds
        self._stopping = threading.Event()
        self._scheduler: BaseScheduler | None = None
        self._standby: BaseScheduler | None = None

    @property
    def leading(self) -> bool:
        return self._scheduler is not None

    def step(self) -> None:
        """One round: take over if the lock is free, step down if it was lost."""
        if self._scheduler is None:
            if self._lock.acquire():
                self._stop_standby()
                self._scheduler = self._create()
                self._scheduler.start()
                instruments().leading.set(1)
                logger.info("this process is now the active scheduler")
            elif self._standby is None and self._create_standby is not None:
                self._standby = self._create_standby()
                self._standby.start()
                logger.info("this standby scheduler helps send to workspaces")
        elif not self._lock.still_held():
            logger.warning("lost the scheduler lock (database connection gone); standing by")
            self._stop_jobs()

    def run(self) -> None:
        """Until ``stop()``: lead, or stand by and ask again every ``poll_seconds``."""
        announced = False
        try:
            while not self._stopping.is_set():
                self.step()
                if not self.leading and not announced:
                    logger.info("another scheduler is active; standing by")
                    announced = True
                self._stopping.wait(self._poll)
        finally:
            self._stop_jobs()
            self._lock.release()

    def stop(self) -> None:
        self._stopping.set()

    def _stop_jobs(self) -> None:
        self._stop_standby()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
            instruments().leading.set(0)

    def _stop_standby(self) -> None:
        if self._standby is not None:
            self._standby.shutdown(wait=True)
            self._standby = None
