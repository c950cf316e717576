"""Before a process serves its first request it loads what that request would otherwise
wait for: the compiled cue sets of every relationship that watches a channel."""

from __future__ import annotations

import gc
import logging

import pytest
from sqlalchemy.engine import make_url

from bot.core.db import Database, create_db_engine
from bot.core.settings import Settings
from bot.drift.models import DriftWord
from bot.services import create_services
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship
from tests.support.queries import queries_during


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        slack_bot_token="xoxb-test", slack_signing_secret="s", database_url=database_url
    )


@pytest.fixture
def unfreeze():
    yield
    gc.unfreeze()  # prepare_to_serve froze the test process's objects


def test_watched_relationships_are_ready_before_the_first_message(db, clock, settings, unfreeze):
    watching = make_relationship(db, clock, channels=("CSHARED",))
    quiet = make_relationship(db, clock, "Quiet ⇄ Stellar")
    with db.transaction() as session:
        session.add(
            DriftWord(
                team_id=TEAM_ID,
                relationship_id=watching,
                kind="change_request",
                phrase="ticket of record",
                added=True,
            )
        )
    services = create_services(settings, db, clock)
    services.prepare_to_serve()

    def lookup() -> None:
        with db.read() as session:
            config = services.drift_configs.get(session, watching)
            assert "ticket of record" in config.cues.kinds["change_request"].words()

    assert queries_during(db, lookup) == 0
    with db.read() as session:  # one that watches nothing loads on first use, as before
        services.drift_configs.get(session, quiet)
    services.close()


def test_an_unreachable_database_at_start_up_is_logged_not_fatal(
    database_url, settings, caplog, unfreeze
):
    unreachable = (
        make_url(database_url).set(port=1)
        if database_url.startswith("postgresql")
        else "sqlite:////nonexistent-dir/rapport.db"
    )
    services = create_services(settings, Database(create_db_engine(str(unreachable))))
    with caplog.at_level(logging.WARNING, logger="bot.services"):
        services.prepare_to_serve()
    assert "couldn't preload drift settings" in caplog.text
    services.close()
