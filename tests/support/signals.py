"""Signals as the kernel may deliver them to a process with threads."""

from __future__ import annotations

import os
import signal


def sigterm_through_another_thread(pid: int) -> None:
    """SIGTERM to ``pid``, taken by one of its threads other than the main one.

    A process's signal goes to whichever of its threads the kernel picks; given a thread's
    id, ``kill`` offers it to that thread first. Python then only sets a flag for the main
    thread, so a main thread blocked for good never stops: the case this reproduces."""
    threads = [int(tid) for tid in os.listdir(f"/proc/{pid}/task") if int(tid) != pid]
    assert threads, f"process {pid} runs no thread but its main one"
    os.kill(max(threads), signal.SIGTERM)
