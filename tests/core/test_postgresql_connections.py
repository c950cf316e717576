"""How Rapport's PostgreSQL connections are set up (``bot.core.db.create_db_engine``): no
JIT compilation for its short statements, unless the database URL says otherwise."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.core.db import create_db_engine
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
