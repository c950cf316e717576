"""Counting the SQL statements a piece of work sends: each one is a round trip to the
database, which on PostgreSQL is what a request's time goes on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from bot.core.db import Database


def queries_during(db: Database, work: Callable[[], Any]) -> int:
    statements = []

    def count(*_args: Any) -> None:
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)
