"""The HTTP front door: Slack signatures, health checks, body limits, escaping, failures."""

from __future__ import annotations

import json
import logging
import socket
import time
import urllib.error
import urllib.request
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.checkins.models import CheckIn
from bot.core.db import Database, create_db_engine
from bot.drift.models import DriftSignal
from bot.relationships.models import Relationship
from bot.socket_mode import StorableSocketModeHandler
from bot.web import MAX_BODY_BYTES, RapportWsgi
from tests.checkins.test_flows import checkin
from tests.checkins.test_flows import setup as checkin_setup
from tests.relationships.test_setup import setup_values
from tests.support.drift_helpers import say
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship
from tests.support.http_server import serving
from tests.support.slack_requests import SIGNING_SECRET, sign

FORM = "application/x-www-form-urlencoded"


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def relationships_stored(rapport) -> int:
    with rapport.db.transaction() as session:
        return len(session.scalars(select(Relationship)).all())


def test_bad_signature_is_rejected_with_401_and_nothing_is_stored(rapport):
    payload = json.dumps(
        {
            "type": "view_submission",
            "view": {"callback_id": "relationship_setup", "state": {"values": setup_values()}},
            "team": {"id": "T0ACME"},
            "user": {"id": "UALICE"},
        }
    )
    body = "payload=" + urllib.request.quote(payload)
    timestamp = str(int(time.time()))
    forged = sign(body, timestamp, secret="not-the-signing-secret")
    response = rapport.slack.post(
        body, "application/x-www-form-urlencoded", timestamp=timestamp, signature=forged
    )
    assert response.status == 401
    assert relationships_stored(rapport) == 0
    assert rapport.fake.calls_to("chat.postMessage") == []


def test_stale_timestamp_is_rejected_even_with_a_valid_signature(rapport):
    body = "command=%2Frapport&text=help&team_id=T0ACME&user_id=UALICE"
    old = str(int(time.time()) - 10 * 60)
    response = rapport.slack.post(
        body, "application/x-www-form-urlencoded", timestamp=old, signature=sign(body, old)
    )
    assert response.status == 401


def tracebacks_and_errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "body, content_type, headers",
    [
        ("payload=%7B", FORM, {}),  # JSON that Bolt would parse before checking anything
        ("{", "application/json", {}),
        ("payload=%7B", FORM, {"timestamp": "soon", "signature": "v0=junk"}),
        ("command=%2Frapport&text=help", FORM, {"timestamp": "12abc", "signature": "v0=junk"}),
        ("command=%2Frapport&text=help", FORM, {"timestamp": "9" * 5000, "signature": "v0=1"}),
    ],
    ids=["unsigned-payload", "unsigned-json", "junk-timestamp", "letters-in-timestamp", "huge"],
)
def test_unsigned_requests_are_refused_with_401_before_anything_parses_them(
    rapport, caplog, body, content_type, headers
):
    caplog.set_level(logging.DEBUG)
    response = rapport.slack.post(body, content_type, signed=bool(headers), **headers)
    assert (response.status, response.json()) == (401, {"error": "invalid request"})
    assert tracebacks_and_errors(caplog) == []
    assert rapport.fake.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("payload=%7B", FORM),
        ("payload=%5B1%2C2%5D", FORM),  # JSON, but not an object
        ("{", "application/json"),
        ("[1, 2]", "application/json"),
        ('{"type": "event_callback", "event": {"type": "message"', "application/json"),
    ],
)
def test_a_signed_body_that_is_no_slack_payload_is_refused_with_400(
    rapport, caplog, body, content_type
):
    caplog.set_level(logging.DEBUG)
    response = rapport.slack.post(body, content_type)
    assert (response.status, response.json()) == (400, {"error": "malformed request"})
    assert tracebacks_and_errors(caplog) == []


def test_slacks_unsigned_certificate_check_is_still_answered(rapport):
    """Slack checks the TLS certificate of a slash command's URL with an unsigned
    ``ssl_check=1``; Bolt answers it with an empty 200, and so does Rapport."""
    response = rapport.slack.post("ssl_check=1&token=legacy", FORM, signed=False)
    assert (response.status, response.body) == (200, "")


def test_a_command_whose_text_says_payload_is_answered(rapport):
    """Bolt reads a form body that merely contains the word "payload" as empty (404)."""
    make_relationship(rapport.db, rapport.clock, "Payload team")
    shown = rapport.slack.command("show payload", user="UALICE").json()
    assert "*Payload team*" in shown["blocks"][0]["text"]["text"]


def test_a_nul_in_a_command_is_dropped_before_any_feature_sees_it(rapport):
    make_relationship(rapport.db, rapport.clock, "Acme")
    shown = rapport.slack.command("show ac\x00me", user="UALICE").json()
    assert "*Acme*" in shown["blocks"][0]["text"]["text"]


def test_a_nul_or_half_an_emoji_in_a_message_event_is_dropped_and_the_message_kept(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    rapport.slack.command("drift set excerpt-days 7", user="UALICE")
    # JSON can carry half a surrogate pair ("\ud83d"), which no database can store either
    say(rapport, "UALICE", "Kindly note\x00 CR-1042 is chargeable per the MSA\ud83d")
    with rapport.db.transaction() as session:
        (signal,) = session.scalars(select(DriftSignal))
        assert signal.excerpt == "Kindly note CR-1042 is chargeable per the MSA"


def test_a_nul_in_a_checkin_title_is_dropped_from_a_command_and_from_a_form(rapport):
    checkin_setup(rapport)
    typed = checkin(rapport, 'add "Ops\x00 catch-up" weekly tue 10:00 <@UPAT> tz Europe/London')
    assert "saved" in typed.text
    checkin(rapport, "new")
    (opened,) = rapport.fake.wait_for("views.open")
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Ret\x00ro"}},
        "cadence": {"value": {"type": "plain_text_input", "value": "every 2 weeks fri 16:00"}},
        "tz": {"value": {"type": "plain_text_input", "value": "Europe/London"}},
        "duration": {"value": {"type": "plain_text_input", "value": "1h"}},
        "remind": {"value": {"type": "plain_text_input", "value": "1d"}},
        "participants": {
            "value": {"type": "multi_users_select", "selected_users": ["UALICE", "UPAT"]}
        },
        "channel": {"value": {"type": "conversations_select", "selected_conversation": None}},
    }
    metadata = opened.args["view"]["private_metadata"]
    answer = rapport.slack.view_submission("checkin_save", values, private_metadata=metadata)
    assert (answer.status, answer.body) == (200, "")
    (confirmation,) = rapport.fake.wait_for("chat.postMessage")
    assert "Retro" in confirmation.args["text"]
    with rapport.db.transaction() as session:
        titles = sorted(session.scalars(select(CheckIn.title)))
    assert titles == ["Ops catch-up", "Retro"]


def test_healthz_reports_ok_when_the_database_answers(rapport):
    assert get(f"{rapport.url}/healthz") == (200, {"status": "ok", "database": "ok"})


def test_healthz_reports_503_when_the_database_is_gone(rapport, database_url):
    unreachable = (
        make_url(database_url).set(port=1)
        if database_url.startswith("postgresql")
        else "sqlite:////nonexistent-dir/rapport.db"
    )
    broken = Database(create_db_engine(str(unreachable)))
    with serving(RapportWsgi(rapport.app, broken, SIGNING_SECRET)) as url:
        status, body = get(f"{url}/healthz")
    assert (status, body["status"]) == (503, "unavailable")


def test_oversized_body_is_refused(rapport):
    response = rapport.slack.post("x" * (MAX_BODY_BYTES + 1), "application/x-www-form-urlencoded")
    assert response.status == 413


def test_an_absurd_body_is_refused_with_413_before_it_is_sent(rapport):
    """20 MB announced: refused from the headers alone (not one byte of the body is sent)."""
    address = urlparse(rapport.url)
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: rapport\r\nContent-Type: application/json\r\n"
        "X-Slack-Request-Timestamp: 1\r\nX-Slack-Signature: v0=1\r\n"
        f"Content-Length: {20 * 1000 * 1000}\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(head.encode())
        status_line = connection.makefile("rb").readline()
    assert status_line.split()[1] == b"413"


def test_unknown_path_is_404(rapport):
    assert get(f"{rapport.url}/nope")[0] == 404


def test_mentions_and_broadcasts_in_user_text_are_escaped_in_replies(rapport):
    values = setup_values(name="<!channel> <@UBOSS> & co")
    rapport.slack.view_submission("relationship_setup", values, user="UALICE")
    reply = rapport.slack.command("list", user="UALICE").json()
    text = reply["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt; &lt;@UBOSS&gt; &amp; co" in text
    assert "<!channel>" not in text and "<@UBOSS>" not in text


def test_echoed_command_text_is_escaped(rapport):
    text = rapport.slack.command("<!here> please").text
    assert "&lt;!here&gt;" in text and "<!here>" not in text
    text = rapport.slack.command("show <!channel>", user="UALICE").text
    assert "<!channel>" not in text
    make_relationship(rapport.db, rapport.clock)
    text = rapport.slack.command("show <!everyone> @channel", user="UALICE").text
    assert "&lt;!everyone&gt;" in text and "@channel" not in text


def test_a_listener_crash_answers_politely_not_with_a_500(rapport, monkeypatch):
    import bot.relationships.domain

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.relationships.domain, "memberships", broken)
    response = rapport.slack.command("list", user="UALICE")
    assert response.status == 200
    assert "something went wrong" in response.text
    assert "boom" not in response.body and "Traceback" not in response.body


def test_a_click_that_fails_says_so_where_they_clicked(rapport, monkeypatch):
    import bot.pulse.answers

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.pulse.answers, "record_answer", broken)
    response = rapport.slack.block_action("pulse_answer_3", value="1:0", user="UCARL")
    assert (response.status, response.body) == (200, "")  # a click's answer has no text
    (said,) = rapport.fake.wait_for("response_url")
    assert "something went wrong" in said.args["text"] and not said.args["replace_original"]


def test_slack_rate_limit_on_a_follow_up_call_is_retried_after_retry_after(rapport):
    rapport.fake.rate_limit("views.open", retry_after=1)
    assert rapport.slack.command("setup").status == 200
    first, second = rapport.fake.wait_for("views.open", count=2, timeout=10)
    assert second.at - first.at >= 0.9
    assert second.args["view"]["callback_id"] == "relationship_setup"


def test_a_crash_while_saving_the_setup_modal_keeps_the_form_and_says_so(rapport, monkeypatch):
    import bot.relationships.setup

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(bot.relationships.setup, "create_relationship", broken)
    response = rapport.slack.view_submission("relationship_setup", setup_values())
    body = response.json()
    assert response.status == 200
    assert body["response_action"] == "push"  # on top of the filled-in form, not replacing it
    assert "nothing was changed" in json.dumps(body)
    assert "disk on fire" not in response.body
    assert relationships_stored(rapport) == 0


def test_a_nul_arriving_over_socket_mode_is_dropped_before_any_feature_sees_it(rapport):
    """Socket Mode skips the HTTP front door: its deliveries are cleaned the same way."""
    make_relationship(rapport.db, rapport.clock, "Acme")
    answers: list[SocketModeResponse] = []
    client = SimpleNamespace(
        send_socket_mode_response=answers.append, logger=logging.getLogger("socket-mode-test")
    )
    handler = StorableSocketModeHandler(rapport.app, "xapp-1-test")
    command = {
        "command": "/rapport",
        "text": "show ac\x00me",
        "team_id": TEAM_ID,
        "user_id": "UALICE",
        "channel_id": "CDM",
        "response_url": "https://hooks.slack.invalid/response",
        "trigger_id": "1.2.3",
    }
    handler.handle(client, SocketModeRequest("slash_commands", "envelope-1", command))
    (answer,) = answers
    assert "*Acme*" in answer.payload["blocks"][0]["text"]["text"]
