"""An empty database at the latest migration, for the test suite and the benchmarks."""

from __future__ import annotations

from sqlalchemy import text

from bot.core.db import Database, create_db_engine, migrate


def fresh_database(url: str) -> Database:
    """Migrate ``url`` from scratch; a PostgreSQL database has its public schema recreated."""
    engine = create_db_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    return Database(engine)
