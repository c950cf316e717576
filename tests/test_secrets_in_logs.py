"""Tokens, the signing secret and pulse answers never reach the logs, even at DEBUG and on
failures."""

from __future__ import annotations

import logging

from bot.app import create_app
from bot.services import create_services
from bot.settings import QUIET_LIBRARIES, Settings, configure_logging
from bot.web import RapportWsgi
from tests.conftest import serving
from tests.helpers import make_relationship
from tests.pulse_helpers import answer_value, click, job_context, prompts, pulse, tick
from tests.slack_requests import SIGNING_SECRET, SlackRequests

BOT_TOKEN = "xoxb-1111-2222-do-not-log-me"


def test_debug_logs_hold_no_token_or_signing_secret(db, clock, fake_slack, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    settings = Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        database_url=str(db.engine.url),
    )
    services = create_services(settings, db, clock)
    app = create_app(settings, services)
    fake_slack.fail("views.open", "channel_not_found")
    with serving(RapportWsgi(app, db)) as url:
        slack = SlackRequests(url, fake_slack)
        assert slack.command("help").status == 200
        assert slack.command("setup").status == 200  # a Slack error after the ack
        fake_slack.wait_for("views.open")
        import bot.relationships

        monkeypatch.setattr(bot.relationships, "memberships", lambda *a: 1 / 0)
        assert slack.command("list").status == 200  # a crash in a listener
    services.close()
    logged = caplog.text + repr(settings)
    assert len(caplog.records) >= 10  # the DEBUG logs really were captured
    assert BOT_TOKEN not in logged
    assert SIGNING_SECRET not in logged


def test_debug_logs_never_show_a_pulse_answer(rapport, caplog):
    caplog.set_level(logging.DEBUG)
    # what `rapport run` does with LOG_LEVEL=DEBUG
    configure_logging(Settings(slack_bot_token="x", slack_signing_secret="s", log_level="DEBUG"))
    try:
        make_relationship(rapport.db, rapport.clock)
        pulse(rapport, "send")
        with job_context(rapport) as context:
            tick(context)
        click(rapport, "UCARL", 4, answer_value(prompts(rapport.fake, "UCARL")[0]))
        (update,) = rapport.fake.wait_for("chat.update")  # logged before it was sent
    finally:
        for name in QUIET_LIBRARIES:
            logging.getLogger(name).setLevel(logging.NOTSET)
    logging.getLogger("rapport").debug("DEBUG is on")
    assert "DEBUG is on" in caplog.text
    assert "4 — well" in update.args["text"]  # what Slack was told; no log line repeats it
    for answer in ("4 — well", "4 \\u2014 well", "pulse_answer_4"):
        assert answer not in caplog.text
