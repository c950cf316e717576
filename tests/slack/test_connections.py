"""Slack calls over connections kept alive: one connection for many calls, a process of its
own after a fork, and failures reported as slack-sdk's urllib reported them."""

from __future__ import annotations

import os
import socket
import time
from urllib.error import URLError

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.settings import Settings
from bot.health.recently_shown import FRESH_FOR
from bot.slack.client import create_web_client, posting_once
from bot.slack.connections import keep_alive
from tests.support.fake_slack import FakeSlack
from tests.support.helpers import make_relationship
from tests.support.slack_requests import SIGNING_SECRET


def client_for(api_url: str, timeout: float = 5.0):
    settings = Settings(
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=api_url,
        slack_timeout_seconds=timeout,
    )
    return create_web_client(settings, rate_limit_wait=5)


def test_calls_from_one_process_share_a_connection(fake_slack: FakeSlack):
    fake_slack.add_user("UALICE")
    client = client_for(fake_slack.api_url)
    for n in range(5):
        assert client.users_info(user="UALICE")["user"]["id"] == "UALICE"
        posting_once(client).chat_postMessage(channel="UALICE", text=f"hello {n}")
    assert len(fake_slack.done("chat.postMessage")) == 5
    assert fake_slack.connections == 1  # slack-sdk alone: one for each of the 10 calls


def test_each_request_of_the_app_calls_slack_over_the_same_connections(rapport):
    for n in range(1, 4):  # one after the other, each opening its modal after the ack
        assert rapport.slack.command("setup", user="UALICE").status == 200
        rapport.fake.wait_for("views.open", count=n)
    assert [call.method for call in rapport.fake.calls] == ["auth.test"] + ["views.open"] * 3
    # Bolt makes a new client for each request, which would open a connection of its own
    # each time: at least the first modal went over the one auth.test left open as the app
    # started (later ones too, unless one went out while another still read its answer)
    assert rapport.fake.connections < 4


def test_a_client_made_elsewhere_keeps_its_token_and_workspace(fake_slack: FakeSlack):
    client = keep_alive(WebClient(token="xoxb-other", base_url=fake_slack.api_url, team_id="T2"))
    for _ in range(3):
        client.auth_test()
    assert [(call.token, call.args.get("team_id")) for call in fake_slack.calls] == [
        ("xoxb-other", "T2")
    ] * 3
    assert fake_slack.connections == 1


def test_a_connection_slack_closed_is_replaced_without_a_failed_call(fake_slack: FakeSlack):
    client = client_for(fake_slack.api_url)
    client.auth_test()
    fake_slack.hang_up()  # as Slack closes connections left idle
    time.sleep(0.1)  # (the closing reaches the client)
    posting_once(client).chat_postMessage(channel="C1", text="hi")
    assert [(call.method, call.fault) for call in fake_slack.calls] == [
        ("auth.test", None),
        ("chat.postMessage", None),
    ]
    assert fake_slack.connections == 2


def test_a_forked_child_opens_connections_of_its_own(fake_slack: FakeSlack):
    client = client_for(fake_slack.api_url)
    client.auth_test()  # the parent's connection, kept
    child = os.fork()
    if child == 0:  # (the child answers with its exit status only)
        try:
            client.auth_test()
        finally:
            os._exit(0)
    _, status = os.waitpid(child, 0)
    client.auth_test()  # still the parent's own connection
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(fake_slack.done("auth.test")) == 3
    assert fake_slack.connections == 2


def test_a_refused_connection_reads_as_urllib_said_it():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nothing listens here once it closes
    client = client_for(f"http://127.0.0.1:{port}/api/")
    with pytest.raises(URLError) as refused:
        posting_once(client).chat_postMessage(channel="C1", text="hi")
    # what the post-once client retries: the request was never carried
    assert isinstance(refused.value.reason, ConnectionRefusedError)


def test_an_answer_slower_than_the_timeout_reads_as_urllib_said_it(fake_slack: FakeSlack):
    fake_slack.delay = 1.0
    client = client_for(fake_slack.api_url, timeout=0.2)
    with pytest.raises(TimeoutError):  # (not a URLError: the request went out)
        posting_once(client).chat_postMessage(channel="C1", text="hi")
    fake_slack.delay = 0
    client.auth_test()  # the timed-out connection was not kept


def test_an_http_error_status_reads_as_slack_sdk_reads_it(fake_slack: FakeSlack):
    fake_slack.rate_limit("chat.postMessage", retry_after=30, times=None)
    client = client_for(fake_slack.api_url)
    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel="C1", text="hi")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "30"


def test_replies_through_response_urls_go_over_the_same_connections(rapport):
    make_relationship(rapport.db, rapport.clock)
    for n in range(1, 4):  # one after the other, each report answered through its URL
        assert rapport.slack.command("health").status == 200
        rapport.fake.wait_for("response_url", count=n)
        rapport.clock.advance(seconds=FRESH_FOR.total_seconds())  # worked out again
    assert [call.method for call in rapport.fake.calls] == ["auth.test"] + ["response_url"] * 3
    # slack-sdk's WebhookClient, as Bolt's respond uses it, opens one for each reply: at
    # least the first went over the one auth.test left open as the app started
    assert rapport.fake.connections < 4
