"""How long the work handed over after an ack has waited for a thread (``Backlog``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.services import Backlog

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_nothing_has_waited_when_every_piece_has_started():
    backlog = Backlog()
    assert backlog.waited(at(0)) == timedelta(0)
    backlog.handed(at(0))
    backlog.started()
    assert backlog.waited(at(5)) == timedelta(0)


def test_the_oldest_piece_not_started_is_how_long_the_work_has_waited():
    backlog = Backlog()
    for second in (0, 1, 2):
        backlog.handed(at(second))
    assert backlog.waited(at(3)) == timedelta(seconds=3)
    backlog.started()  # the pool starts them in the order they came
    assert backlog.waited(at(3)) == timedelta(seconds=2)
