"""How Rapport's PostgreSQL connections are set up and used (``bot.core.db``): no JIT
compilation for its short statements, unless the database URL says otherwise; reads without
a transaction around them, so that psycopg keeps the statements it prepared; and a pooled
connection checked before use only once it has sat idle."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import bindparam, column, create_engine, func, select, table, text
from sqlalchemy.engine import make_url

import bot.core.db
from bot.core.db import Database, columns, create_db_engine
from bot.relationships.models import Relationship
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL's own settings")


def _show(url: str, setting: str) -> str:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text(f"SHOW {setting}"))
    finally:
        engine.dispose()


def test_the_bots_connections_compile_no_queries(rapport):
    with rapport.db.read() as session:
        assert session.scalar(text("SHOW jit")) == "off"


def test_options_in_the_database_url_are_the_operators_own():
    url = make_url(POSTGRES_URL).update_query_dict({"options": "-c statement_timeout=5000"})
    url = url.render_as_string(hide_password=False)
    assert _show(url, "statement_timeout") == "5s"
    plain = create_engine(POSTGRES_URL)  # the server's own setting, ours not applied
    with plain.connect() as connection:
        server_default = connection.scalar(text("SHOW jit"))
    plain.dispose()
    assert _show(url, "jit") == server_default


@pytest.fixture
def own_db(database_url: str) -> Iterator[Database]:
    """A database with a pool of its own, which no other thread uses."""
    engine = create_db_engine(database_url)
    yield Database(engine)
    engine.dispose()


_NAME = select(Relationship.name).where(Relationship.id == bindparam("relationship_id"))
# what the connection a read session's column reads go to tells of itself: its server
# process, and the start of the transaction the statement runs in
_SERVER = select(func.pg_backend_pid(), func.now())
_PREPARED = (
    select(func.count())
    .select_from(table("pg_prepared_statements", column("statement")))
    .where(column("statement").like("SELECT relationships.name%"))
)


def _read_name(db: Database) -> int:
    """Read a relationship's name; the server process that answered. Each statement runs
    in a transaction of its own, not one around the session's reads."""
    with db.read() as session:
        columns(session, _NAME, {"relationship_id": 1}).all()
        backend, began = columns(session, _SERVER, {}).one()
        time.sleep(0.002)
        again, began_again = columns(session, _SERVER, {}).one()
        assert again == backend and began_again > began
        return backend


def test_reads_run_outside_a_transaction_and_reuse_prepared_statements(own_db):
    served = {_read_name(own_db) for _ in range(8)}
    assert len(served) == 1  # one connection, idle between statements: no BEGIN, no ROLLBACK
    with own_db.read() as session:
        prepared = columns(session, _PREPARED, {}).scalar()
        assert columns(session, _SERVER, {}).first()[0] in served
    assert prepared == 1  # psycopg prepares a statement on its sixth run on a connection


def test_a_connection_used_a_moment_ago_is_not_pinged(own_db, monkeypatch):
    pings = []
    ping = own_db.engine.dialect.do_ping
    monkeypatch.setattr(own_db.engine.dialect, "do_ping", lambda c: pings.append(1) or ping(c))
    for _ in range(5):
        _read_name(own_db)
    assert pings == []
    monkeypatch.setattr(bot.core.db, "PING_AFTER_IDLE_SECONDS", 0.05)
    time.sleep(0.1)
    _read_name(own_db)
    assert pings == [1]


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    own_db, database_url, monkeypatch
):
    monkeypatch.setattr(bot.core.db, "PING_AFTER_IDLE_SECONDS", 0.05)
    backend = _read_name(own_db)
    admin = create_engine(database_url)
    with admin.connect() as connection:
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    admin.dispose()
    time.sleep(0.1)
    replacement = _read_name(own_db)  # no error: the ping found it dead
    assert replacement != backend
