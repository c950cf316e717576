"""A trigger opens one view within 3 seconds, and a response URL takes five replies: the fake
Slack holds Rapport to both, as Slack does, and Rapport tells the person when a form's
trigger ran out."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import FORM_TOO_LATE
from tests.support import fake_slack_triggers
from tests.support.fake_slack import FakeSlack

VIEW = {"type": "modal", "title": {"type": "plain_text", "text": "A form"}, "blocks": []}


def reply(url: str) -> int:
    request = urllib.request.Request(
        url, json.dumps({"text": "hi"}).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        assert refused.read() == b"used_url"
        return refused.code


def error_of(call) -> str | None:
    try:
        call()
    except SlackApiError as error:
        return error.response["error"]
    return None


def test_a_trigger_opens_one_view_and_only_within_its_three_seconds(fake_slack, monkeypatch):
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url)
    trigger = fake_slack.trigger_id()
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=VIEW)) is None
    again = error_of(lambda: client.views_push(trigger_id=trigger, view=VIEW))
    assert again == "exchanged_trigger_id"
    made_up = "made.up"  # a benchmark's own: one use, however old
    assert error_of(lambda: client.views_open(trigger_id=made_up, view=VIEW)) is None
    assert error_of(lambda: client.views_open(trigger_id=made_up, view=VIEW)) == again
    monkeypatch.setattr(fake_slack_triggers, "TRIGGER_SECONDS", 0.0)
    late = fake_slack.trigger_id()
    assert error_of(lambda: client.views_open(trigger_id=late, view=VIEW)) == "expired_trigger_id"


def test_a_response_url_takes_five_replies(fake_slack):
    url = fake_slack.response_url()
    assert [reply(url) for _ in range(6)] == [200] * 5 + [404]
    assert fake_slack.calls_to("response_url")[-1].fault == "used_url"
    assert reply(fake_slack.response_url()) == 200  # another one


def test_a_replayed_request_is_held_to_neither():
    fake = FakeSlack(replayed=True).start()
    try:
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        for _ in range(2):
            assert error_of(lambda: client.views_open(trigger_id="1.2.bench", view=VIEW)) is None
        url = fake.response_url()
        assert [reply(url) for _ in range(6)] == [200] * 6
    finally:
        fake.stop()


def test_a_form_whose_trigger_ran_out_says_so(rapport, monkeypatch):
    monkeypatch.setattr(fake_slack_triggers, "TRIGGER_SECONDS", 0.0)  # out by the time it opens
    assert rapport.slack.command("setup").status == 200
    (opened,) = rapport.fake.wait_for("views.open")
    assert opened.fault == "expired_trigger_id"
    rapport.fake.wait_for("response_url", lambda call: call.args.get("text") == FORM_TOO_LATE)
