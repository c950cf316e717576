"""A form isn't queued to open when the work before it has waited so long that its trigger
would run out first: the person is told at once that Rapport is busy, and what the request
stored stays stored."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.app import create_app
from bot.checkins.blocks import NEW_ACTION
from bot.core.settings import Settings
from bot.services import Services, create_services
from bot.slack.blocks import FORM_BUSY
from bot.web import RapportWsgi
from tests.conftest import RunningApp
from tests.support.helpers import make_relationship
from tests.support.http_server import serving
from tests.support.slack_requests import SIGNING_SECRET, SlackRequests


@dataclasses.dataclass
class OneThread:
    """The app with a single thread for its work after the ack, and a way to hold it."""

    running: RunningApp
    services: Services
    release: threading.Event

    def hold_the_thread(self) -> None:
        """The thread busy until released, and one more piece of work queued behind it."""
        started = threading.Event()
        self.services.defer(lambda: (started.set(), self.release.wait(10)))
        assert started.wait(5)
        self.services.defer(lambda: None)


@pytest.fixture
def one_thread(fake_slack, db, database_url, clock) -> Iterator[OneThread]:
    settings = Settings(
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        database_url=database_url,
    )
    services = dataclasses.replace(
        create_services(settings, db, clock), background=ThreadPoolExecutor(max_workers=1)
    )
    app = create_app(settings, services)
    release = threading.Event()
    with serving(RapportWsgi(app, db, SIGNING_SECRET)) as url:
        running = RunningApp(url, app, SlackRequests(url, fake_slack), fake_slack, db, clock)
        yield OneThread(running, services, release)
        release.set()
    services.close()


def test_setup_says_rapport_is_busy_instead_of_opening_a_form_too_late(one_thread: OneThread):
    rapport = one_thread.running
    one_thread.hold_the_thread()
    rapport.clock.advance(seconds=0.7)  # queued work waited 0.7 s: a form still opens in time
    assert rapport.slack.command("setup").text == ""

    rapport.clock.advance(seconds=0.1)  # 0.8 s: its trigger might run out before it opened
    busy = rapport.slack.command("setup")
    assert busy.status == 200
    assert busy.text == FORM_BUSY

    one_thread.release.set()  # the queue drains: the form queued in time opens, once
    rapport.fake.wait_for("views.open", count=1)
    assert rapport.slack.command("setup").text == ""
    rapport.fake.wait_for("views.open", count=2)
    assert len(rapport.fake.calls_to("views.open")) == 2


def test_a_button_opening_a_form_says_so_under_its_message(one_thread: OneThread):
    rapport = one_thread.running
    relationship_id = make_relationship(rapport.db, rapport.clock)
    one_thread.hold_the_thread()
    rapport.clock.advance(seconds=2)
    assert rapport.slack.block_action(NEW_ACTION, value=str(relationship_id)).status == 200

    one_thread.release.set()  # the answer goes under the message, after what was queued
    [told] = rapport.fake.wait_for("response_url", count=1)
    assert told.args["text"] == FORM_BUSY
    assert rapport.fake.calls_to("views.open") == []
    assert rapport.fake.calls_to("users.info") == []  # (the form's zone isn't looked up)
