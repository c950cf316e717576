"""Slack calls don't pay for debug lines nobody will see."""

from __future__ import annotations

import logging

from bot.core.settings import QUIET_LIBRARIES, Settings, configure_logging
from bot.slack.client import create_web_client


class Tripwire(str):
    """A string that notes when ``repr`` is taken, as building a debug line does."""

    formatted = False

    def __repr__(self) -> str:
        Tripwire.formatted = True
        return super().__repr__()


def test_slack_sdk_builds_no_debug_line_for_a_view_it_sends(fake_slack):
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret="s",
        slack_api_url=fake_slack.api_url,
        log_level="INFO",
    )
    configure_logging(settings)  # as `rapport run` does
    try:
        view = {"type": "modal", "title": {"type": "plain_text", "text": Tripwire("Set up")}}
        create_web_client(settings).views_open(trigger_id="1.2.3", view=view)
    finally:
        for name in QUIET_LIBRARIES:
            logging.getLogger(name).setLevel(logging.NOTSET)
    assert fake_slack.calls_to("views.open")[0].args["view"]["title"]["text"] == "Set up"
    assert not Tripwire.formatted
