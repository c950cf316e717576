"""Pre-forked web workers for ``rapport run --workers N`` and ``rapport web --workers N``.

Python runs one thread at a time per process, so one process answers Slack from one core at
most. With N workers the parent binds the port, then forks N processes that each open their
own database engine, Slack clients and Bolt app and serve requests from the shared listening
socket; the parent serves nothing (for ``run`` it runs the scheduler, started only after
the fork). SIGTERM or Ctrl-C to the parent stops every worker; a worker that dies stops the
others too, so whatever supervises Rapport sees the failure and restarts it.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import socket
import time

from bot import stopping
from bot.app import create_app
from bot.core.db import Database, create_db_engine
from bot.core.settings import Settings
from bot.services import create_services
from bot.web import RapportWsgi, create_http_server

logger = logging.getLogger(__name__)

STOP_SECONDS = 20.0  # how long workers get to finish in-flight requests on shutdown
LISTEN_BACKLOG = 1024


class PortUnavailable(Exception):
    """The port can't be listened on; the message says why and what to do."""


def listening_socket(port: int, host: str = "0.0.0.0") -> socket.socket:
    """A TCP socket listening on ``port``, for workers to share."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortUnavailable(
                f"Port {port} is already in use: stop the other program or set PORT."
            ) from error
        raise PortUnavailable(
            f"Rapport can't listen on port {port} ({error.strerror}): set PORT."
        ) from error
    sock.setblocking(False)  # workers race to accept: the losers must not block
    return sock


class Workers:
    """N forked processes serving Slack from one listening socket."""

    def __init__(self, settings: Settings, count: int, sock: socket.socket):
        self._sock = sock
        self.pids: list[int] = []
        for _ in range(count):
            pid = os.fork()
            if pid == 0:  # the worker: serve, then leave without running the parent's code
                code = 1
                try:
                    code = _serve(settings, sock)
                finally:
                    os._exit(code)
            self.pids.append(pid)
        logger.info("Rapport is serving with %d web workers (pids %s)", count, self.pids)

    def wait(self) -> int:
        """Until a worker exits (a failure: 1); SIGTERM or Ctrl-C interrupt it, within a
        nap (``bot.stopping``)."""
        pid, status = stopping.nap_until(_exited_child)
        self.pids.remove(pid)
        logger.error("web worker %d exited (status %d); stopping the others", pid, status)
        return 1

    def stop(self) -> None:
        """Ask every worker to finish (SIGTERM), then kill any that take too long."""
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        while self.pids and time.monotonic() < deadline:
            for pid in list(self.pids):
                with contextlib.suppress(ChildProcessError):
                    if os.waitpid(pid, os.WNOHANG)[0] == 0:
                        continue
                self.pids.remove(pid)
            time.sleep(0.05)
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        self.pids.clear()
        self._sock.close()


def _exited_child() -> tuple[int, int] | None:
    pid, status = os.waitpid(-1, os.WNOHANG)
    return (pid, status) if pid else None


def _serve(settings: Settings, sock: socket.socket) -> int:
    """One worker: its own engine, Slack clients and app, until SIGTERM (or Ctrl-C)."""
    engine = create_db_engine(settings.database_url)
    db = Database(engine)
    services = create_services(settings, db)
    try:
        app = create_app(settings, services)
        server = create_http_server(
            RapportWsgi(app, db, settings.slack_signing_secret), sockets=[sock]
        )
        services.prepare_to_serve()
        with stopping.waiting():
            server.run()  # returns on SIGTERM (SystemExit) or Ctrl-C
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        services.close()
        engine.dispose()
    return 0
