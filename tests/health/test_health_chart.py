"""``/rapport health`` with its index chart, end to end: the ack says nothing, and the reply
comes once just after it through the response URL, showing the chart uploaded to the fake
Slack once and reused while the figures stay; without a chart (the upload failed, or Slack
refused the reply because the chart's file was deleted) it comes in text."""

from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError

from bot.health.recently_shown import FRESH_FOR
from bot.services import DATABASE_DOWN
from tests.support.health_helpers import (
    health,
    health_relationship,
    pulse_round,
    shown,
    snapshots_stored,
)

EVERYONE_ANSWERS = {"UALICE": 4, "UC1": 3, "UC2": 4, "UC3": 3, "UPAT": 5, "UP1": 4, "UP2": 4}


def images(blocks: list[dict]) -> list[dict]:
    return [block for block in blocks if block["type"] == "image"]


def test_the_one_reply_after_the_ack_shows_the_index_chart(rapport):
    health_relationship(rapport, channels=())
    pulse_round(rapport, EVERYONE_ANSWERS)
    ack = rapport.slack.command("health")
    assert ack.status == 200 and ack.body == ""  # the ack waits on no report, no upload
    (reply,) = rapport.fake.wait_for("response_url")
    (chart,) = images(reply.args["blocks"])
    assert reply.args["blocks"][1] == chart  # under the headline
    assert "replace_original" not in reply.args and reply.args["text"] == "Health of Acme ⇄ Stellar"
    assert "*Acme ⇄ Stellar*: *76*/100 · *healthy*" in reply.args["blocks"][0]["text"]["text"]
    assert chart["alt_text"].startswith(
        "Health index, last 12 weeks: 76 (first week with data), now Healthy. Week by week "
    )
    file = rapport.fake.files[chart["slack_file"]["id"]]
    assert file["mimetype"] == "image/png" and file["channel"] is None  # shared nowhere
    assert len(rapport.fake.calls_to("response_url")) == 1


def test_figures_shown_moments_ago_answer_in_the_ack_and_are_worked_out_again_after(rapport):
    """What Slack showed in the last FRESH_FOR is the ack's answer: no second working-out,
    no reply through the response URL. A change shows once the figures are that old."""
    health_relationship(rapport, channels=())
    pulse_round(rapport, EVERYONE_ANSWERS)
    (chart,) = images(health(rapport).json()["blocks"])
    assert snapshots_stored(rapport) == 1  # the figures shown are kept by then
    rapport.clock.advance(seconds=FRESH_FOR.total_seconds() - 1)
    ack = rapport.slack.command("health", user="UC1")  # a member: the pillars only
    assert ack.status == 200 and images(ack.json()["blocks"]) == [chart]
    assert "*Acme ⇄ Stellar*: *76*/100 · *healthy*" in shown(ack)
    assert "Client pulse" not in shown(ack)  # an owner's components
    assert "Client pulse" in shown(rapport.slack.command("health", user="UPAT"))
    assert len(rapport.fake.calls_to("response_url")) == 1
    assert "not part of" in rapport.slack.command("health", user="UZED").text
    pulse_round(rapport, {user: 1 for user in EVERYONE_ANSWERS})  # three days on
    later = health(rapport)
    assert later.json()["blocks"] and len(rapport.fake.calls_to("response_url")) == 2
    assert "*76*/100" not in shown(later)


def test_the_same_figures_reuse_the_chart_and_a_deleted_one_is_uploaded_again(rapport):
    health_relationship(rapport, channels=())
    pulse_round(rapport, EVERYONE_ANSWERS)
    (first,) = images(health(rapport).json()["blocks"])
    (again,) = images(health(rapport, user="UC1").json()["blocks"])  # a member: the same chart
    assert again == first
    assert len(rapport.fake.calls_to("files.getUploadURLExternal")) == 1
    rapport.fake.files[first["slack_file"]["id"]]["deleted"] = True  # someone deleted it
    rapport.clock.advance(minutes=16)  # past RECHECK_AFTER: Slack is asked about the file
    (new,) = images(health(rapport).json()["blocks"])
    assert new["slack_file"]["id"] != first["slack_file"]["id"]
    assert new["alt_text"] == first["alt_text"]
    assert not [call for call in rapport.fake.calls_to("response_url") if call.fault]


def test_a_reply_refused_for_its_deleted_chart_comes_in_text_and_the_next_one_uploads_it(
    rapport,
):
    health_relationship(rapport, channels=())
    pulse_round(rapport, EVERYONE_ANSWERS)
    (first,) = images(health(rapport).json()["blocks"])
    rapport.fake.files[first["slack_file"]["id"]]["deleted"] = True
    rapport.clock.advance(minutes=1)  # before RECHECK_AFTER: the file is shown unchecked
    reply = health(rapport)
    refused = [call for call in rapport.fake.calls_to("response_url") if call.fault]
    assert [call.fault for call in refused] == ["invalid_blocks"]
    assert images(refused[0].args["blocks"]) == [first]
    assert not images(reply.json()["blocks"])
    assert "*76*/100 · *healthy*" in shown(reply)
    (new,) = images(health(rapport).json()["blocks"])  # forgotten: uploaded again at once
    assert new["slack_file"]["id"] != first["slack_file"]["id"]
    assert len(rapport.fake.calls_to("files.getUploadURLExternal")) == 2


def test_a_failed_upload_gives_the_reply_in_text(rapport):
    health_relationship(rapport, channels=())
    pulse_round(rapport, EVERYONE_ANSWERS)
    rapport.fake.fail("files.getUploadURLExternal", "not_allowed_token_type")
    reply = health(rapport)
    assert "*76*/100 · *healthy*" in shown(reply)
    assert not images(reply.json()["blocks"])
    assert len(rapport.fake.calls_to("files.getUploadURLExternal")) == 1
    assert not rapport.fake.calls_to("files.completeUploadExternal")


def test_an_install_without_files_read_shows_a_new_chart_from_the_next_reply_on(rapport, caplog):
    """An install made before the manifest asked for files:read: Slack won't say whether
    a new upload is ready to show, so that reply comes in text and the operator's log names
    the scope to grant; the upload is kept and shown from the next reply on."""
    health_relationship(rapport, channels=())
    pulse_round(rapport, EVERYONE_ANSWERS)
    rapport.fake.withhold_scope("files:read")
    with caplog.at_level(logging.WARNING):
        reply = health(rapport)
    assert "*76*/100 · *healthy*" in shown(reply)
    assert not images(reply.json()["blocks"])
    assert [call.fault for call in rapport.fake.calls_to("files.info")] == ["missing_scope"]
    assert "lacks a scope it needs (files:read)" in caplog.text
    (chart,) = images(health(rapport).json()["blocks"])  # the upload, kept: processed by now
    rapport.clock.advance(minutes=16)  # past RECHECK_AFTER: Slack won't say, so it's shown
    assert images(health(rapport).json()["blocks"]) == [chart]
    assert len(rapport.fake.calls_to("files.getUploadURLExternal")) == 1  # none left unshown


def test_no_chart_without_an_index(rapport):
    health_relationship(rapport, channels=())
    reply = health(rapport)
    assert "has no health index yet" in shown(reply)
    assert not images(reply.json()["blocks"])
    assert not rapport.fake.calls_to("files.getUploadURLExternal")


def test_a_database_failure_after_the_ack_is_apologised_for(rapport, monkeypatch):
    health_relationship(rapport, channels=())

    def database_gone(*args):
        raise OperationalError("SELECT", {}, ConnectionRefusedError("database restarting"))

    monkeypatch.setattr("handlers.health.health_figures", database_gone)
    assert health(rapport).json()["text"] == DATABASE_DOWN
    assert len(rapport.fake.calls_to("response_url")) == 1
