"""Block Kit's limits: Rapport's long lists fit them (``sections``, ``people``), and the fake
Slack refuses blocks beyond them as Slack does, in messages, views, replies through a
response URL and the acks the tests receive."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import SECTION_TEXT, sections
from bot.slack.mrkdwn import people
from tests.support.slack_requests import Response


def texts(blocks: list[dict]) -> list[str]:
    return [block["text"]["text"] for block in blocks]


def test_sections_pack_items_in_order_and_count_those_that_dont_fit():
    items = [f"item {n:03d} " + "x" * 1191 for n in range(10)]  # 1,200 characters each
    assert texts(sections(items[:2], most=5)) == ["\n".join(items[:2])]
    packed = texts(sections(items, most=3, what="more items"))
    assert packed[:2] == ["\n".join(items[0:2]), "\n".join(items[2:4])]
    # the third holds two of its three, then the count of all the rest
    assert packed[2] == "\n".join([*items[4:6], "… and 4 more items"])
    assert all(len(text) <= SECTION_TEXT for text in packed)


def test_an_item_too_long_for_a_section_is_cut_at_a_space():
    (only,) = texts(sections(["word " * 700], most=1))
    assert len(only) <= SECTION_TEXT and only.endswith("word…")


def test_people_names_the_first_and_counts_the_rest():
    crowd = [f"U{n}" for n in range(45)]
    assert people(crowd).endswith("<@U29> and 15 more") and "<@U30>" not in people(crowd)
    assert people(crowd[:30]).endswith("<@U29>") and people([]) == "nobody yet"


def refused(call) -> dict:
    with pytest.raises(SlackApiError) as refusal:
        call()
    return refusal.value.response.data


def test_the_fake_refuses_what_slack_would(fake_slack):
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url)
    long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    answer = refused(lambda: client.chat_postMessage(channel="UALICE", text="t", blocks=[long]))
    assert answer["error"] == "invalid_blocks"
    assert answer["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    many = [{"type": "divider"}] * 101
    answer = refused(
        lambda: client.views_publish(user_id="UALICE", view={"type": "home", "blocks": many})
    )
    assert answer["error"] == "invalid_arguments"
    button = {"type": "button", "text": {"type": "plain_text", "text": "b" * 76}, "value": ""}
    actions = {"type": "actions", "elements": [button]}
    answer = refused(lambda: client.chat_postMessage(channel="UALICE", text="t", blocks=[actions]))
    assert "[json-pointer:/blocks/0/elements/0/text/text]" in answer["errors"][0]
    twins = {
        "type": "actions",
        "elements": [button | {"action_id": "a"}, button | {"action_id": "a"}],
    }
    answer = refused(lambda: client.chat_postMessage(channel="UALICE", text="t", blocks=[twins]))
    assert any("/blocks/0/elements/1/action_id" in error for error in answer["errors"])
    fits = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3000}}
    assert client.chat_postMessage(channel="UALICE", text="t", blocks=[fits] * 50)["ok"]


def test_a_reply_through_a_response_url_with_an_empty_text_is_refused(fake_slack):
    empty = {"type": "section", "text": {"type": "mrkdwn", "text": ""}}
    request = urllib.request.Request(
        fake_slack.response_url(),
        data=json.dumps({"text": "t", "blocks": [empty]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refusal:
        urllib.request.urlopen(request, timeout=5)
    assert refusal.value.code == 400 and refusal.value.read() == b"invalid_blocks"


def test_an_ack_beyond_the_limits_fails_the_test_that_receives_it():
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51
    with pytest.raises(AssertionError, match="no more than 50 items allowed"):
        Response(200, json.dumps({"blocks": blocks})).within_block_kit_limits()
    form = {"response_action": "update", "view": {"type": "modal", "title": {"text": "t" * 25}}}
    with pytest.raises(AssertionError, match="/view/title/text"):
        Response(200, json.dumps(form)).within_block_kit_limits()
    assert Response(200, "plain words").within_block_kit_limits().body == "plain words"
