"""A read session's column reads go straight to the driver (``bot.core.direct_reads``) and
return exactly what SQLAlchemy Core returns for the same statement: the same keys, values
and types (enums, UTC instants, booleans, numbers), on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Float, bindparam, cast, create_engine, event, func, inspect, select, true
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import DetachedInstanceError

from bot.core.db import Database, columns, create_db_engine, entity_rows
from bot.drift.config import _CONFIG
from bot.drift.models import DriftAlert
from bot.pulse.results import _ROUNDS_SHOWN
from bot.relationships import domain as rel
from bot.relationships.models import Member, Relationship, Role, Side
from bot.relationships.summary import _PARTS
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship

# the statements people's commands read with, and one for each kind of value they bind or
# return: an IN of a list given at each call, a UTC instant bound, a float, a boolean
_MEMBERS_IN = (
    select(
        Member.user_id,
        Member.side,
        Member.role,
        Member.added_at,
        cast(Member.id, Float).label("number"),
        true().label("yes"),
    )
    .where(
        Member.user_id.in_(bindparam("people", expanding=True)),
        Member.added_at <= bindparam("now"),
    )
    .order_by(Member.user_id)
)


def _statements(relationship_id: int, now: Any) -> list[tuple[Any, dict[str, Any]]]:
    return [
        (_MEMBERS_IN, {"people": ["UALICE", "UPAT", "UNOBODY"], "now": now}),
        (_MEMBERS_IN, {"people": ["UCARL"], "now": now}),  # the IN written anew for one
        (_PARTS, {"relationship_id": relationship_id}),
        (_CONFIG, {"relationship_id": relationship_id}),
        (_CONFIG, {"relationship_id": relationship_id}),  # its SQL as finished the first time
        (_ROUNDS_SHOWN, {"relationship_id": relationship_id, "now": now, "limit": 6}),
    ]


def _engine_statements(db: Database) -> list[str]:
    sent: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    return sent


def _alerts_marked_not_drift(db: Database, relationship_id: int, clock: Any) -> None:
    """One of each kind, all marked "Not drift": the drift configuration counts two of them
    (an IN of a constant tuple, written into its SQL once)."""
    with db.transaction() as session:
        for kind in ("formal_tone", "unanswered", "one_way"):
            session.add(
                DriftAlert(
                    team_id=TEAM_ID,
                    relationship_id=relationship_id,
                    channel_id="CSHARED",
                    kind=kind,
                    figure=1,
                    day="2026-12-01",
                    cue_kinds="",
                    sent_at=clock.now(),
                    not_drift_by="UALICE",
                )
            )


def test_column_reads_return_what_core_returns_without_going_through_the_engine(db, clock):
    relationship_id = make_relationship(db, clock, channels=("CSHARED",))
    _alerts_marked_not_drift(db, relationship_id, clock)
    now = clock.now() + timedelta(minutes=1)
    expected = []
    with db.transaction() as session:  # Core, as a writer's session reads
        for statement, values in _statements(relationship_id, now):
            result = columns(session, statement, values)
            expected.append((list(result.keys()), [tuple(row) for row in result]))
    sent = _engine_statements(db)
    with db.read() as session:
        got = []
        for statement, values in _statements(relationship_id, now):
            result = columns(session, statement, values)
            got.append((list(result.keys()), [tuple(row) for row in result]))
    assert sent == []  # straight to the driver
    assert got == expected
    assert {row[0] for row in got[3][1]} == {2}  # the feedback: the IN kept one_way out
    assert [[type(value) for value in row] for row in got[0][1]] == [
        [type(value) for value in row] for row in expected[0][1]
    ]
    (keys, members), (_, carl) = got[:2]
    assert keys == ["user_id", "side", "role", "added_at", "number", "yes"]
    assert [(m[0], m[1], m[2]) for m in members] == [
        ("UALICE", Side.CLIENT, Role.OWNER),
        ("UPAT", Side.PROVIDER, Role.OWNER),
    ]
    assert all(m[3].tzinfo is not None and m[5] is True for m in members)
    assert isinstance(members[0][4], float) and [m[0] for m in carl] == ["UCARL"]


def test_a_statement_the_database_refuses_raises_as_core_would_and_the_pool_recovers(db, clock):
    relationship_id = make_relationship(db, clock)
    with pytest.raises(DBAPIError), db.read() as session:
        columns(session, select(func.no_such_function()), {})
    with db.read() as session:  # the connection went back to the pool fit for use
        assert columns(session, _PARTS, {"relationship_id": relationship_id}).all()


def test_a_connection_read_on_goes_back_to_the_pool_as_it_was(database_url, clock):
    """On PostgreSQL column reads run in autocommit: the connection they used, handed next
    to a writer, must be in a transaction again, so a write rolled back is not saved."""
    db = Database(create_db_engine(database_url))  # a pool of its own, used by one thread
    try:
        relationship_id = make_relationship(db, clock)
        with db.read() as session:
            columns(session, _PARTS, {"relationship_id": relationship_id}).all()
        with pytest.raises(RuntimeError), db.transaction() as session:
            session.get(Relationship, relationship_id).name = "Renamed"
            session.flush()
            raise RuntimeError("the write fails half-way")
        with db.read() as session:
            assert session.get(Relationship, relationship_id).name == "Acme ⇄ Stellar"
        assert db.engine.pool.checkedin() == 1  # the same connection, each time
    finally:
        db.engine.dispose()


def test_a_read_session_holds_one_connection_whatever_reads_it_mixes(database_url, clock):
    """Direct reads first, then the ORM, then direct reads again, in a pool of one
    connection: a session that held one connection and waited for a second would wait for
    itself until the pool gave up."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=1)
    db = Database(engine)
    try:
        relationship_id = make_relationship(db, clock)
        values = {"relationship_id": relationship_id}
        with db.read() as session:
            parts = columns(session, _PARTS, values).all()  # a connection of its own
            relationship = session.get(Relationship, relationship_id)  # the ORM takes it over
            assert {member.user_id for member in relationship.members} >= {"UALICE", "UPAT"}
            assert columns(session, _PARTS, values).all() == parts  # on the ORM's connection
            assert engine.pool.checkedout() == 1
        assert engine.pool.checkedout() == 0
    finally:
        engine.dispose()


def test_the_relationship_a_read_finds_is_complete_and_detached(db, clock):
    relationship_id = make_relationship(db, clock, channels=("CSHARED",))
    with db.read() as session:
        relationship, role = rel.resolve(session, TEAM_ID, "UALICE", "CSHARED", None)
        assert (relationship.id, relationship.name, role) == (
            relationship_id,
            "Acme ⇄ Stellar",
            Role.OWNER,
        )
        assert relationship.created_at.tzinfo is not None
        assert inspect(relationship).detached
        assert relationship not in session
        with pytest.raises(DetachedInstanceError):
            len(relationship.members)  # a read session reads what it shows with statements
        again = entity_rows(
            session, rel._HOMED, {"relationship_id": relationship_id, "team_id": TEAM_ID}
        )
        assert [(row[0].id, row[0].name) for row in again] == [(relationship_id, "Acme ⇄ Stellar")]
    with db.transaction() as session:  # a writer's session loads it through the ORM, to change it
        relationship, _ = rel.resolve(session, TEAM_ID, "UALICE", "CSHARED", None)
        assert relationship in session
        relationship.name = "Renamed"
    with db.read() as session:
        assert rel.get_relationship(session, TEAM_ID, relationship_id).name == "Renamed"
