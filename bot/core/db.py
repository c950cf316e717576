"""Engine set-up for SQLite (embedded default) and PostgreSQL (production), and migrations."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    Join,
    Result,
    Select,
    create_engine,
    event,
    inspect,
    literal,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError, SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import instance_dict

from bot.core.direct_reads import CompiledReads, DirectReads

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY_OPTION = "rapport_read_only"  # an execution option: this transaction only reads
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "rapport_idle_since"  # a pooled connection's info: when it was last checked in
_DIRECT_READS = "rapport_direct_reads"  # a read session's info: its DirectReads


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
        engine = create_engine(url, pool_size=10, max_overflow=20, connect_args=options)
        _ping_idle_connections(engine)
        return engine

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
        # straight to the driver: through SQLAlchemy's execution a BEGIN cost more than the
        # short statements after it (about 21 of the 114 µs a read session cost to open and end)
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.connection.driver_connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection is still alive before using it, if it has sat idle for
    ``PING_AFTER_IDLE_SECONDS``: one that died (the server restarted) is replaced, and the
    rest of the pool with it, without a request failing. SQLAlchemy's ``pool_pre_ping``
    would ask at every checkout, a round trip to the server added to every request under
    load; a connection in use a moment ago is alive unless the server went away in that
    moment, and then the request that finds it dead fails politely and renews the pool."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)  # None: a new connection
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                # the pool connects anew, and renews every connection older than this one
                raise InvalidatePoolError(str(error)) from error
            raise


def columns(session: Session, statement: Executable, values: dict[str, Any]) -> Result[Any]:
    """Run ``statement``, which selects columns, not ORM entities: the ORM's execution of a
    short statement costs more than SQLite takes to run it. In a ``Database.read`` session a
    ``Select`` goes straight to the driver (``bot.core.direct_reads``); otherwise it runs on
    the session's own connection and transaction, pending changes flushed first, as the ORM
    would."""
    direct = session.info.get(_DIRECT_READS)
    if direct is not None:
        if (result := direct.run(statement, values)) is not None:
            return result
        direct.release()  # the session is about to take a connection of its own
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, values)


def entity_rows(
    session: Session, statement: Select[Any], values: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """The rows of ``statement``, which selects one ORM entity, then columns. In a
    ``Database.read`` session it is read as columns, straight (``columns``), and the entity
    made from them, detached: the ORM's loading of one row costs several times the read
    itself, and adding the entity to the session as much again. Its columns are all there;
    a lazy attribute (``Relationship.members``) raises ``DetachedInstanceError``, as read
    sessions read what they show with statements of their own."""
    if _DIRECT_READS not in session.info:
        return [tuple(row) for row in session.execute(statement, values)]
    read = _entity_reads.get(statement)
    if read is None:
        read = _entity_reads[statement] = _EntityRead(statement)
    rows = []
    width = len(read.keys)
    for row in columns(session, read.as_columns, values):
        # as the ORM loads an entity: its attributes set straight, without the events and
        # checks of its constructor (which cost three times the rest)
        entity = read.mapper.class_manager.new_instance()
        instance_dict(entity).update(zip(read.keys, row[:width], strict=True))
        make_transient_to_detached(entity)
        rows.append((entity, *row[width:]))
    return rows


class _EntityRead:
    """A select of one entity then columns, as a select of the entity's table columns then
    those columns, and which attribute each table column is."""

    def __init__(self, statement: Select[Any]):
        descriptions = statement.column_descriptions
        self.mapper = inspect(descriptions[0]["entity"])
        table = list(self.mapper.local_table.columns)
        self.keys = [self.mapper.get_property_by_column(column).key for column in table]
        after = list(statement.selected_columns)[
            len(statement.selected_columns) - len(descriptions) + 1 :
        ]
        self.as_columns = statement.with_only_columns(*table, *after)


_entity_reads: weakref.WeakKeyDictionary[Any, _EntityRead] = weakref.WeakKeyDictionary()


def one_row_joined(target: Any, onclause: Any) -> Join:
    """A FROM clause of exactly one row: ``target``'s row matching ``onclause``, or NULLs
    when none does. A statement can then read a relationship's stored settings (NULL: its
    defaults) together with what it joins on after, in one round trip."""
    return select(literal(1).label("one")).subquery().outerjoin(target, onclause)


def _reading(engine: Engine) -> Engine:
    """``engine`` for ``Database.read``. On PostgreSQL its statements run in autocommit:
    at PostgreSQL's READ COMMITTED each statement of a transaction sees its own snapshot
    anyway, so a BEGIN and a ROLLBACK would only add two round trips to the server; and
    psycopg forgets its prepared statements at every ROLLBACK, so the queries that commands
    repeat would never be prepared."""
    options: dict[str, Any] = {READ_ONLY_OPTION: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    return engine.execution_options(**options)


class Database:
    """Hands out short transactions; domain functions receive the ``Session``."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._reads = sessionmaker(_reading(engine), autoflush=False)
        event.listen(self._reads, "before_flush", _refuse_writing)
        event.listen(self._reads, "do_orm_execute", _refuse_writing_statements)
        # the ORM is about to take a connection, then has one: the direct reads move to it
        event.listen(self._reads, "do_orm_execute", _release_direct_reads)
        event.listen(self._reads, "after_begin", _share_with_direct_reads)
        self._compiled_reads = CompiledReads(engine.dialect)
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
        """A session for reading only: it refuses to write (``ReadOnlySession``), never
        flushes by itself, and ends without saving anything.

        It takes no write lock, so on SQLite (WAL: readers see a snapshot) reads neither
        queue behind each other nor behind a writer: an acknowledgement that only reads,
        such as ``/rapport show``, never waits for one that writes. Its column reads go
        straight to the driver (``bot.core.direct_reads``), each seeing the last commit
        before it, as every statement does on PostgreSQL, until the ORM takes a connection
        (on SQLite, a snapshot from then on).
        """
        direct = DirectReads(self.engine, self._compiled_reads)
        try:
            with self._reads(info={_DIRECT_READS: direct}) as session:  # closing it rolls back
                yield session
        finally:
            direct.release()

    def is_available(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False


class ReadOnlySession(RuntimeError):
    """Something tried to write through a session of ``Database.read``: a mistake in the
    code, refused on both databases alike (on PostgreSQL its statements run in autocommit,
    where a write would be saved at once)."""


_READS_DONT_WRITE = "Database.read() sessions don't write: use transaction()"


def _refuse_writing(session: Session, *_args: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlySession(_READS_DONT_WRITE)


def _release_direct_reads(state: ORMExecuteState) -> None:
    state.session.info[_DIRECT_READS].release()


def _share_with_direct_reads(session: Session, _transaction: Any, connection: Connection) -> None:
    session.info[_DIRECT_READS].share(connection)


def _refuse_writing_statements(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlySession(_READS_DONT_WRITE)


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
