"""The HTTP front door: Slack signatures, health checks, body limits, escaping, failures."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.db import Database, create_db_engine
from bot.models import Relationship
from bot.web import RapportWsgi
from tests.conftest import serving
from tests.helpers import make_relationship
from tests.slack_requests import sign
from tests.test_relationship_setup import setup_values


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


def test_healthz_reports_ok_when_the_database_answers(rapport):
    assert get(f"{rapport.url}/healthz") == (200, {"status": "ok", "database": "ok"})


def test_healthz_reports_503_when_the_database_is_gone(rapport, database_url):
    unreachable = (
        make_url(database_url).set(port=1)
        if database_url.startswith("postgresql")
        else "sqlite:////nonexistent-dir/rapport.db"
    )
    broken = Database(create_db_engine(str(unreachable)))
    with serving(RapportWsgi(rapport.app, broken)) as url:
        status, body = get(f"{url}/healthz")
    assert (status, body["status"]) == (503, "unavailable")


def test_oversized_body_is_refused(rapport):
    response = rapport.slack.post("x" * (600 * 1024), "application/x-www-form-urlencoded")
    assert response.status == 413


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
    import bot.relationships

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.relationships, "memberships", broken)
    response = rapport.slack.command("list", user="UALICE")
    assert response.status == 200
    assert "something went wrong" in response.text
    assert "boom" not in response.body and "Traceback" not in response.body


def test_a_click_that_fails_says_so_where_they_clicked(rapport, monkeypatch):
    import bot.pulse

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.pulse, "record_answer", broken)
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
    import bot.relationships

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(bot.relationships, "create_relationship", broken)
    response = rapport.slack.view_submission("relationship_setup", setup_values())
    body = response.json()
    assert response.status == 200
    assert body["response_action"] == "push"  # on top of the filled-in form, not replacing it
    assert "nothing was changed" in json.dumps(body)
    assert "disk on fire" not in response.body
    assert relationships_stored(rapport) == 0
