"""Work done after the acknowledgement: failures are logged, and Rapport's own failures are
told to the person who clicked; Slack's are not (Slack may have done the work)."""

from __future__ import annotations

import threading

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import OperationalError

from bot.core.settings import Settings
from bot.services import DATABASE_DOWN, SORRY, create_services
from bot.slack.blocks import FORM_TOO_LATE


@pytest.fixture
def services(db):
    settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret="s")
    services = create_services(settings, db)
    yield services
    services.close()


def told_after(services, error: Exception) -> list[str]:
    said: list[str] = []
    done = threading.Event()

    def work() -> None:
        raise error

    def respond(text: str, replace_original: bool) -> None:
        assert replace_original is False  # a note under the message, not a replacement
        said.append(text)

    services.defer(work, apologise=respond)
    services.defer(done.set)
    assert done.wait(timeout=10)
    services.close()  # waits for the failure's callback too
    return said


@pytest.mark.parametrize(
    ("error", "apology"),
    [
        (OperationalError("BEGIN", {}, ConnectionRefusedError()), DATABASE_DOWN),
        (KeyError("bug"), SORRY),
    ],
)
def test_rapports_own_failures_are_told_to_the_person(services, error, apology):
    assert told_after(services, error) == [apology]


@pytest.mark.parametrize(
    "error", [SlackApiError("no", {"ok": False, "error": "fatal_error"}), TimeoutError()]
)
def test_slacks_failures_are_only_logged(services, error, caplog):
    assert told_after(services, error) == []
    assert "Slack call after the acknowledgement failed" in caplog.text


def test_a_form_slack_refuses_as_opened_too_late_is_explained_to_the_person(rapport):
    rapport.fake.fail("views.open", "expired_trigger_id")  # it waited past the trigger's 3 s
    assert rapport.slack.command("setup").status == 200
    (told,) = rapport.fake.wait_for("response_url")
    assert told.args["text"] == FORM_TOO_LATE and told.args["replace_original"] is False
    rapport.slack.command("setup")  # the next one opens as usual
    rapport.fake.wait_for("views.open", lambda call: call.fault is None)
    assert len(rapport.fake.done("response_url")) == 1
