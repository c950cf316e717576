"""``SingleFlight``: threads asking for the same key while its work runs share that run."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from bot.core import single_flight
from bot.core.single_flight import SingleFlight


class _CountedFuture(Future):
    """A run's future that counts the callers waiting for it to end."""

    waiting = threading.Semaphore(0)

    def result(self, timeout=None):
        _CountedFuture.waiting.release()
        return super().result(timeout)


@pytest.fixture(autouse=True)
def _counted(monkeypatch):
    monkeypatch.setattr(single_flight, "Future", _CountedFuture)
    _CountedFuture.waiting = threading.Semaphore(0)


def _asked_while_running(flight: SingleFlight[str, int], work, others: int) -> list:
    """The first caller's work starts and waits until ``others`` callers wait for it."""
    started, finish = threading.Event(), threading.Event()

    def first():
        def blocking():
            started.set()
            assert finish.wait(5)
            return work()

        return flight.run("acme", blocking)

    with ThreadPoolExecutor(others + 1) as pool:
        leader = pool.submit(first)
        assert started.wait(5)
        followers = [pool.submit(flight.run, "acme", work) for _ in range(others)]
        for _ in range(others):
            assert _CountedFuture.waiting.acquire(timeout=5)
        finish.set()
        return [leader, *followers]


def test_callers_asking_while_a_run_is_under_way_share_its_result():
    flight: SingleFlight[str, int] = SingleFlight()
    runs = []

    def work() -> int:
        runs.append(1)
        return len(runs)

    calls = _asked_while_running(flight, work, others=3)
    results = [call.result(timeout=5) for call in calls]
    assert runs == [1]  # the followers' own work never ran
    assert results == [(1, True), (1, False), (1, False), (1, False)]
    assert flight.run("acme", work) == (2, True)  # a run that ended is not kept


def test_an_error_reaches_every_caller_that_shared_the_run():
    flight: SingleFlight[str, int] = SingleFlight()

    def work() -> int:
        raise ValueError("the database went away")

    for call in _asked_while_running(flight, work, others=2):
        with pytest.raises(ValueError, match="went away"):
            call.result(timeout=5)
    assert flight.run("acme", lambda: 7) == (7, True)


def test_different_keys_run_apart():
    flight: SingleFlight[str, str] = SingleFlight()
    assert flight.run("acme", lambda: "a") == ("a", True)
    assert flight.run("globex", lambda: "g") == ("g", True)
