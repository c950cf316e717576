"""Pictures uploaded to Slack for ``image`` blocks, reused until what they show changes.

``upload_picture`` uploads a PNG as slack-sdk's ``files_upload_v2`` does
(``files.getUploadURLExternal``, the bytes POSTed to the URL it hands out, then
``files.completeUploadExternal``) without sharing it anywhere: Rapport, its uploader, may
show it in ``image`` blocks (``slack_file: {"id": …}``). Slack finishes processing a file
after that last call, and refuses a block naming a file it hasn't processed, so the file is
looked up with ``files.info`` until it is ready.

The file id is remembered per workspace, purpose and fingerprint of the picture's content,
and the picture is drawn and uploaded again only when the fingerprint changes. A file
deleted from Slack is found by ``files.info`` once the last check is ``RECHECK_AFTER`` old,
or by the caller when Slack refuses a block naming it (``names_missing_file``, or
``refused_blocks`` for a reply through a response URL, then ``forget_file``), and is
uploaded again next time.

An upload that fails comes back as ``Upload(file_id=None, error=…)``, never as an
exception, so the caller can still send its message, with the figures in text. So does a new
upload in a workspace whose installation lacks ``files:read`` (made before the manifest asked
for it), where Slack won't say when the file is ready: it is kept, and shown from the next
time on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookResponse
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.core.db import Database
from bot.slack.models import UploadedFile

logger = logging.getLogger(__name__)

RECHECK_AFTER = timedelta(minutes=15)
# Seconds between files.info looks while Slack processes a new upload (about 6 s in all).
READY_WAITS = (0.0, 0.2, 0.4, 0.8, 1.6, 3.2)
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif"})
GONE = frozenset({"file_not_found", "file_deleted"})
READY, PROCESSING, MISSING = "ready", "processing", "missing"
UPLOAD_FAILED = "upload_failed"  # the bytes didn't reach Slack (refused, or no network)
UNREACHABLE = "slack_unreachable"
MISSING_SCOPE = "missing_scope"  # an installation made before the manifest asked for files:read


@dataclass(frozen=True)
class Picture:
    purpose: str  # what it is a picture of, stable while its figures change: "health:42:index"
    fingerprint: str  # changes exactly when the picture would
    filename: str
    title: str
    render: Callable[[], bytes]  # the PNG; only called when it must be uploaded


@dataclass(frozen=True)
class Upload:
    file_id: str | None  # for an image block's slack_file; None when there is no picture
    error: str | None = None  # why not: Slack's error code, or what failed on the way
    reused: bool = False  # uploaded before, for the same figures


def upload_picture(
    db: Database,
    client: WebClient,
    team_id: str,
    picture: Picture,
    now: datetime,
    recheck_after: timedelta = RECHECK_AFTER,
    sleep: Callable[[float], None] = time.sleep,
) -> Upload:
    """The Slack file showing ``picture``: the one uploaded before while Slack still has it,
    else a new upload. ``recheck_after=timedelta(0)`` asks Slack every time, for a message
    that can't be sent again if Slack refuses it."""
    known = _uploaded_before(db, team_id, picture)
    if known is not None and now - known.checked_at < recheck_after:
        return Upload(known.file_id, reused=True)
    if known is not None:
        state = file_state(client, known.file_id)
        if state != MISSING:  # ready, or Slack couldn't say: it was there last time
            if state == READY:
                _mark_checked(db, known.id, now)
            return Upload(known.file_id, reused=True)
        forget_file(db, team_id, known.file_id)
    return _upload(db, client, team_id, picture, now, sleep)


def forget_file(db: Database, team_id: str, file_id: str) -> None:
    """Slack no longer has ``file_id``: the next ``upload_picture`` uploads it again."""
    with db.transaction() as session:
        session.execute(
            delete(UploadedFile).where(
                UploadedFile.team_id == team_id, UploadedFile.file_id == file_id
            )
        )


def names_missing_file(error: SlackApiError) -> bool:
    """Slack refused blocks because a ``slack_file`` in them can't be shown (deleted, say):
    ``invalid_blocks`` from chat.*, ``invalid_arguments`` from views.*."""
    response = error.response
    if response.get("error") not in ("invalid_blocks", "invalid_arguments"):
        return False
    messages = [*(response.get("errors") or [])]
    messages += (response.get("response_metadata") or {}).get("messages") or []
    return any("slack_file" in str(message) for message in messages)


def refused_blocks(response: WebhookResponse) -> bool:
    """Slack refused a post to a response URL for its blocks. It answers as incoming webhooks
    do, HTTP 400 and ``invalid_blocks`` alone, without saying which block."""
    return response.status_code != 200 and "invalid_blocks" in (response.body or "")


def file_state(client: WebClient, file_id: str) -> str:
    """READY to show, PROCESSING, MISSING (deleted, or never there), or Slack's error."""
    try:
        file = client.files_info(file=file_id)["file"]
    except SlackApiError as error:
        code = str(error.response.get("error") or "unknown_error")
        return MISSING if code in GONE else code
    except (SlackClientError, OSError):
        return UNREACHABLE
    return READY if file.get("mimetype") in IMAGE_TYPES else PROCESSING


def _upload(
    db: Database,
    client: WebClient,
    team_id: str,
    picture: Picture,
    now: datetime,
    sleep: Callable[[float], None],
) -> Upload:
    try:
        png = picture.render()
    except Exception:  # a bug in the drawing: the message still goes, with figures in text
        logger.exception("couldn't draw %s", picture.purpose)
        return Upload(None, error="render_failed")
    try:
        response = client.files_upload_v2(
            content=png, filename=picture.filename, title=picture.title
        )
        file_id = str(response["file"]["id"])
    except SlackApiError as error:
        return _failed(picture, str(error.response.get("error") or "unknown_error"))
    except (SlackClientError, OSError) as error:  # the upload URL refused the bytes; no network
        return _failed(picture, UPLOAD_FAILED, type(error).__name__)
    state = _wait_until_ready(client, file_id, sleep)
    if state == MISSING_SCOPE:  # Slack won't say when it's ready: kept, shown from next time
        _remember(db, team_id, picture, file_id, now)
        return Upload(None, error=state)
    if state != READY:
        return _failed(picture, "file_not_ready" if state == PROCESSING else state)
    return Upload(_remember(db, team_id, picture, file_id, now))


def _wait_until_ready(client: WebClient, file_id: str, sleep: Callable[[float], None]) -> str:
    state = PROCESSING
    for wait in READY_WAITS:
        sleep(wait)
        state = file_state(client, file_id)
        if state != PROCESSING:
            return state
    return state


def _remember(db: Database, team_id: str, picture: Picture, file_id: str, now: datetime) -> str:
    """Record the new file, replacing the purpose's older pictures; returns the file id to
    show, which is another process's when it uploaded the same picture first."""
    row = UploadedFile(
        team_id=team_id,
        purpose=picture.purpose,
        content_hash=picture.fingerprint,
        file_id=file_id,
        uploaded_at=now,
        checked_at=now,
    )
    try:
        with db.transaction() as session:
            session.execute(
                delete(UploadedFile).where(
                    UploadedFile.team_id == team_id,
                    UploadedFile.purpose == picture.purpose,
                    UploadedFile.content_hash != picture.fingerprint,
                )
            )
            session.add(row)
    except IntegrityError:  # uploaded at the same moment elsewhere: show theirs
        theirs = _uploaded_before(db, team_id, picture)
        return file_id if theirs is None else theirs.file_id
    return file_id


def _uploaded_before(db: Database, team_id: str, picture: Picture) -> UploadedFile | None:
    with db.read() as session:
        return session.scalar(
            select(UploadedFile).where(
                UploadedFile.team_id == team_id,
                UploadedFile.purpose == picture.purpose,
                UploadedFile.content_hash == picture.fingerprint,
            )
        )


def _mark_checked(db: Database, row_id: int, now: datetime) -> None:
    with db.transaction() as session:
        session.execute(
            update(UploadedFile).where(UploadedFile.id == row_id).values(checked_at=now)
        )


def _failed(picture: Picture, error: str, cause: str = "") -> Upload:
    logger.warning("picture %s not uploaded: %s %s", picture.purpose, error, cause)
    return Upload(None, error=error)
