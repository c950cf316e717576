"""``/rapport health`` with its index chart, end to end: the ack answers in text at once, and
just after it the reply is replaced by the same one showing the chart, uploaded to the fake
Slack once and reused while the figures stay; a failed upload leaves the text reply."""

from __future__ import annotations

import pytest

from tests.support.health_helpers import health, health_relationship, pulse_round, shown

EVERYONE_ANSWERS = {"UALICE": 4, "UC1": 3, "UC2": 4, "UC3": 3, "UPAT": 5, "UP1": 4, "UP2": 4}


def replaced(rapport, count: int = 1) -> dict:
    """The latest reply that replaced the original, once ``count`` of them arrived."""
    calls = rapport.fake.wait_for(
        "response_url", lambda call: call.args.get("replace_original") is True, count=count
    )
    return calls[-1].args


def images(blocks: list[dict]) -> list[dict]:
    return [block for block in blocks if block["type"] == "image"]


def test_the_reply_shows_the_index_chart_after_the_ack(rapport):
    health_relationship(rapport, channels=())
    pulse_round(rapport, EVERYONE_ANSWERS)
    ack = health(rapport)
    assert not images(ack.json()["blocks"])  # the ack waits on no upload
    reply = replaced(rapport)
    (chart,) = images(reply["blocks"])
    assert reply["blocks"][0] == ack.json()["blocks"][0]  # the headline, then the chart
    assert reply["blocks"][1] == chart and reply["text"] == ack.json()["text"]
    assert [block for block in reply["blocks"] if block is not chart] == ack.json()["blocks"]
    assert "*Acme ⇄ Stellar*: *76*/100 · *healthy*" in shown(ack)
    assert chart["alt_text"].startswith(
        "Health index, last 12 weeks: 76 (first week with data), now Healthy. Week by week "
    )
    file = rapport.fake.files[chart["slack_file"]["id"]]
    assert file["mimetype"] == "image/png" and file["channel"] is None  # shared nowhere


def test_the_same_figures_reuse_the_chart_and_a_deleted_one_is_uploaded_again(rapport):
    health_relationship(rapport, channels=())
    pulse_round(rapport, EVERYONE_ANSWERS)
    health(rapport)
    (first,) = images(replaced(rapport)["blocks"])
    health(rapport, user="UC1")  # a member: the same chart, the same file
    (again,) = images(replaced(rapport, count=2)["blocks"])
    assert again == first
    assert len(rapport.fake.calls_to("files.getUploadURLExternal")) == 1
    rapport.fake.files[first["slack_file"]["id"]]["deleted"] = True  # someone deleted it
    rapport.clock.advance(minutes=16)  # past RECHECK_AFTER: Slack is asked about the file
    health(rapport)
    (new,) = images(replaced(rapport, count=3)["blocks"])
    assert new["slack_file"]["id"] != first["slack_file"]["id"]
    assert new["alt_text"] == first["alt_text"]


def test_a_failed_upload_leaves_the_text_reply(rapport):
    health_relationship(rapport, channels=())
    pulse_round(rapport, EVERYONE_ANSWERS)
    rapport.fake.fail("files.getUploadURLExternal", "not_allowed_token_type")
    ack = health(rapport)
    assert "*76*/100 · *healthy*" in shown(ack)
    rapport.fake.wait_for("files.getUploadURLExternal")
    with pytest.raises(AssertionError):
        replaced(rapport)  # nothing replaces the text reply
    assert not rapport.fake.calls_to("files.completeUploadExternal")


def test_no_chart_without_an_index(rapport):
    health_relationship(rapport, channels=())
    assert "has no health index yet" in shown(health(rapport))
    health(rapport, "formula")
    with pytest.raises(AssertionError):
        replaced(rapport)
    assert not rapport.fake.calls_to("files.getUploadURLExternal")
