"""Health charts shown in Slack through the fake Slack: uploaded once and reused while the
figures stay, an image block with the chart's alt text, nothing when the upload fails (the
caller shows the figures in text), and a file deleted from Slack uploaded again."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from slack_sdk.errors import SlackApiError

from bot.health.chart_uploads import chart_block, send_with_charts
from bot.health.charts import PulsePoint, WeeklyPoint, index_chart, pulse_chart
from bot.slack.blocks import section
from tests.slack.test_files import slack_client
from tests.support.fake_slack import TEAM_ID

WEEKS = [date(2025, 12, 8) + timedelta(weeks=n) for n in range(12)]
INDEX = index_chart([WeeklyPoint(week, 60 + n) for n, week in enumerate(WEEKS)])
PULSE = pulse_chart([PulsePoint(week, 3.5, None) for week in WEEKS])


def block(db, fake_slack, clock, chart=INDEX, relationship_id=7):
    return chart_block(
        db, slack_client(fake_slack, db), TEAM_ID, relationship_id, chart, clock.now()
    )


def post(client, shown):
    """A message as a view would make it: each picture, or its figures in text."""
    blocks = [
        found or section(chart.alt_text())
        for found, chart in zip(shown, (INDEX, PULSE), strict=False)
    ]
    return client.chat_postMessage(channel="UALICE", text="Health", blocks=blocks)


def test_a_chart_block_shows_the_uploaded_chart_with_its_alt_text(db, fake_slack, clock):
    shown = block(db, fake_slack, clock)
    assert shown is not None and shown["type"] == "image"
    assert shown["alt_text"] == INDEX.alt_text() and shown["title"]["text"] == "Health index"
    file = fake_slack.files[shown["slack_file"]["id"]]
    assert file["data"] == INDEX.render_png() and file["name"] == "rapport-index.png"
    assert post(slack_client(fake_slack, db), [shown])["ok"]


def test_unchanged_figures_reuse_the_file_and_new_ones_upload_anew(db, fake_slack, clock):
    first = block(db, fake_slack, clock)
    again = block(db, fake_slack, clock)
    assert again == first and len(fake_slack.calls_to("files.getUploadURLExternal")) == 1
    other = block(db, fake_slack, clock, relationship_id=8)  # another relationship's own file
    changed = index_chart([WeeklyPoint(week, 50) for week in WEEKS])
    new = block(db, fake_slack, clock, chart=changed)
    ids = {shown["slack_file"]["id"] for shown in (first, other, new)}
    assert len(ids) == 3 and len(fake_slack.calls_to("files.getUploadURLExternal")) == 3


def test_a_failed_upload_gives_no_block_so_the_caller_shows_the_figures(db, fake_slack, clock):
    fake_slack.fail("files.getUploadURLExternal", "not_allowed_token_type")
    assert block(db, fake_slack, clock) is None
    client = slack_client(fake_slack, db)
    fake_slack.fail("files.getUploadURLExternal", "not_allowed_token_type")
    sent = send_with_charts(db, client, TEAM_ID, 7, [INDEX, PULSE], clock.now(), lambda s: s)
    assert sent[0] is None and sent[1]["type"] == "image"


def test_a_file_deleted_from_slack_is_uploaded_again_and_the_message_sent(db, fake_slack, clock):
    client = slack_client(fake_slack, db)
    first = send_with_charts(db, client, TEAM_ID, 7, [INDEX, PULSE], clock.now(), lambda s: s)
    deleted = first[1]["slack_file"]["id"]
    assert client.files_delete(file=deleted)["ok"]
    sent = send_with_charts(
        db, client, TEAM_ID, 7, [INDEX, PULSE], clock.now(), lambda shown: post(client, shown)
    )
    assert sent["ok"]
    refused, shown = fake_slack.calls_to("chat.postMessage")
    assert refused.args["blocks"][1]["slack_file"]["id"] == deleted
    kept, again = shown.args["blocks"]
    assert kept == first[0] and again["type"] == "image"
    assert again["slack_file"]["id"] not in (deleted, first[0]["slack_file"]["id"])


def test_a_deleted_file_that_cant_be_uploaded_again_is_sent_as_text(db, fake_slack, clock):
    client = slack_client(fake_slack, db)
    client.files_delete(file=block(db, fake_slack, clock)["slack_file"]["id"])
    fake_slack.fail("files.getUploadURLExternal", "ratelimited")
    sent = send_with_charts(
        db, client, TEAM_ID, 7, [INDEX], clock.now(), lambda shown: post(client, shown)
    )
    assert sent["ok"] and len(fake_slack.calls_to("chat.postMessage")) == 2
    (text,) = fake_slack.calls_to("chat.postMessage")[-1].args["blocks"]
    assert (
        text["type"] == "section" and "Health index, last 12 weeks: 60 → 71" in text["text"]["text"]
    )


def test_other_slack_refusals_are_the_callers_to_handle(db, fake_slack, clock):
    client = slack_client(fake_slack, db)
    fake_slack.refuse("UALICE", "user_not_found")
    with pytest.raises(SlackApiError):
        send_with_charts(db, client, TEAM_ID, 7, [INDEX], clock.now(), lambda s: post(client, s))
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_views_asking_at_once_for_the_same_chart_draw_and_upload_it_once(db, fake_slack, clock):
    shown: list = []
    threads = [
        threading.Thread(target=lambda: shown.append(block(db, fake_slack, clock)))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(shown) == 6 and all(found == shown[0] for found in shown)
    assert len(fake_slack.calls_to("files.getUploadURLExternal")) == 1
