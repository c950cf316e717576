"""Files in the fake Slack: uploads in three steps, ``files.info``, ``files.delete``, and the
check Slack makes of an ``image`` block naming a ``slack_file``.

As in Slack, a file is an image only once Slack has looked at its bytes (``filetype``
``png``, ``jpg`` or ``gif``; ``mimetype`` stays empty while it is being processed, for
``file_processing_seconds`` after ``files.completeUploadExternal``), and an image block may
name it only if it is such an image, still there, and the poster may see it: here, the app
uploaded it in the poster's workspace, or it is public. Otherwise chat.* answer
``invalid_blocks`` and views.* ``invalid_arguments``, each with Slack's message and the
block's JSON pointer (``invalid slack file [json-pointer:/blocks/0/slack_file]``); a post to
a response URL gets HTTP 400 and ``invalid_blocks`` alone, as incoming webhooks do.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

from tests.support.block_kit_limits import block_problems, view_problems

# magic bytes -> (filetype, mimetype, pretty_type), as Slack detects them
IMAGE_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": ("png", "image/png", "PNG"),
    b"\xff\xd8\xff": ("jpg", "image/jpeg", "JPEG"),
    b"GIF87a": ("gif", "image/gif", "GIF"),
    b"GIF89a": ("gif", "image/gif", "GIF"),
}
OTHER_TYPES = {"csv": ("csv", "text/csv", "CSV"), "txt": ("text", "text/plain", "Plain Text")}
FILE_ID = re.compile(r"^[F][A-Z0-9]{8,}$")
ALT_TEXT_LIMIT = 2000
_INTERNAL = ("data", "ready_at", "deleted", "team", "public", "channel")
BLOCK_METHODS = {
    "chat.postMessage": "/blocks",
    "chat.postEphemeral": "/blocks",
    "chat.update": "/blocks",
    "views.open": "/view/blocks",
    "views.publish": "/view/blocks",
    "views.push": "/view/blocks",
    "views.update": "/view/blocks",
    "response_url": "/blocks",  # a post to a response URL, checked as chat.postMessage
}


class FakeSlackFiles:
    """The files half of ``FakeSlack`` (which sets up ``files``, ``_lock``, ``_ids``, ``url``
    and ``teams``, and names the bot ``bot_user``)."""

    files: dict[str, dict[str, Any]]
    url: str
    teams: dict[str, str]
    bot_user: str
    default_team: str
    _lock: threading.Lock
    _ids: Iterator[int]
    file_processing_seconds: float  # after files.completeUploadExternal, till processed

    def add_file(
        self, file_id: str, name: str, data: bytes, user: str, public: bool = False
    ) -> None:
        """A file someone else uploaded: Rapport may show it only if ``public``."""
        with self._lock:
            self.files[file_id] = self._new_file(file_id, name, user, self.default_team)
            self.files[file_id].update(
                data=data, public=public, ready_at=0.0, **_detected(name, data)
            )

    def team_of(self, token: str | None) -> str:
        """The workspace a token is for: issued tokens name it (``xoxb-T0ACME-3-…``)."""
        parts = (token or "").split("-")
        return parts[1] if len(parts) > 2 and parts[1] in self.teams else self.default_team

    def files_answer(self, method: str, args: dict[str, Any], token: str | None) -> dict:
        if method == "files.getUploadURLExternal":
            return self._upload_url(args, token)
        if method == "files.completeUploadExternal":
            return self._complete(args)
        if method == "files.info":
            found = self._visible(args.get("file", ""), token)
            return found if "error" in found else {"ok": True, "file": found, "comments": []}
        if method == "files.delete":
            return self._delete(args.get("file", ""), token)
        return {"ok": False, "error": "unknown_method"}

    def blocks_refused(self, method: str, args: dict[str, Any], team: str) -> dict[str, Any] | None:
        """Slack's answer refusing the call's blocks, or None when they may be shown in
        ``team``: images it can't show there, or a limit of Block Kit's broken."""
        prefix = BLOCK_METHODS.get(method)
        if prefix is None:
            return None
        view = args.get("view") or {}
        blocks = view.get("blocks") if prefix == "/view/blocks" else args.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        problems = [
            f"{message} [json-pointer:{pointer}]"
            for pointer, image in _images(blocks or [], prefix)
            for message, pointer in self._image_problems(image, pointer, team)
        ]
        limits = (
            view_problems(view)
            if prefix == "/view/blocks"
            else block_problems(blocks or [], prefix)
        )
        problems += [f"{message} [json-pointer:{pointer}]" for message, pointer in limits]
        if not problems:
            return None
        logged = {"messages": [f"[ERROR] {problem}" for problem in problems]}
        if prefix == "/view/blocks":
            return {"ok": False, "error": "invalid_arguments", "response_metadata": logged}
        return {
            "ok": False,
            "error": "invalid_blocks",
            "errors": problems,
            "response_metadata": logged,
        }

    # -- the three upload steps -----------------------------------------------------------
    def _upload_url(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ids):08d}"
        with self._lock:
            self.files[file_id] = self._new_file(
                file_id, args["filename"], self.bot_user, self.team_of(token)
            )
        return {"ok": True, "upload_url": f"{self.url}/upload/v1/{file_id}", "file_id": file_id}

    def _receive_upload(self, file_id: str, data: bytes) -> bool:
        with self._lock:
            file = self.files.get(file_id)
            if file is None:
                return False
            file["data"] = data
            return True

    def _complete(self, args: dict[str, Any]) -> dict[str, Any]:
        listed = args.get("files") or "[]"
        listed = json.loads(listed) if isinstance(listed, str) else listed
        with self._lock:
            files = [self.files.get(item.get("id", "")) for item in listed]
            if not files or any(f is None or f["data"] is None for f in files):
                return {"ok": False, "error": "file_not_found"}  # never uploaded
            for file, item in zip(files, listed, strict=True):
                file.update(title=item.get("title") or file["name"])
                file.update(channel=args.get("channel_id"))
                file.update(_detected(file["name"], file["data"]))
                file["ready_at"] = time.monotonic() + self.file_processing_seconds
            shared = [
                {"id": f["id"], "name": f["name"], "title": f["title"], "size": len(f["data"])}
                for f in files
            ]
        return {"ok": True, "files": shared}

    # -- looking files up -----------------------------------------------------------------
    def _visible(self, file_id: str, token: str | None) -> dict[str, Any]:
        """files.info's view of a file: while Slack processes it, no type yet."""
        with self._lock:
            file = self.files.get(file_id)
            if file is None or file["team"] != self.team_of(token) or file["data"] is None:
                return {"ok": False, "error": "file_not_found"}
            if file["deleted"]:
                return {"ok": False, "error": "file_deleted"}
            shown = {k: v for k, v in file.items() if k not in _INTERNAL}
            shown["size"] = len(file["data"])
            if not _processed(file):
                shown.update(filetype="", mimetype="", pretty_type="")
        return shown

    def _delete(self, file_id: str, token: str | None) -> dict[str, Any]:
        found = self._visible(file_id, token)
        if "error" in found:
            return found
        if found["user"] != self.bot_user:
            return {"ok": False, "error": "cant_delete_file"}
        with self._lock:
            self.files[file_id]["deleted"] = True
        return {"ok": True}

    def _image_problems(
        self, image: dict[str, Any], pointer: str, team: str
    ) -> list[tuple[str, str]]:
        alt_text = image.get("alt_text")
        if not alt_text:
            return [("missing required field: alt_text", pointer)]
        if len(alt_text) > ALT_TEXT_LIMIT:
            return [(f"must be less than {ALT_TEXT_LIMIT + 1} characters", f"{pointer}/alt_text")]
        source = image.get("slack_file")
        if (source is None) == (image.get("image_url") is None):
            return [("must provide either image_url or slack_file", pointer)]
        if source is None:
            return []
        if ("id" in source) == ("url" in source):
            return [("must provide exactly one of url or id", f"{pointer}/slack_file")]
        if "id" in source and not FILE_ID.match(str(source["id"])):
            return [
                (f"input must match regex pattern: {FILE_ID.pattern}", f"{pointer}/slack_file/id")
            ]
        if not self._may_show(source, team):
            return [("invalid slack file", f"{pointer}/slack_file")]
        return []

    def _may_show(self, source: dict[str, Any], team: str) -> bool:
        with self._lock:
            if "id" in source:
                file = self.files.get(source["id"])
            else:
                file = next(
                    (
                        f
                        for f in self.files.values()
                        if source["url"] in (f["url_private"], f["permalink"])
                    ),
                    None,
                )
            return (
                file is not None
                and not file["deleted"]
                and file["team"] == team
                and (file["user"] == self.bot_user or file.get("public", False))
                and _processed(file)
                and file["mimetype"].startswith("image/")
            )

    def _new_file(self, file_id: str, name: str, user: str, team: str) -> dict[str, Any]:
        return {
            "id": file_id,
            "name": name,
            "title": name,
            "data": None,
            "user": user,
            "user_team": team,
            "team": team,
            "created": int(time.time()),
            "filetype": "",
            "mimetype": "",
            "pretty_type": "",
            "is_external": False,
            "channels": [],
            "url_private": f"https://files.slack.com/files-pri/{team}-{file_id}/{name}",
            "permalink": f"https://acme.slack.com/files/{user}/{file_id}/{name}",
            "deleted": False,
            "ready_at": float("inf"),  # processed once the upload is completed
        }


def _images(blocks: list[dict[str, Any]], prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every image in the blocks, with its JSON pointer: image blocks, section accessories
    and context elements."""
    for number, block in enumerate(blocks):
        pointer = f"{prefix}/{number}"
        if block.get("type") == "image":
            yield pointer, block
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "image":
            yield f"{pointer}/accessory", accessory
        if block.get("type") == "context":
            for place, element in enumerate(block.get("elements") or []):
                if element.get("type") == "image":
                    yield f"{pointer}/elements/{place}", element


def _detected(name: str, data: bytes) -> dict[str, str]:
    """What Slack makes of a file: images by their bytes, the rest by their name."""
    for signature, (filetype, mimetype, pretty) in IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return {"filetype": filetype, "mimetype": mimetype, "pretty_type": pretty}
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    filetype, mimetype, pretty = OTHER_TYPES.get(
        extension, ("binary", "application/octet-stream", "Binary")
    )
    return {"filetype": filetype, "mimetype": mimetype, "pretty_type": pretty}


def _processed(file: dict[str, Any]) -> bool:
    return file["data"] is not None and time.monotonic() >= file["ready_at"]
