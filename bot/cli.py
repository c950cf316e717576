"""The ``rapport`` command: ``run`` the bot, ``migrate`` the database, ``classify`` messages."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import SQLAlchemyError

from bot import classify
from bot.app import create_app
from bot.db import Database, create_db_engine, migrate
from bot.services import create_services
from bot.settings import Settings, SettingsError, configure_logging, load_settings
from bot.slack_client import create_web_client
from bot.web import RapportWsgi, create_http_server
from scheduler.jobs import JobContext
from scheduler.runner import create_scheduler

logger = logging.getLogger("rapport")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rapport", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="apply migrations and start the bot (HTTP or Socket Mode)")
    commands.add_parser("migrate", help="apply pending database migrations and exit")
    commands.add_parser(
        "classify",
        help="score messages for drift: one per line on stdin, or as arguments (--json)",
        add_help=False,
    )
    args, rest = parser.parse_known_args(argv)
    if args.command == "classify":  # needs no configuration at all
        return classify.main(rest, sys.stdin, sys.stdout)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")

    try:
        settings = load_settings(require_slack=args.command != "migrate")
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    configure_logging(settings)
    if args.command == "migrate":
        return _migrate(settings)
    return _run(settings)


def _migrate(settings: Settings) -> int:
    engine = create_db_engine(settings.database_url)
    try:
        migrate(engine)
    except SQLAlchemyError as error:
        print(
            f"Rapport couldn't prepare its database ({type(error).__name__}). "
            "Check DATABASE_URL and that the database server is running.",
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()
    logger.info("database is up to date")
    return 0


def _stop_on_sigterm() -> None:
    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


def _run(settings: Settings) -> int:
    if _migrate(settings) != 0:
        return 1
    try:
        create_web_client(settings).auth_test()
    except (SlackApiError, SlackClientError, OSError) as error:
        print(
            "Slack didn't accept SLACK_BOT_TOKEN, or couldn't be reached "
            f"({_slack_reason(error)}). Check the token on your app's OAuth & Permissions "
            "page, and SLACK_API_URL if you set it.",
            file=sys.stderr,
        )
        return 1
    engine = create_db_engine(settings.database_url)
    db = Database(engine)
    services = create_services(db)
    app = create_app(settings, services)
    scheduler = create_scheduler(JobContext(services, app.client))
    _stop_on_sigterm()
    scheduler.start()
    try:
        if settings.socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            logger.info("Rapport is running in Socket Mode")
            SocketModeHandler(app, settings.slack_app_token).start()
        else:
            server = create_http_server(RapportWsgi(app, db), "0.0.0.0", settings.port)
            logger.info("Rapport is listening on port %s (POST /slack/events)", settings.port)
            server.run()  # returns on Ctrl-C or SIGTERM
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.shutdown(wait=False)
        services.close()
        engine.dispose()
        logger.info("Rapport stopped")
    return 0


def _slack_reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error", "unknown error"))
    return type(error).__name__
