"""Engine set-up for SQLite (embedded default) and PostgreSQL (production), and migrations."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Executable, Result, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY_OPTION = "rapport_read_only"  # an execution option: this transaction only reads


def upsert_insert(dialect: str) -> Callable[..., Any]:
    """The dialect's ``insert``, which has ``on_conflict_do_update``/``_do_nothing`` (both
    PostgreSQL and SQLite speak ON CONFLICT)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def create_db_engine(database_url: str) -> Engine:
    """An engine tuned for concurrent web requests on either backend.

    SQLite runs in WAL mode with a busy timeout, and every transaction that may write starts
    with ``BEGIN IMMEDIATE`` so two writers queue instead of failing with "database is
    locked"; ``Database.read`` transactions start with a plain ``BEGIN`` (a WAL snapshot).
    """
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        # PostgreSQL compiles a query it expects to be costly (JIT): right for reports over
        # millions of rows, a loss for Rapport's short statements (the pulse tick's "what is
        # due" at 1,000 workspaces took 12 ms to compile and 7 to run); the URL may say other
        options = {} if "options" in url.query else {"options": "-c jit=off"}
        return create_engine(
            url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=options
        )

    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=10,
        max_overflow=20,
    )

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event own BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def columns(session: Session, statement: Executable, values: dict[str, Any]) -> Result[Any]:
    """Run ``statement``, which selects columns, not ORM entities, on the session's own
    connection and transaction: the ORM's execution of a short statement costs more than
    SQLite takes to run it. Pending changes are flushed first, as the ORM would."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, values)


class Database:
    """Hands out short transactions; domain functions receive the ``Session``."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._reads = sessionmaker(
            engine.execution_options(**{READ_ONLY_OPTION: True}), autoflush=False
        )
        self._sqlite_lock = _writer_lock(engine) if engine.dialect.name == "sqlite" else None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        with self._sqlite_lock or nullcontext(), self._sessions.begin() as session:
            yield session

    @contextmanager
    def statements(self) -> Iterator[Connection]:
        """A Core connection inside one transaction, committed on success: for the hottest
        paths (the send ledger's claims and records), which need no ORM session."""
        with self._sqlite_lock or nullcontext(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only: it never flushes by itself and is rolled back at the
        end, so nothing it touches is saved.

        It takes no write lock, so on SQLite (WAL: readers see a snapshot) reads neither
        queue behind each other nor behind a writer: an acknowledgement that only reads,
        such as ``/rapport show``, never waits for one that writes.
        """
        with self._reads() as session:  # closing it rolls back
            yield session

    def is_available(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False


class _SqliteWriterLock:
    """SQLite has a single writer, and its busy handler waits for the write lock by
    sleeping with back-off (up to 100 ms a nap), so under load some transactions wait far
    longer than the work ahead of them. Writers queue on this instead, which hands over as
    soon as the previous one commits: threads on a mutex, processes sharing the database
    file (``--workers``) on an advisory lock on a file beside it."""

    def __init__(self, fd: int | None):
        self._threads = threading.Lock()
        self._fd = fd
        if fd is not None:
            _file_locks.add(self)

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    __del__ = close


# A forked worker opens its own lock file. The copy of its parent's it inherits is closed
# at once: kept open, it would keep the lock held if the parent died holding it.
_file_locks: weakref.WeakSet[_SqliteWriterLock] = weakref.WeakSet()


def _close_inherited_locks() -> None:
    for lock in list(_file_locks):
        lock.close()


os.register_at_fork(after_in_child=_close_inherited_locks)


def _writer_lock(engine: Engine) -> _SqliteWriterLock:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return _SqliteWriterLock(None)  # no file to lock beside; one process only
    try:
        fd = os.open(f"{database}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:  # SQLite's own waiting still keeps writers apart
        logger.warning("can't use a lock file beside the SQLite database: %s", error.strerror)
        fd = None
    return _SqliteWriterLock(fd)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", "bot:migrations")
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Apply every pending Alembic revision (idempotent)."""
    command.upgrade(alembic_config(engine), "heads")


def pending_migrations(engine: Engine) -> bool:
    """True when the database is behind the code (``rapport migrate`` hasn't been run)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current != heads
