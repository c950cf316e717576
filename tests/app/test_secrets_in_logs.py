"""Tokens, the signing secret and pulse answers never reach the logs, even at DEBUG and on
failures."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

from bot.app import create_app
from bot.core.settings import QUIET_LIBRARIES, Settings, configure_logging
from bot.services import create_services
from bot.web import RapportWsgi, RefusalLog
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship
from tests.support.http_server import serving
from tests.support.pulse_helpers import answer_value, click, job_context, prompts, pulse, tick
from tests.support.slack_requests import SIGNING_SECRET, SlackRequests, sign

FORM = "application/x-www-form-urlencoded"

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
    with serving(RapportWsgi(app, db, SIGNING_SECRET)) as url:
        slack = SlackRequests(url, fake_slack)
        assert slack.command("help").status == 200
        assert slack.command("setup").status == 200  # a Slack error after the ack
        fake_slack.wait_for("views.open")
        import bot.relationships.domain

        monkeypatch.setattr(bot.relationships.domain, "memberships", lambda *a: 1 / 0)
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


def test_badly_signed_requests_are_logged_once_without_their_body(rapport, caplog):
    """A mistyped signing secret or a skewed clock refuses every request: each kind of refusal
    is one WARNING line saying why, never what the request said."""
    caplog.set_level(logging.DEBUG)
    private = "board-meets-friday-about-layoffs"
    message = {"type": "message", "channel": "CSHARED", "user": "UALICE", "text": private}
    event = json.dumps({"type": "event_callback", "team_id": TEAM_ID, "event": message})
    click = urlencode(
        {
            "payload": json.dumps(
                {
                    "type": "block_actions",
                    "user": {"id": "UCARL", "team_id": TEAM_ID},
                    "actions": [{"action_id": "pulse_answer_1", "value": f"1:{private}"}],
                }
            )
        }
    )
    now, stale = str(int(time.time())), str(int(time.time()) - 10 * 60)
    for body, content_type in ((event, "application/json"), (click, FORM)):
        for timestamp, signature in (
            (now, sign(body, now, secret="a-mistyped-signing-secret")),
            (stale, sign(body, stale)),
        ):
            response = rapport.slack.post(
                body, content_type, timestamp=timestamp, signature=signature
            )
            assert response.status == 401
    logged = caplog.text + "".join(map(str, (record.args for record in caplog.records)))
    assert private not in logged
    assert SIGNING_SECRET not in logged
    assert signature not in logged
    refusals = [record for record in caplog.records if "refused" in record.getMessage()]
    assert [record.levelno for record in refusals] == [logging.WARNING] * 2
    assert "bad signature" in refusals[0].getMessage()
    assert "timestamp" in refusals[1].getMessage()
    assert rapport.fake.calls_to("chat.postMessage") == []


def test_refusals_are_summarised_in_a_line_a_minute_for_each_reason(caplog):
    """A steady stream of bad requests gives a line a minute per reason, with the count."""
    moments = iter([0.0, 1.0, 2.0, 30.0, 61.0, 62.0, 200.0])
    refusals = RefusalLog(now=lambda: next(moments))
    with caplog.at_level(logging.WARNING, logger="bot.web"):
        for reason in ["bad signature"] * 4 + ["stale timestamp"] + ["bad signature"] * 2:
            refusals.refused(reason)
    assert [record.getMessage() for record in caplog.records] == [
        "refused a request to /slack/events: bad signature",
        "refused a request to /slack/events: stale timestamp",
        "refused a request to /slack/events: bad signature (and 3 more since the last such line)",
        "refused a request to /slack/events: bad signature",
    ]
