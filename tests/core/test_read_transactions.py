"""Acknowledgements that only read (``/rapport show``, ``list``, ``help``, the App Home) take
no write lock: they are answered while another request holds a write transaction open."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, update

from bot.core.db import Database, ReadOnlySession, create_db_engine
from bot.relationships.models import Member, Relationship, Role, Side
from tests.support.helpers import make_relationship


@contextmanager
def writer_holding_the_database(db, relationship_id: int) -> Iterator[threading.Event]:
    """A write transaction with a pending change, open until the block ends; the event it
    yields is set once the writer has finished."""
    holding, release, finished = threading.Event(), threading.Event(), threading.Event()

    def write() -> None:
        with db.transaction() as session:
            session.get(Relationship, relationship_id).client_org = "Acme Corp"
            session.flush()
            holding.set()
            release.wait(timeout=30)
        finished.set()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        yield finished
    finally:
        release.set()
        thread.join(timeout=10)


def test_show_and_list_answer_while_a_writer_holds_the_database(rapport):
    relationship_id = make_relationship(rapport.db, rapport.clock)
    with writer_holding_the_database(rapport.db, relationship_id) as writer_finished:
        shown = str(rapport.slack.command("show", user="UALICE").json())
        listed = str(rapport.slack.command("list", user="UALICE").json())
        assert not writer_finished.is_set()  # answered while the write was still open
    assert "(Acme)" in shown and "Acme Corp" not in shown  # the last committed state
    assert "Acme ⇄ Stellar" in listed
    assert "(Acme Corp)" in str(rapport.slack.command("show", user="UALICE").json())


def test_app_home_opens_while_a_writer_holds_the_database(rapport):
    relationship_id = make_relationship(rapport.db, rapport.clock)
    with writer_holding_the_database(rapport.db, relationship_id) as writer_finished:
        rapport.slack.event({"type": "app_home_opened", "user": "UPAT", "tab": "home"})
        (published,) = rapport.fake.wait_for("views.publish")
        assert not writer_finished.is_set()
    assert "Acme ⇄ Stellar" in str(published.args["view"])


def test_a_read_session_saves_nothing(rapport):
    relationship_id = make_relationship(rapport.db, rapport.clock)
    with rapport.db.read() as session:
        session.get(Relationship, relationship_id).name = "Renamed"
        relationship = session.get(Relationship, relationship_id)
        session.add(
            Member(
                team_id=relationship.team_id,
                relationship_id=relationship_id,
                user_id="UEVE",
                side=Side.CLIENT,
                role=Role.FRONTLINE,
                added_at=rapport.clock.now(),
            )
        )
    with rapport.db.read() as session:
        assert session.get(Relationship, relationship_id).name == "Acme ⇄ Stellar"
        assert "UEVE" not in session.scalars(select(Member.user_id)).all()


def test_a_read_session_refuses_to_write(db, clock):
    """On PostgreSQL a read's statements run in autocommit, where a write would be saved at
    once: writing through one is refused, on either database."""
    relationship_id = make_relationship(db, clock)
    with db.read() as session:
        session.get(Relationship, relationship_id).name = "Renamed"
        with pytest.raises(ReadOnlySession):
            session.flush()
    with db.read() as session:
        renaming = update(Relationship).values(name="Renamed")
        with pytest.raises(ReadOnlySession):
            session.execute(renaming.where(Relationship.id == relationship_id))
    with db.read() as session:
        assert session.get(Relationship, relationship_id).name == "Acme ⇄ Stellar"


def test_on_sqlite_a_read_begins_a_snapshot_and_a_write_takes_the_write_lock_at_once(tmp_path):
    db = Database(create_db_engine(f"sqlite:///{tmp_path}/begin.db"))
    ran: list[str] = []

    @event.listens_for(db.engine, "checkout")
    def trace(dbapi_connection, *_args) -> None:
        dbapi_connection.set_trace_callback(ran.append)  # what SQLite itself was asked

    with db.read() as session:
        session.connection().exec_driver_sql("SELECT 1")
    with db.transaction() as session:
        session.connection().exec_driver_sql("SELECT 2")
    db.engine.dispose()
    assert ran == ["BEGIN", "SELECT 1", "ROLLBACK", "BEGIN IMMEDIATE", "SELECT 2", "COMMIT"]
