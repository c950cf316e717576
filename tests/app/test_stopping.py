"""SIGTERM raises SystemExit in the main thread only where it waits to be stopped."""

from __future__ import annotations

import os
import signal

import pytest

from bot import stopping


@pytest.fixture
def sigterm_handled_by_rapport(monkeypatch):
    monkeypatch.setattr(stopping, "_requested", False)
    monkeypatch.setattr(stopping, "_waiting", False)
    previous = signal.getsignal(signal.SIGTERM)
    stopping.stop_on_sigterm()
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_sigterm_while_waiting_stops_at_once(sigterm_handled_by_rapport):
    with pytest.raises(SystemExit) as stopped, stopping.waiting():
        os.kill(os.getpid(), signal.SIGTERM)  # (its handler runs as the call returns)
        pytest.fail("the SIGTERM didn't stop it")
    assert stopped.value.code == 0


def test_a_sigterm_during_other_work_is_kept_until_it_waits(sigterm_handled_by_rapport):
    # in the middle of start-up's work, say: the work goes on (no SystemExit here)
    os.kill(os.getpid(), signal.SIGTERM)
    with pytest.raises(SystemExit) as stopped, stopping.waiting():
        pytest.fail("it waited although asked to stop")
    assert stopped.value.code == 0
