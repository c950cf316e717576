"""Column reads of a ``Database.read`` session, run straight on a DBAPI connection.

A short read through a session and SQLAlchemy Core cost 4.5× what psycopg takes for the
same statement, and 13× what sqlite3 takes (``bench/statement_cost.py``): the session's
connection, the execution context, the cache key worked out again at each call, events,
the cursor's description turned into objects. The statements slash commands read with are
built once, at import (``bot.core.db.columns``), so each is compiled here once per dialect,
by SQLAlchemy, and then only run: parameters and rows still go through the column types'
own processors, as Core would put them, and errors come out as Core's.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, Engine, Result, Select
from sqlalchemy.engine import Dialect, IteratorResult
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
from sqlalchemy.engine.result import SimpleResultMetaData
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection

Processor = Callable[[Any], Any]
# SQL finished with a statement's own values: the SQL, those values' parameters, the order
# of the positional parameters (None: named), and every parameter's processor
Finished = tuple[str, dict[str, Any], Any, dict[str, Processor]]


class CompiledRead:
    """A ``Select`` compiled for one dialect: its SQL, how its values become the driver's
    parameters, and how the driver's rows become what Core would return."""

    def __init__(self, statement: Select[Any], dialect: Dialect):
        compiled = statement.compile(dialect=dialect)
        self._compiled = compiled
        self._sql = str(compiled)
        # an IN of a list takes one placeholder per item, and a value rendered as a literal
        # is written into the SQL: such SQL is finished at each call, as Core finishes it,
        # unless every such value is the statement's own (an IN of a constant tuple), when
        # it is finished once
        self._finished_later = frozenset(
            name for name, bind in compiled.binds.items() if bind.expanding or bind.literal_execute
        )
        self._finished: Finished | None = None
        self._binds: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self._binds[name] = process
        self._dialect = dialect
        self._types = [column.type.dialect_impl(dialect) for column in statement.selected_columns]
        self._metadata = SimpleResultMetaData(list(statement.selected_columns.keys()))
        self._columns: list[tuple[int, Processor]] | None = None  # known at the first result

    def sql_and_parameters(self, values: Mapping[str, Any]) -> tuple[str, Any]:
        """The SQL to send and its parameters, each made what the driver takes."""
        if self._finished_later and self._finished_later.isdisjoint(values):
            sql, own, positions, processors = self._finished_once(values)
            named = {**self._compiled.construct_params(dict(values)), **own}
        elif self._finished_later:
            state = self._compiled.construct_expanded_state(dict(values))
            sql, named, positions = state.statement, state.parameters, state.positiontup
            processors = {**self._binds, **state.processors}
        else:
            sql, named = self._sql, self._compiled.construct_params(dict(values))
            positions, processors = self._compiled.positiontup, self._binds
        for name, process in processors.items():
            if name in named:
                named[name] = process(named[name])
        return sql, named if positions is None else [named[name] for name in positions]

    def _finished_once(self, values: Mapping[str, Any]) -> Finished:
        """The SQL finished with the statement's own values, and those values' parameters."""
        if self._finished is None:
            state = self._compiled.construct_expanded_state(dict(values))
            own = {
                name: value
                for name, value in state.parameters.items()
                if name not in self._compiled.binds or name in self._finished_later
            }
            processors = {**self._binds, **state.processors}
            self._finished = (state.statement, own, state.positiontup, processors)
        return self._finished

    def result(self, cursor: DBAPICursor) -> Result[Any]:
        """The rows ``cursor`` holds, as Core would return them. A type's processor may
        depend on the driver's type of its column (PostgreSQL's numbers), which the
        cursor's description tells: read at the first result only, since building it is
        a good part of what a result costs psycopg."""
        rows = cursor.fetchall()
        if self._columns is None:
            described = cursor.description
            self._columns = [
                (index, process)
                for index, (type_, column) in enumerate(zip(self._types, described, strict=True))
                if (process := type_.result_processor(self._dialect, column[1]))
            ]
        if self._columns:
            rows = [self._processed(row) for row in rows]
        return IteratorResult(self._metadata, iter(rows))

    def _processed(self, row: Any) -> tuple[Any, ...]:
        values = list(row)
        for index, process in self._columns:
            values[index] = process(values[index])
        return tuple(values)


class DirectReads:
    """The DBAPI connection one read session's column reads go to. Until the session's ORM
    needs a connection, one of its own, taken from the engine's pool at the first read (in
    autocommit on PostgreSQL, as ``Database.read`` runs its statements there); once the ORM
    is about to take one, that one goes back to the pool (``release``) and the reads go to
    the session's (``share``). So a session never holds two connections, nor waits for a
    second while holding one."""

    def __init__(self, engine: Engine, compiled: CompiledReads):
        self._engine = engine
        self._compiled = compiled
        self._own: PoolProxiedConnection | None = None
        self._shared: Connection | None = None

    def run(self, statement: Any, values: Mapping[str, Any]) -> Result[Any] | None:
        """``statement``'s result, or None when it isn't a ``Select`` (Core runs it then)."""
        read = self._compiled.get(statement)
        if read is None:
            return None
        sql, parameters = read.sql_and_parameters(values)
        driver = self._driver_connection()
        dialect = self._engine.dialect
        try:
            cursor = driver.cursor()
            try:
                cursor.execute(sql, parameters)
                return read.result(cursor)
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as error:
            raise self._translated(error, sql, parameters, driver) from error

    def share(self, connection: Connection) -> None:
        """From now on, read on the session's own ``connection``."""
        self.release()
        self._shared = connection

    def release(self) -> None:
        """Give the connection of its own back to the pool, as it was."""
        own, self._own = self._own, None
        if own is None:
            return
        if self._engine.dialect.name == "postgresql" and own.is_valid:
            try:
                own.driver_connection.autocommit = False  # as the pool's other users expect
            except self._engine.dialect.loaded_dbapi.Error as error:  # the connection broke
                own.invalidate(error)
        own.close()

    def _driver_connection(self) -> DBAPIConnection:
        if self._shared is not None:
            return self._shared.connection.dbapi_connection
        if self._own is None:
            dbapi_error = self._engine.dialect.loaded_dbapi.Error
            try:
                own = self._engine.raw_connection()
            except dbapi_error as error:  # the server can't be reached
                raise DBAPIError.instance(None, None, error, dbapi_error) from error
            if self._engine.dialect.name == "postgresql":
                own.driver_connection.autocommit = True
            self._own = own
        return self._own.dbapi_connection

    def _translated(
        self, error: Exception, sql: str, parameters: Any, driver: DBAPIConnection
    ) -> DBAPIError:
        """The error as Core raises it; a connection the server dropped leaves the pool."""
        dialect = self._engine.dialect
        lost = dialect.is_disconnect(error, driver, None)
        if lost:
            if self._shared is not None:
                self._shared.invalidate(error)
            elif self._own is not None:
                self._own.invalidate(error)
        return DBAPIError.instance(
            sql, parameters, error, dialect.loaded_dbapi.Error, connection_invalidated=lost
        )


class CompiledReads:
    """Each ``Select`` compiled once for the engine's dialect, for as long as it exists: a
    statement built for one call only is forgotten with it."""

    def __init__(self, dialect: Dialect):
        self._dialect = dialect
        self._reads: weakref.WeakKeyDictionary[Select[Any], CompiledRead] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, statement: Any) -> CompiledRead | None:
        """None for anything but a ``Select`` (text, say), which Core runs."""
        if not isinstance(statement, Select):
            return None
        read = self._reads.get(statement)
        if read is None:
            read = self._reads[statement] = CompiledRead(statement, self._dialect)
        return read
