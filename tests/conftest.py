"""Fixtures: a fake Slack, a migrated database (SQLite, or PostgreSQL when
``RAPPORT_TEST_DATABASE_URL`` points at one), and the real app served over HTTP."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_bolt import App
from sqlalchemy import text

from bot.app import create_app
from bot.core.db import Database, create_db_engine
from bot.core.settings import Settings
from bot.schema import metadata
from bot.services import create_services
from bot.web import RapportWsgi
from tests.support.fake_slack import FakeSlack
from tests.support.fresh_db import fresh_database
from tests.support.http_server import serving
from tests.support.slack_requests import SIGNING_SECRET, SlackRequests

pytest_plugins = ["tests.support.joint_helpers"]  # two workspaces sharing a relationship

POSTGRES_URL = os.environ.get("RAPPORT_TEST_DATABASE_URL")
CLIENT_ID, CLIENT_SECRET = "1111.2222", "client-secret-abc"  # installs through OAuth
KEY = "sX7xIiuWfs4uWAqTB1KNuSSXnH3PfEBzKD-TjzyusdU="  # RAPPORT_ENCRYPTION_KEY
OLD_KEY = "qzh4M_Y8mYZ_wZhXG24BOjO4dA2FPQ8QREaR5AJE6-U="


class FakeClock:
    def __init__(self, start: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)):
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database at the latest migration: a SQLite template file, or the PostgreSQL one."""
    if POSTGRES_URL:
        fresh_database(POSTGRES_URL).engine.dispose()
        return POSTGRES_URL
    template = tmp_path_factory.mktemp("db") / "template.db"
    fresh_database(f"sqlite:///{template}").engine.dispose()
    return str(template)


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> Iterator[str]:
    if POSTGRES_URL:
        yield POSTGRES_URL
        engine = create_db_engine(POSTGRES_URL)
        tables = ", ".join(table.name for table in metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return
    path = tmp_path / "rapport.db"
    shutil.copy(migrated_database, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    engine = create_db_engine(database_url)
    yield Database(engine)
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@dataclass
class RunningApp:
    url: str
    app: App
    slack: SlackRequests
    fake: FakeSlack
    db: Database
    clock: FakeClock


@pytest.fixture
def rapport(fake_slack: FakeSlack, db: Database, database_url: str, clock: FakeClock):
    """The real app behind the real WSGI server on loopback, talking to the fake Slack."""
    with running_app(fake_slack, db, database_url, clock) as running:
        yield running


@contextmanager
def running_app(
    fake_slack: FakeSlack, db: Database, database_url: str, clock: FakeClock
) -> Iterator[RunningApp]:
    """``rapport`` outside pytest too (``docs/first_steps_pictures.py`` drives it)."""
    settings = Settings(
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        database_url=database_url,
    )
    services = create_services(settings, db, clock)
    app = create_app(settings, services)
    with serving(RapportWsgi(app, db, SIGNING_SECRET)) as url:
        yield RunningApp(url, app, SlackRequests(url, fake_slack), fake_slack, db, clock)
    services.close()


@contextmanager
def installed_app(
    fake_slack: FakeSlack,
    db: Database,
    database_url: str,
    clock: FakeClock,
    keys: Sequence[str] = (KEY,),
) -> Iterator[RunningApp]:
    """The real app installed through OAuth: no SLACK_BOT_TOKEN, one token per workspace,
    stored encrypted with ``keys``."""
    settings = Settings(
        slack_bot_token="",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        database_url=database_url,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        encryption_keys=tuple(keys),
    )
    services = create_services(settings, db, clock)
    app = create_app(settings, services)
    with serving(RapportWsgi(app, db, SIGNING_SECRET)) as url:
        running = RunningApp(url, app, SlackRequests(url, fake_slack), fake_slack, db, clock)
        running.services = services
        yield running
    services.close()


@pytest.fixture
def multi(fake_slack: FakeSlack, db: Database, database_url: str, clock: FakeClock):
    """``rapport``, installed through OAuth (see ``tests/slack/test_installs.py``)."""
    with installed_app(fake_slack, db, database_url, clock) as running:
        yield running
