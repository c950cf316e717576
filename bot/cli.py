"""Rapport, the Slack bot for client-provider relationships: run the bot (or its web and
scheduler roles apart), migrate its database, score messages for drift, or generate a key
for the Slack tokens it stores.

Settings come from the environment and ./.env (see .env.example).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import threading
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from apscheduler.schedulers.base import BaseScheduler
from slack_bolt import App
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot import stopping
from bot.app import create_app
from bot.core import metrics
from bot.core.db import Database, create_db_engine, migrate, pending_migrations
from bot.core.settings import Settings, SettingsError, configure_logging, load_settings
from bot.drift import classify
from bot.drift.domain import load_model
from bot.drift.tone import ModelUnavailable
from bot.services import Services, create_services
from bot.serving import PortUnavailable, WebServer, check_port
from bot.slack import workspaces
from bot.slack.client import create_web_client
from bot.slack.installations import count_clear_tokens, seal_stored_tokens
from bot.slack.outbox import LedgerBacklog
from bot.slack.token_cipher import KEY_VARIABLE, UnreadableToken, generate_key
from scheduler.leader import LeaderElection, lock_for
from scheduler.runner import create_scheduler, standby_jobs

logger = logging.getLogger("rapport")

# what opening DATABASE_URL can raise: SQLAlchemy's errors for a server that can't be reached
# or refuses, ImportError for a driver that isn't installed (postgresql+psycopg2://, say)
DATABASE_ERRORS = (SQLAlchemyError, ImportError)
MAX_WORKERS = 64


def main(argv: list[str] | None = None) -> int:
    parser = _argument_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "classify":  # needs no configuration at all
        return classify.main(rest, sys.stdin, sys.stdout)
    if args.command == "train-drift":
        from bot.drift.train_command import main as train_drift  # imports scikit-learn

        return train_drift(rest, sys.stdout)
    if args.command == "generate-key":
        print(generate_key())
        return 0
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")

    try:
        settings = load_settings(require_slack=args.command != "migrate")
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    configure_logging(settings)
    # Settings hold the token from here on. Bolt, given none, would read it from the
    # environment too, then warn at every start that the client's token wins over it.
    os.environ.pop("SLACK_BOT_TOKEN", None)
    created = _new_sqlite_file(settings.database_url)
    if args.command == "migrate":
        exit_code = _migrate(settings)
    else:
        exit_code = _run(settings, args.command, getattr(args, "workers", 1))
    if exit_code != 0 and created is not None:  # a failed first start leaves no empty database
        _remove_sqlite_files(created)
    return exit_code


def _argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rapport",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rapport {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run", help="apply migrations, serve Slack and run the scheduler (single machine)"
    )
    web = commands.add_parser("web", help="serve Slack only; run as many as you like")
    for serving in (run, web):
        serving.add_argument(
            "--workers",
            type=_worker_count,
            default=1,
            metavar="N",
            help="web worker processes sharing the port, one core each (default 1)",
        )
    commands.add_parser("scheduler", help="run the scheduled jobs only (one active at a time)")
    commands.add_parser(
        "migrate", help="apply pending database migrations, encrypt stored tokens, and exit"
    )
    commands.add_parser("generate-key", help=f"print a new key for {KEY_VARIABLE}")
    commands.add_parser(
        "classify",
        help="score messages for drift: one per line on stdin, or as arguments (--json)",
        add_help=False,
    )
    commands.add_parser(
        "train-drift",
        help="retrain the drift model from labelled messages (needs the [train] extra)",
        add_help=False,
    )
    return parser


def _version() -> str:
    try:
        return version("rapport")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def _new_sqlite_file(database_url: str) -> Path | None:
    """The SQLite file ``database_url`` names, if it doesn't exist yet (this run creates it)."""
    url = make_url(database_url)
    name = url.database or ":memory:"
    if url.get_backend_name() != "sqlite" or name == ":memory:" or name.startswith("file:"):
        return None
    path = Path(name)
    return None if path.exists() else path


def _remove_sqlite_files(path: Path) -> None:
    """The database file and what SQLite and Rapport keep beside it (the journal, and the
    lock files of ``bot.core.db`` and ``scheduler.leader``)."""
    for suffix in ("", "-wal", "-shm", "-journal", ".writer-lock", ".scheduler.lock"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _worker_count(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"give a number of workers from 1 to {MAX_WORKERS}")
    return int(value)


def _migrate(settings: Settings) -> int:
    engine = None
    try:
        engine = create_db_engine(settings.database_url)
        migrate(engine)
        problem = _seal_tokens(settings, engine)
    except DATABASE_ERRORS as error:
        print(_database_problem(error, settings.database_url), file=sys.stderr)
        return 1
    finally:
        if engine is not None:
            engine.dispose()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    logger.info("database is up to date")
    return 0


def _seal_tokens(settings: Settings, engine: Engine) -> str | None:
    """Encrypt the stored Slack tokens still in clear or under an older key (nothing to do
    without a key); what to fix when a stored token can't be decrypted."""
    cipher = settings.token_cipher
    if cipher is None:
        if clear := count_clear_tokens(engine):
            logger.warning(
                "%d Slack tokens are stored unencrypted: set %s (rapport generate-key makes "
                "one) and run rapport migrate to encrypt them",
                clear,
                KEY_VARIABLE,
            )
        return None
    try:
        sealed = seal_stored_tokens(engine, cipher)
    except UnreadableToken:
        return (
            f"Rapport can't decrypt the Slack tokens in its database with any key in "
            f"{KEY_VARIABLE}: they were encrypted with another. To replace a key, list the "
            f"new one first and the old one after a comma ({KEY_VARIABLE}=new,old) until "
            "Rapport has started once. Nothing was changed."
        )
    if sealed:
        logger.info(
            "encrypted %d stored Slack tokens with the first key of %s", sealed, KEY_VARIABLE
        )
    return None


class _CantStart(Exception):
    """Why Rapport can't start (printed as is) and the exit status that says so."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _run(settings: Settings, role: str, workers: int = 1) -> int:
    """``run``: web and scheduler; ``web`` or ``scheduler`` alone. Over HTTP, forked
    processes serve Slack (``bot.serving``) and this one runs only the scheduler; in Socket
    Mode one process does both."""
    stopping.stop_on_sigterm()  # first: a SIGTERM during start-up stops it once started
    shared_metrics = metrics.share_between_processes() if _serves_http(settings, role) else None
    try:
        return _start(settings, role, workers)
    finally:
        if shared_metrics is not None:
            shutil.rmtree(shared_metrics, ignore_errors=True)


def _start(settings: Settings, role: str, workers: int) -> int:
    try:
        if workers > 1 and settings.socket_mode:
            raise _CantStart(
                "--workers serves Slack over HTTP; Socket Mode (SLACK_APP_TOKEN) uses one "
                "connection. Leave out --workers, or SLACK_APP_TOKEN.",
                2,
            )
        serving = _serves_http(settings, role)
        if serving:
            _check_port(settings.port)  # before anything starts
        _load_drift_model()  # before forking workers, which share it
        # before the database: a wrong token creates nothing
        team_id = None if settings.multi_workspace else _team_of_bot_token(settings)
        engine = _prepare_database(settings, role)
        db = Database(engine)
        services = create_services(settings, db)
        if team_id is not None:
            _record_installation(db, team_id, services)
        server = _start_web_server(settings, workers, engine) if serving else None
        election = (
            _elect_scheduler(engine, services, server) if role in ("run", "scheduler") else None
        )
        if role == "scheduler" and settings.metrics_port is not None:
            _serve_metrics(settings.metrics_port, db)
    except _CantStart as problem:
        print(problem, file=sys.stderr)
        return problem.status
    return _until_stopped(settings, role, services, server, election)


def _load_drift_model() -> None:
    try:
        load_model()
    except ModelUnavailable as problem:
        raise _CantStart(str(problem), 1) from None


def _team_of_bot_token(settings: Settings) -> str:
    try:
        return create_web_client(settings).auth_test()["team_id"]
    except (SlackApiError, SlackClientError, OSError) as error:
        raise _CantStart(
            "Slack didn't accept SLACK_BOT_TOKEN, or couldn't be reached "
            f"({_slack_reason(error)}). Check the token on your app's OAuth & Permissions "
            "page, and SLACK_API_URL if you set it.",
            1,
        ) from None


def _prepare_database(settings: Settings, role: str) -> Engine:
    """An engine on an up-to-date database (``run`` migrates it; the roles apart won't)."""
    try:
        engine = create_db_engine(settings.database_url)
        if role == "run":
            migrate(engine)
        elif pending_migrations(engine):
            raise _CantStart(
                "The database needs migrating first: run `rapport migrate` once, then start "
                f"`rapport {role}` processes.",
                1,
            )
        problem = _seal_tokens(settings, engine)
    except DATABASE_ERRORS as error:
        raise _CantStart(_database_problem(error, settings.database_url), 1) from None
    if problem:
        raise _CantStart(problem, 2)
    return engine


def _record_installation(db: Database, team_id: str, services: Services) -> None:
    try:  # a valid token means the app is installed there
        with db.transaction() as session:
            workspaces.mark_installed(session, team_id, services.clock.now())
    except IntegrityError:
        pass  # another process starting at the same moment recorded it


def _serves_http(settings: Settings, role: str) -> bool:
    return role in ("run", "web") and not settings.socket_mode


def _check_port(port: int) -> None:
    try:
        check_port(port)
    except PortUnavailable as problem:
        raise _CantStart(str(problem), 1) from None


def _start_web_server(settings: Settings, workers: int, engine: Engine) -> WebServer:
    """Fork first: no threads or open connections may cross into the server's workers."""
    engine.dispose()
    return WebServer(settings, workers)


def _elect_scheduler(
    engine: Engine, services: Services, server: WebServer | None
) -> LeaderElection:
    def standby() -> BaseScheduler:  # on PostgreSQL, standbys help send
        return create_scheduler(services, standby_jobs())

    election = LeaderElection(
        lock_for(engine),
        lambda: create_scheduler(services),
        standby=standby if engine.dialect.name == "postgresql" else None,
    )
    election.step()
    if not election.leading and engine.dialect.name == "sqlite":
        if server is not None:
            server.stop()
        raise _CantStart(
            "Another Rapport scheduler is already running on this SQLite database, and "
            "only one may. Stop it first, or use PostgreSQL to run standby schedulers.",
            1,
        )
    return election


def _serve_metrics(port: int, db: Database) -> None:
    try:
        metrics.serve(port, LedgerBacklog(db))
    except OSError as error:
        raise _CantStart(
            f"The scheduler can't serve /metrics on METRICS_PORT {port} ({error.strerror}): "
            "choose a free port, or leave METRICS_PORT out.",
            1,
        ) from None
    logger.info("scheduler metrics on port %d at /metrics", port)


def _until_stopped(
    settings: Settings,
    role: str,
    services: Services,
    server: WebServer | None,
    election: LeaderElection | None,
) -> int:
    """Run the role until Ctrl-C or SIGTERM (or the web server dies), then stop everything."""
    exit_code = 0
    try:
        if role == "scheduler":
            logger.info("Rapport scheduler started")
            with stopping.waiting():
                election.run()  # returns on Ctrl-C or SIGTERM
        else:
            if election is not None:
                threading.Thread(target=election.run, name="scheduler", daemon=True).start()
            if server is not None:
                exit_code = server.wait()  # returns if the server dies
            else:
                _serve_socket_mode(settings, create_app(settings, services), services)
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.stop()
        if election is not None:
            election.stop()
        services.close()
        services.db.engine.dispose()
        logger.info("Rapport stopped")
    return exit_code


def _serve_socket_mode(settings: Settings, app: App, services: Services) -> None:
    """Answer Slack over Socket Mode until Ctrl-C or SIGTERM."""
    from bot.socket_mode import StorableSocketModeHandler

    services.prepare_to_serve()
    logger.info("Rapport is running in Socket Mode")
    handler = StorableSocketModeHandler(app, settings.slack_app_token)
    try:
        handler.connect()
        stopping.nap_until_stopped()  # (Bolt's start() would wait on an event for good)
    finally:  # its threads reconnect through Slack calls: not while the process exits
        handler.close()


def _database_problem(error: Exception, database_url: str) -> str:
    if isinstance(error, ImportError):
        return (
            f"Rapport can't use the database driver DATABASE_URL names ({error.name} isn't "
            "installed). Use sqlite:///rapport.db or postgresql+psycopg://user:pw@host/db."
        )
    cause = _cause(getattr(error, "orig", None) or error)  # the driver's own words
    password = make_url(database_url).password
    if password:
        cause = cause.replace(str(password), "***")
    return (
        f"Rapport couldn't prepare its database ({cause}). "
        "Check DATABASE_URL and that the database server is running."
    )


def _slack_reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error", "unknown error"))
    return _cause(getattr(error, "reason", None) or error)  # urllib wraps the socket's error


def _cause(error: BaseException) -> str:
    """What went wrong in the library's own words, first line only: "Connection refused",
    "Name or service not known", 'database "rapport" does not exist'."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
