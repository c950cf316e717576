"""On SQLite, write transactions queue on a lock file beside the database, which other
processes (``--workers``) share, instead of on SQLite's sleep-and-retry busy handler.
These tests use their own SQLite file, so they run in the PostgreSQL pass too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.db import Database, create_db_engine

TRY_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    sys.exit(3)
"""


def another_process_can_lock(lock_file: Path) -> bool:
    result = subprocess.run([sys.executable, "-c", TRY_LOCK, str(lock_file)], timeout=30)
    assert result.returncode in (0, 3), result
    return result.returncode == 0


@pytest.fixture
def sqlite_db(tmp_path: Path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'rapport.db'}")
    yield Database(engine), tmp_path / "rapport.db.writer-lock"
    engine.dispose()


def test_a_write_transaction_holds_the_lock_file_until_it_ends(sqlite_db):
    db, lock_file = sqlite_db
    with db.transaction():
        assert not another_process_can_lock(lock_file)
    assert another_process_can_lock(lock_file)


def test_a_failed_write_transaction_releases_the_lock_file(sqlite_db):
    db, lock_file = sqlite_db
    with pytest.raises(RuntimeError), db.transaction():
        raise RuntimeError("boom")
    assert another_process_can_lock(lock_file)
    with db.transaction():  # and this process can still write
        pass


def test_reads_take_no_lock(sqlite_db):
    db, lock_file = sqlite_db
    with db.transaction():
        pass  # the lock file exists from here on
    with db.read():
        assert another_process_can_lock(lock_file)


DIES_HOLDING_THE_LOCK = """
import os, sys, time
from bot.core.db import Database, create_db_engine
db = Database(create_db_engine(sys.argv[1]))
with db.transaction():
    child = os.fork()
    if child == 0:  # a forked worker: lives on after its parent
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)  # let the test read its parent's output to the end
        os.dup2(quiet, 2)
        time.sleep(30)
        os._exit(0)
    print(child, flush=True)
    os._exit(0)  # the parent dies holding the lock
"""


def test_a_forked_worker_does_not_keep_a_dead_parents_lock(tmp_path):
    database = tmp_path / "rapport.db"
    parent = subprocess.run(
        [sys.executable, "-c", DIES_HOLDING_THE_LOCK, f"sqlite:///{database}"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=Path(__file__).parents[2],
    )
    worker = int(parent.stdout)
    try:
        assert another_process_can_lock(tmp_path / "rapport.db.writer-lock")
    finally:
        os.kill(worker, signal.SIGKILL)
