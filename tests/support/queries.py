"""Counting the SQL statements a piece of work sends: each one is a round trip to the
database, which on PostgreSQL is what a request's time goes on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

from sqlalchemy import event

from bot.core.db import Database
from bot.core.direct_reads import CompiledRead


def queries_during(db: Database, work: Callable[[], Any]) -> int:
    """Statements sent through SQLAlchemy's engine, and the column reads a ``Database.read``
    session sends straight to the driver (``bot.core.direct_reads``), which it never sees."""
    statements = []

    def count(*_args: Any) -> None:
        statements.append(1)

    direct = CompiledRead.sql_and_parameters
    with mock.patch.object(
        CompiledRead,
        "sql_and_parameters",
        lambda read, values: count() or direct(read, values),
    ):
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            work()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)
