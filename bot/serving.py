"""Serving Slack over HTTP, for ``rapport run`` and ``rapport web``, with granian (an HTTP
server written in Rust, with a WSGI interface).

The parent forks one server process, granian's own supervisor, which listens on ``PORT`` and
forks the web workers (``--workers N``, default 1): each opens its own database engine, Slack
clients and Bolt app, and answers requests on ``REQUEST_THREADS`` Python threads (a lone
worker on SQLite on one) while granian's Rust threads read and write the sockets. The parent
serves nothing (for ``run`` it runs the scheduler, started only after the fork). SIGTERM or
Ctrl-C to the parent stops the server, whose workers first answer what they were answering;
a worker that dies stops the server, and the server's end stops Rapport, so whatever
supervises it sees the failure and restarts it. Why not waitress, a server in Python:
``docs/architecture.md``.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import socket
import time
from functools import partial
from multiprocessing import util as multiprocessing_util

from granian import Granian
from granian.constants import Interfaces
from granian.log import LogLevels
from sqlalchemy.engine import make_url

from bot import stopping
from bot.app import create_app
from bot.core.db import Database, create_db_engine
from bot.core.settings import Settings
from bot.services import Services, create_services
from bot.slack.token_cipher import KEY_VARIABLE
from bot.web import RapportWsgi

logger = logging.getLogger(__name__)

STOP_SECONDS = 20  # how long workers get to finish in-flight requests on shutdown
# Python threads a worker answers requests on (granian warns past 2 a core and one). On
# PostgreSQL a thread waits for the server at each statement, and another answers meanwhile.
# On SQLite there is no such wait, but sqlite3 lets go of the interpreter lock at every step
# of every statement (each row): a lone worker's threads handed it to each other at each,
# and its `/rapport show` cost 1.05-1.18 ms of CPU with 2 or 4 threads, 0.60 ms with one.
# With a worker a core, four measured better again (`help` 0.27-0.30 ms against 0.34-0.35).
REQUEST_THREADS = 4
LONE_SQLITE_WORKER_THREADS = 1
LISTEN_BACKLOG = 1024
# granian's own lines go through Rapport's logging (its format, request ids), warnings up
_GRANIAN_LOGGING = {"handlers": {}, "loggers": {"_granian": {"propagate": True}}}
# settings the workers have read already, kept out of every request's WSGI environ (granian
# starts each one from a copy of the process's environment)
_SECRET_VARIABLES = (
    "SLACK_SIGNING_SECRET",
    "SLACK_CLIENT_SECRET",
    "DATABASE_URL",
    KEY_VARIABLE,
)


class PortUnavailable(Exception):
    """The port can't be listened on; the message says why and what to do."""


def check_port(port: int, host: str = "0.0.0.0") -> None:
    """Raise ``PortUnavailable`` unless ``port`` can be listened on. Granian listens with
    SO_REUSEPORT, which would let a second Rapport share the port with the first without a
    word; a plain bind is refused while either listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortUnavailable(
                    f"Port {port} is already in use: stop the other program or set PORT."
                ) from error
            raise PortUnavailable(
                f"Rapport can't listen on port {port} ({error.strerror}): set PORT."
            ) from error


class WebServer:
    """The server process and its ``workers``, forked from this one (which must run no other
    thread yet, nor hold a pooled database connection)."""

    def __init__(self, settings: Settings, workers: int):
        self.pid = os.fork()
        if self.pid == 0:  # the server: serve, then leave without running the parent's code
            code = 1
            try:
                code = _serve(settings, workers)
            finally:
                os._exit(code)
        threads = request_threads(settings.database_url, workers)
        logger.info(
            "Rapport is listening on port %d (POST /slack/events), serving with %d web "
            "worker%s of %d request thread%s (server pid %d)",
            settings.port,
            workers,
            "" if workers == 1 else "s",
            threads,
            "" if threads == 1 else "s",
            self.pid,
        )

    def wait(self) -> int:
        """Until the server exits (a failure: 1); SIGTERM or Ctrl-C interrupt it, within a
        nap (``bot.stopping``)."""
        status = stopping.nap_until(self._exit_status)
        logger.error("the web server exited (status %d); stopping", status)
        return 1

    def stop(self) -> None:
        """Ask the server to stop (SIGTERM), then kill it and its workers if it takes
        longer than its workers may."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS + 5
        while time.monotonic() < deadline:
            if self._exit_status() is not None:
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)

    def _exit_status(self) -> int | None:
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # reaped already
            return 0
        return os.waitstatus_to_exitcode(status) if pid else None


class _Server(Granian):
    """Granian, whose workers stopped while they still start end at once. Granian takes
    SIGTERM in a worker only once the worker has loaded the app; until then the worker has
    the server's handler it was forked with, which would only mark the worker's copy of the
    server as interrupted, and the server would kill the worker after ``STOP_SECONDS``
    (``systemctl restart`` just after a start took 20 s). A worker that serves nothing yet
    has nothing to finish."""

    def signal_handler_interrupt(self, *args: object, **kwargs: object) -> None:
        if os.getpid() != self.pid:  # in a worker, forked by the server
            os._exit(0)
        super().signal_handler_interrupt(*args, **kwargs)


def request_threads(database_url: str, workers: int) -> int:
    """How many Python threads each of ``workers`` answers requests on."""
    if workers == 1 and make_url(database_url).get_backend_name() == "sqlite":
        return LONE_SQLITE_WORKER_THREADS
    return REQUEST_THREADS


def _serve(settings: Settings, workers: int) -> int:
    """The server process: granian, until SIGTERM; 1 when a worker died."""
    os.setpgid(0, 0)  # Ctrl-C reaches the parent only, which stops the server in order
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # until granian takes it, just end
    server = _Server(
        "rapport",  # unused: the workers' app comes from _worker_app
        address="0.0.0.0",
        port=settings.port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=request_threads(settings.database_url, workers),
        backlog=LISTEN_BACKLOG,
        websockets=False,
        log_level=LogLevels.warning,
        log_dictconfig=_GRANIAN_LOGGING,
        workers_kill_timeout=STOP_SECONDS,
    )
    try:
        server.serve(target_loader=partial(_worker_app, settings), wrap_loader=False)
    except SystemExit as exit:  # granian's way to say a worker died
        return exit.code if isinstance(exit.code, int) else 1
    return 0


def _worker_app(settings: Settings) -> RapportWsgi:
    """One worker's app: its own engine, Slack clients and Bolt app, closed as it exits."""
    engine = create_db_engine(settings.database_url)
    db = Database(engine)
    services = create_services(settings, db)
    app = RapportWsgi(create_app(settings, services), db, settings.slack_signing_secret)
    services.prepare_to_serve()
    for name in _SECRET_VARIABLES:
        os.environ.pop(name, None)
    # multiprocessing runs these as the worker's process ends, after granian's last answer
    multiprocessing_util.Finalize(services, _close, args=(services, db), exitpriority=10)
    return app


def _close(services: Services, db: Database) -> None:
    services.close()
    db.engine.dispose()
