"""The fake Slack checks image blocks as Slack does: the file named must exist, be an image
(png, jpg or gif) Slack has processed, and be one the app may show (its own upload in that
workspace, or a public file); otherwise chat.* answer invalid_blocks and views.*
invalid_arguments, with the block's JSON pointer."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.support.fake_slack import BOT_USER_ID

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
GIF = b"GIF89a" + b"\x00" * 32
TOKEN = "xoxb-test"


def client_for(fake, token: str = TOKEN) -> WebClient:
    return WebClient(token=token, base_url=fake.api_url)


def uploaded(client: WebClient, data: bytes, filename: str) -> str:
    return client.files_upload_v2(content=data, filename=filename, title=filename)["file"]["id"]


def image(file_id: str, alt_text: str = "A chart") -> dict:
    return {"type": "image", "slack_file": {"id": file_id}, "alt_text": alt_text}


def refusal(call) -> dict:
    with pytest.raises(SlackApiError) as refused:
        call()
    return refused.value.response.data


def post(client: WebClient, *blocks: dict):
    return client.chat_postMessage(channel="UALICE", text="chart", blocks=list(blocks))


def test_the_apps_own_png_and_gif_uploads_show_in_messages_home_and_updates(fake_slack):
    client = client_for(fake_slack)
    png, gif = uploaded(client, PNG, "chart.png"), uploaded(client, GIF, "chart.gif")
    posted = post(client, image(png), {"type": "context", "elements": [image(gif)]})
    assert posted["ok"]
    home = {"type": "home", "blocks": [image(png)]}
    assert client.views_publish(user_id="UALICE", view=home)["ok"]
    assert client.chat_update(
        channel=posted["channel"], ts=posted["ts"], text="chart", blocks=[image(gif)]
    )["ok"]


def test_a_file_that_is_not_an_image_is_refused(fake_slack):
    client = client_for(fake_slack)
    csv = uploaded(client, b"week,index\n2026-03-02,64\n", "index.csv")
    answer = refusal(lambda: post(client, {"type": "divider"}, image(csv)))
    assert answer["error"] == "invalid_blocks"
    assert answer["errors"] == ["invalid slack file [json-pointer:/blocks/1/slack_file]"]
    assert answer["response_metadata"]["messages"] == [
        "[ERROR] invalid slack file [json-pointer:/blocks/1/slack_file]"
    ]
    assert client.files_info(file=csv)["file"]["filetype"] == "csv"


def test_a_png_named_like_a_csv_is_still_an_image(fake_slack):
    client = client_for(fake_slack)
    assert post(client, image(uploaded(client, PNG, "chart.csv")))["ok"]


def test_a_missing_or_deleted_file_is_refused_in_views_too(fake_slack):
    client = client_for(fake_slack)
    png = uploaded(client, PNG, "chart.png")
    assert client.files_delete(file=png)["ok"]
    assert refusal(lambda: client.files_info(file=png))["error"] == "file_deleted"
    assert refusal(lambda: client.files_info(file="F99999999"))["error"] == "file_not_found"
    for file_id in (png, "F99999999"):
        home = {"type": "home", "blocks": [{"type": "divider"}, image(file_id)]}
        answer = refusal(lambda view=home: client.views_publish(user_id="UALICE", view=view))
        assert answer["error"] == "invalid_arguments"
        assert answer["response_metadata"]["messages"] == [
            "[ERROR] invalid slack file [json-pointer:/view/blocks/1/slack_file]"
        ]


def test_a_file_the_app_may_not_see_is_refused_until_it_is_public(fake_slack):
    client = client_for(fake_slack)
    fake_slack.add_file("F0PERSON01", "photo.png", PNG, user="UALICE")
    assert refusal(lambda: post(client, image("F0PERSON01")))["error"] == "invalid_blocks"
    assert refusal(lambda: client.files_delete(file="F0PERSON01"))["error"] == "cant_delete_file"
    fake_slack.add_file("F0PERSON02", "photo.png", PNG, user="UALICE", public=True)
    assert post(client, image("F0PERSON02"))["ok"]


def test_a_file_uploaded_in_another_workspace_is_refused(fake_slack):
    fake_slack.teams["T0OTHER"] = "Other"
    theirs = uploaded(client_for(fake_slack, "xoxb-T0OTHER-1-x"), PNG, "chart.png")
    assert fake_slack.files[theirs]["user"] == BOT_USER_ID  # the same app, elsewhere
    assert refusal(lambda: post(client_for(fake_slack), image(theirs)))["error"] == "invalid_blocks"


def test_a_file_still_being_processed_is_refused_and_has_no_type_yet(fake_slack):
    client = client_for(fake_slack)
    fake_slack.file_processing_seconds = 3600
    png = uploaded(client, PNG, "chart.png")
    assert client.files_info(file=png)["file"]["mimetype"] == ""
    assert refusal(lambda: post(client, image(png)))["error"] == "invalid_blocks"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            {"type": "image", "slack_file": {"id": "not-an-id"}, "alt_text": "x"},
            "input must match regex pattern: ^[F][A-Z0-9]{8,}$"
            " [json-pointer:/blocks/0/slack_file/id]",
        ),
        (
            {"type": "image", "slack_file": {"id": "F00000001", "url": "u"}, "alt_text": "x"},
            "must provide exactly one of url or id [json-pointer:/blocks/0/slack_file]",
        ),
        (
            {"type": "image", "slack_file": {"id": "F00000001"}},
            "missing required field: alt_text [json-pointer:/blocks/0]",
        ),
        (
            {"type": "image", "slack_file": {"id": "F00000001"}, "alt_text": "x" * 2001},
            "must be less than 2001 characters [json-pointer:/blocks/0/alt_text]",
        ),
        (
            {"type": "image", "alt_text": "x"},
            "must provide either image_url or slack_file [json-pointer:/blocks/0]",
        ),
    ],
)
def test_a_malformed_image_block_is_refused_with_slacks_message(fake_slack, block, message):
    client = client_for(fake_slack)
    uploaded(client, PNG, "chart.png")  # F00000001 exists and may be shown
    answer = refusal(lambda: post(client, block))
    assert answer["error"] == "invalid_blocks" and answer["errors"] == [message]


def test_a_file_may_be_named_by_its_private_url(fake_slack):
    client = client_for(fake_slack)
    png = uploaded(client, PNG, "chart.png")
    url = client.files_info(file=png)["file"]["url_private"]
    block = {"type": "image", "slack_file": {"url": url}, "alt_text": "A chart"}
    assert post(client, block)["ok"]
    assert post(
        client,
        {"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "accessory": image(png)},
    )["ok"]
