"""Sending to many workspaces at once, so that none delays the others.

A job with messages for many workspaces (a pulse round's prompts, their reminders) hands
each workspace's share to ``WorkspaceFanOut.run``: a bounded pool of threads works on
several workspaces at once, one thread per workspace at a time, which starts the
workspace's sends in order at its own pace (``bot.slack.pacing``) and keeps up to
``IN_FLIGHT`` of them waiting on Slack at once (``Turn.send``), so a workspace's pace, not
Slack's answer time, is what bounds it. A workspace that answers 429 is held back until its
Retry-After has passed and skipped meanwhile (``Backoff``), rather than slept for in a
thread the others need; a slow one gets at most ``TURN_SECONDS`` a tick and the rest waits
for the next; an uninstalled one has no client and is skipped at once.

On PostgreSQL several processes share the sending (``rapport scheduler`` standbys help the
active one): a thread first takes an advisory lock named after the job and the workspace,
and skips a workspace another process holds. The lock only splits the work: the send
ledger's unique keys still send each message at most once, and its takeover of stale
claims sends what a process that died mid-send left in flight.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot.core.clock import Clock
from bot.slack.outbox import TOKEN_REFUSED, Delivery
from bot.slack.pacing import POSTS, WorkspacePacers

logger = logging.getLogger(__name__)

# Workspaces worked on at once by a process. Each thread mostly waits on Slack (about
# 100 ms a call), so 32 keep ~250 messages a second in flight, more than one process's
# CPU can prepare (bench/sending_scale.py).
SENDING_THREADS = 32
# Sends of one workspace waiting on Slack at once. At 100 ms an answer, one at a time gives
# a workspace under 10 a second; four keep it at its pace (PROMPTS_PER_SECOND) with room for
# the ledger's round trips (bench/joint_round.py).
IN_FLIGHT = 4
TURN_SECONDS = 45.0  # a workspace's share of a tick (ticks are a minute apart)
DEFAULT_HOLD_SECONDS = 60.0  # a 429 that named no Retry-After; a token Slack refused
SEND_LOCK_CLASS = 0x53454E44  # "SEND": advisory locks (class, hashtext(job:team))


class Backoff:
    """Workspaces Slack told to wait (429 + Retry-After), until when, by the injected clock."""

    def __init__(self, clock: Clock):
        self._clock = clock
        self._until: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def hold(self, team_id: str, seconds: float) -> None:
        until = self._clock.now() + timedelta(seconds=seconds)
        with self._lock:
            self._until[team_id] = max(until, self._until.get(team_id, until))
        logger.info("workspace %s rate-limited: held back for %.0f s", team_id, seconds)

    def held(self, team_id: str) -> bool:
        with self._lock:
            until = self._until.get(team_id)
            if until is not None and until <= self._clock.now():
                del self._until[team_id]
                until = None
        return until is not None


@dataclass
class Turn:
    """One workspace's turn in a tick: start each send at the workspace's pace with up to
    ``in_flight`` waiting on Slack, note what Slack answered, and stop once ``over()`` (out
    of time, or rate-limited)."""

    team_id: str
    pacers: WorkspacePacers
    backoff: Backoff
    ends_at: float  # time.monotonic()
    sends: Executor
    in_flight: int = IN_FLIGHT
    _started: list[Future[None]] = field(default_factory=list, repr=False)
    _slots: threading.Semaphore = field(init=False, repr=False)
    _ended_by: BaseException | None = field(default=None, repr=False)  # e.g. SystemExit

    def __post_init__(self) -> None:
        self._slots = threading.Semaphore(self.in_flight)

    def pace(self, kind: str = POSTS) -> None:
        self.pacers.wait(self.team_id, kind)

    def send(self, post: Callable[[], Delivery]) -> None:
        """Start ``post`` (a send and its bookkeeping) once a slot is free and the pace
        allows, unless the turn is over by then; it runs on the fan-out's send threads.
        ``settle`` waits for it."""
        self._slots.acquire()
        if self.over():
            self._slots.release()
            return
        self.pace()
        self._started.append(self.sends.submit(self._post, post))

    def _post(self, post: Callable[[], Delivery]) -> None:
        try:
            self.saw(post())
        except Exception:  # one send's failure must not stop the workspace's others
            logger.exception("sending to workspace %s failed", self.team_id)
        except BaseException as error:  # the process is ending: start nothing more
            self._ended_by = error
            raise
        finally:
            self._slots.release()

    def settle(self) -> None:
        """Until every send started so far has its answer (a reminder needs its prompt's);
        re-raises what ended the process in a send thread."""
        wait(self._started)
        self._started.clear()
        if self._ended_by is not None:
            raise self._ended_by

    def saw(self, delivery: Delivery) -> None:
        if delivery.error == "ratelimited":
            self.backoff.hold(self.team_id, delivery.retry_after or DEFAULT_HOLD_SECONDS)
        elif delivery.error in TOKEN_REFUSED:  # asked again once held back no more
            self.backoff.hold(self.team_id, DEFAULT_HOLD_SECONDS)

    def over(self) -> bool:
        if self._ended_by is not None:
            return True
        return time.monotonic() >= self.ends_at or self.backoff.held(self.team_id)


class WorkspaceLocks(Protocol):
    def take(self, name: str) -> bool:
        """Try once, without waiting; True when this process may work on ``name`` now."""
        ...

    def give_back(self, name: str) -> None: ...

    def close(self) -> None: ...


class LocalLocks:
    """Within one process (SQLite has one scheduler process)."""

    def __init__(self) -> None:
        self._taken: set[str] = set()
        self._lock = threading.Lock()

    def take(self, name: str) -> bool:
        with self._lock:
            if name in self._taken:
                return False
            self._taken.add(name)
            return True

    def give_back(self, name: str) -> None:
        with self._lock:
            self._taken.discard(name)

    def close(self) -> None:
        pass


class PostgresWorkspaceLocks:
    """Session advisory locks on one connection of this process's own: a process that dies
    lets go of its workspaces with its connection."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._connection: Connection | None = None
        self._lock = threading.Lock()

    def take(self, name: str) -> bool:
        return self._ask("SELECT pg_try_advisory_lock(:class, hashtext(:name))", name)

    def give_back(self, name: str) -> None:
        self._ask("SELECT pg_advisory_unlock(:class, hashtext(:name))", name)

    def _ask(self, query: str, name: str) -> bool:
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = self._engine.connect()
                got = self._connection.execute(
                    text(query), {"class": SEND_LOCK_CLASS, "name": name}
                ).scalar()
                self._connection.commit()
                return bool(got)
            except SQLAlchemyError as error:  # the database went away: so did the locks
                logger.warning("workspace lock %s: %s", name, type(error).__name__)
                self._drop()
                return False

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._connection.invalidate()  # never hand a lock-holding session to the pool
            self._connection = None


def locks_for(engine: Engine) -> WorkspaceLocks:
    if engine.dialect.name == "postgresql":
        return PostgresWorkspaceLocks(engine)
    return LocalLocks()


class WorkspaceFanOut:
    """Runs each workspace's share of a job's tick on a pool of threads shared by the
    process's jobs; returns when every share is done (or has used up its turn)."""

    def __init__(
        self,
        clock: Clock,
        locks: WorkspaceLocks,
        threads: int = SENDING_THREADS,
        in_flight: int = IN_FLIGHT,
    ):
        self.pacers = WorkspacePacers()
        self.backoff = Backoff(clock)
        self._locks = locks
        self._in_flight = in_flight
        # workspaces' turns, and the sends they start: separate pools, so a turn waiting
        # for a free send thread never holds one
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="rapport-turn")
        self._sends = ThreadPoolExecutor(
            max_workers=threads * in_flight, thread_name_prefix="rapport-send"
        )

    def run(
        self,
        job: str,
        shares: Mapping[str, Callable[[Turn], None]],
        pacers: WorkspacePacers | None = None,
    ) -> list[str]:
        """``shares[team_id](turn)`` for each workspace not held back nor worked on by
        another process; returns the team ids worked on. A share that raises is logged
        and the others go on."""
        futures = {
            team_id: self._pool.submit(self._take_turn, job, team_id, share, pacers or self.pacers)
            for team_id, share in shares.items()
            if not self.backoff.held(team_id)
        }
        worked = []
        for team_id, future in futures.items():
            try:
                if future.result():
                    worked.append(team_id)
            except Exception:
                logger.exception("%s: sending to workspace %s failed", job, team_id)
        return worked

    def _take_turn(
        self, job: str, team_id: str, share: Callable[[Turn], None], pacers: WorkspacePacers
    ) -> bool:
        name = f"{job}:{team_id}"
        if not self._locks.take(name):
            return False
        ends_at = time.monotonic() + TURN_SECONDS
        turn = Turn(team_id, pacers, self.backoff, ends_at, self._sends, self._in_flight)
        try:
            share(turn)
            return True
        finally:
            turn.settle()  # the workspace is given back only once nothing is in flight
            self._locks.give_back(name)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._sends.shutdown(wait=True)
        self._locks.close()
