"""Pictures uploaded to the fake Slack for image blocks: three calls, then reused while their
figures don't change, uploaded again when they do or when Slack lost the file, retried after
429s, and a failure reported so the message can still go with its figures in text."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.core.settings import Settings
from bot.slack import files
from bot.slack.blocks import picture as picture_block
from bot.slack.client import SlackClients
from bot.slack.files import Picture, Upload, forget_file, names_missing_file, upload_picture
from bot.slack.models import UploadedFile
from tests.support.fake_slack import TEAM_ID

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # Slack tells an image by its first bytes
ALT = "Health index, last 12 weeks: 71 → 64, now Watch."


def slack_client(fake, db):
    settings = Settings(
        slack_bot_token="xoxb-test", slack_signing_secret="s", slack_api_url=fake.api_url
    )
    return SlackClients(settings, db).for_team(TEAM_ID)


class Drawing:
    """A picture whose drawings are counted."""

    def __init__(self, fingerprint: str = "v1", data: bytes = PNG, purpose: str = "health:1:index"):
        self.drawn = 0
        self.data = data
        self.picture = Picture(purpose, fingerprint, "rapport-index.png", "Health index", self)

    def __call__(self) -> bytes:
        self.drawn += 1
        return self.data


def upload(db, client, clock, drawing: Drawing, **options) -> Upload:
    return upload_picture(db, client, TEAM_ID, drawing.picture, clock.now(), **options)


def post_picture(client, file_id: str | None):
    return client.chat_postMessage(
        channel="UALICE", text=ALT, blocks=[picture_block(file_id, ALT, "Health index")]
    )


def rows(db) -> list[tuple[str, str, str]]:
    with db.read() as session:
        found = session.execute(
            select(UploadedFile.purpose, UploadedFile.content_hash, UploadedFile.file_id)
        )
        return [tuple(row) for row in found]


def test_a_picture_is_uploaded_in_three_calls_and_shows_in_an_image_block(db, fake_slack, clock):
    client, drawing = slack_client(fake_slack, db), Drawing()
    uploaded = upload(db, client, clock, drawing)
    methods = [call.method for call in fake_slack.calls]
    assert methods == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
        "files.info",  # processed yet?
    ]
    assert uploaded.file_id and uploaded.error is None and not uploaded.reused
    assert fake_slack.files[uploaded.file_id]["data"] == PNG
    assert fake_slack.files[uploaded.file_id]["channel"] is None  # shared nowhere
    assert fake_slack.calls_to("files.getUploadURLExternal")[0].args["filename"].endswith(".png")
    assert post_picture(client, uploaded.file_id)["ok"]
    shown = fake_slack.calls_to("chat.postMessage")[0].args["blocks"][0]
    assert shown["slack_file"] == {"id": uploaded.file_id} and shown["alt_text"] == ALT
    assert rows(db) == [("health:1:index", "v1", uploaded.file_id)]


def test_the_same_figures_reuse_the_upload_without_drawing_again(db, fake_slack, clock):
    client, drawing = slack_client(fake_slack, db), Drawing()
    first = upload(db, client, clock, drawing)
    clock.advance(minutes=5)
    again = upload(db, client, clock, Drawing())
    assert again == Upload(first.file_id, reused=True)
    assert drawing.drawn == 1 and len(fake_slack.calls_to("files.getUploadURLExternal")) == 1
    clock.advance(minutes=20)  # past RECHECK_AFTER: Slack is asked whether it still has it
    assert upload(db, client, clock, Drawing()) == Upload(first.file_id, reused=True)
    assert len(fake_slack.calls_to("files.info")) == 2
    assert len(fake_slack.calls_to("files.getUploadURLExternal")) == 1


def test_new_figures_upload_a_new_picture_in_place_of_the_old(db, fake_slack, clock):
    client = slack_client(fake_slack, db)
    old = upload(db, client, clock, Drawing("v1"))
    other = upload(db, client, clock, Drawing("v1", purpose="health:2:index"))
    new = upload(db, client, clock, Drawing("v2"))
    assert new.file_id not in (old.file_id, other.file_id) and not new.reused
    assert sorted(rows(db)) == [
        ("health:1:index", "v2", new.file_id),
        ("health:2:index", "v1", other.file_id),
    ]
    assert post_picture(client, old.file_id)["ok"]  # last week's message keeps its picture


def test_a_file_deleted_from_slack_is_uploaded_again(db, fake_slack, clock):
    client = slack_client(fake_slack, db)
    first = upload(db, client, clock, Drawing())
    assert client.files_delete(file=first.file_id)["ok"]
    clock.advance(minutes=20)  # the next use asks Slack, which no longer has it
    second = upload(db, client, clock, Drawing())
    assert second.file_id != first.file_id and not second.reused
    assert fake_slack.calls_to("files.info")[-2].args["file"] == first.file_id
    assert post_picture(client, second.file_id)["ok"]
    assert rows(db) == [("health:1:index", "v1", second.file_id)]


def test_a_deleted_file_slack_refuses_in_a_message_is_forgotten_and_uploaded_again(
    db, fake_slack, clock
):
    client = slack_client(fake_slack, db)
    first = upload(db, client, clock, Drawing())
    client.files_delete(file=first.file_id)
    cached = upload(db, client, clock, Drawing())  # checked moments ago: not asked again
    assert cached.file_id == first.file_id
    with pytest.raises(SlackApiError) as refused:
        post_picture(client, cached.file_id)
    assert names_missing_file(refused.value)
    forget_file(db, TEAM_ID, cached.file_id)
    again = upload(db, client, clock, Drawing())
    assert again.file_id != first.file_id and post_picture(client, again.file_id)["ok"]


def test_rate_limited_file_calls_are_retried_after_retry_after(db, fake_slack, clock):
    client = slack_client(fake_slack, db)
    fake_slack.rate_limit("files.getUploadURLExternal", retry_after=1)
    fake_slack.rate_limit("files.completeUploadExternal", retry_after=1)
    uploaded = upload(db, client, clock, Drawing())
    assert uploaded.file_id and post_picture(client, uploaded.file_id)["ok"]
    for method in ("files.getUploadURLExternal", "files.completeUploadExternal"):
        first, retried = fake_slack.calls_to(method)
        assert first.fault == "ratelimited" and retried.fault is None
        assert retried.at - first.at >= 0.9  # honoured Retry-After


def test_the_fake_enforces_a_files_rate_limit_and_the_client_waits_it_out(db, fake_slack, clock):
    client = slack_client(fake_slack, db)
    limit = fake_slack.limit_rate("files.info", per_minute=60, burst=1)
    first = upload(db, client, clock, Drawing(purpose="health:1:index"))
    second = upload(db, client, clock, Drawing(purpose="health:1:pulse"))
    assert first.file_id and second.file_id and limit.limited >= 1
    limited, retried = fake_slack.calls_to("files.info")[1:3]
    assert limited.fault == "ratelimited" and retried.fault is None
    assert retried.at - limited.at >= 0.9


@pytest.mark.parametrize(
    ("fail", "error"),
    [
        (lambda fake: fake.fail("files.getUploadURLExternal", "not_authed"), "not_authed"),
        (lambda fake: fake.server_error("upload"), "upload_failed"),  # the URL refused it
        (
            lambda fake: fake.fail("files.completeUploadExternal", "file_not_found"),
            "file_not_found",
        ),
        (
            lambda fake: fake.rate_limit("files.getUploadURLExternal", retry_after=0, times=4),
            "ratelimited",  # still limited after the client's retries
        ),
    ],
)
def test_an_upload_that_fails_is_reported_so_the_figures_go_in_text(
    db, fake_slack, clock, fail, error
):
    client = slack_client(fake_slack, db)
    fail(fake_slack)
    failed = upload(db, client, clock, Drawing())
    assert failed == Upload(None, error=error)
    assert rows(db) == []
    fallback = picture_block(failed.file_id, ALT + " <!channel>")
    assert fallback["type"] == "section" and ALT in fallback["text"]["text"]
    assert "<!channel>" not in fallback["text"]["text"]  # escaped like any text
    assert post_picture(client, failed.file_id)["ok"]
    fake_slack.clear_faults()
    assert upload(db, client, clock, Drawing()).file_id  # tried again next time


def test_a_picture_that_cannot_be_drawn_is_reported_not_raised(db, fake_slack, clock):
    def broken() -> bytes:
        raise ValueError("no figures")

    picture = Picture("health:1:index", "v1", "rapport-index.png", "Health index", broken)
    failed = upload_picture(db, slack_client(fake_slack, db), TEAM_ID, picture, clock.now())
    assert failed == Upload(None, error="render_failed") and fake_slack.calls == []


def test_a_file_slack_is_still_processing_is_waited_for(db, fake_slack, clock):
    client = slack_client(fake_slack, db)
    fake_slack.file_processing_seconds = 0.3
    uploaded = upload(db, client, clock, Drawing())
    assert uploaded.file_id and len(fake_slack.calls_to("files.info")) >= 2
    assert post_picture(client, uploaded.file_id)["ok"]


def test_a_file_slack_never_finishes_processing_is_reported_and_not_remembered(
    db, fake_slack, clock
):
    client = slack_client(fake_slack, db)
    fake_slack.file_processing_seconds = 3600
    waits: list[float] = []
    failed = upload(db, client, clock, Drawing(), sleep=waits.append)
    assert failed == Upload(None, error="file_not_ready") and rows(db) == []
    assert waits == list(files.READY_WAITS)
    file_id = fake_slack.calls_to("files.info")[0].args["file"]
    with pytest.raises(SlackApiError) as refused:  # Slack won't show it yet either
        post_picture(client, file_id)
    assert names_missing_file(refused.value)


def test_a_picture_uploaded_at_the_same_moment_elsewhere_is_the_one_shown(db, fake_slack, clock):
    client = slack_client(fake_slack, db)
    theirs = upload(db, client, clock, Drawing("v1", purpose="health:9:index"))
    drawing = Drawing()

    def draw_while_another_process_uploads() -> bytes:
        with db.transaction() as session:  # another process finishes first
            session.add(
                UploadedFile(
                    team_id=TEAM_ID,
                    purpose="health:1:index",
                    content_hash="v1",
                    file_id=theirs.file_id,
                    uploaded_at=clock.now(),
                    checked_at=clock.now(),
                )
            )
        return drawing()

    racing = Picture("health:1:index", "v1", "x.png", "x", draw_while_another_process_uploads)
    shown = upload_picture(db, client, TEAM_ID, racing, clock.now())
    assert shown.file_id == theirs.file_id
    assert ("health:1:index", "v1", theirs.file_id) in rows(db)


def test_each_workspace_uploads_its_own_pictures(db, fake_slack, clock):
    client = slack_client(fake_slack, db)
    ours = upload(db, client, clock, Drawing())
    fake_slack.teams["T0OTHER"] = "Other"
    other = client.__class__(token="xoxb-T0OTHER-1-x", base_url=fake_slack.api_url)
    theirs = upload_picture(db, other, "T0OTHER", Drawing().picture, clock.now())
    assert theirs.file_id != ours.file_id and not theirs.reused
    with pytest.raises(SlackApiError):  # a file of another workspace can't be shown
        post_picture(other, ours.file_id)
    assert post_picture(other, theirs.file_id)["ok"]


def test_names_missing_file_tells_a_refused_slack_file_from_other_refusals():
    def refusal(body: dict) -> SlackApiError:
        return SlackApiError("refused", response=body)

    missing = "[ERROR] invalid slack file [json-pointer:/view/blocks/2/slack_file]"
    views = {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": [missing]},
    }
    assert names_missing_file(refusal(views))
    other = {"ok": False, "error": "invalid_blocks", "errors": ["no more than 50 items allowed"]}
    assert not names_missing_file(refusal(other))
    assert not names_missing_file(refusal({"ok": False, "error": "channel_not_found"}))
