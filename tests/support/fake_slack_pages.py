"""Cursor pagination as the fake Slack answers it: at most ``limit`` (1-1000, default 100)
items a page and an opaque ``next_cursor`` ("" on the last page), as Slack's paginated
methods do (conversations.members, apps.event.authorizations.list)."""

from __future__ import annotations

import base64
from typing import Any


def cursor_page(items: list[Any], args: dict[str, Any], key: str) -> dict[str, Any]:
    """The page of ``items`` that ``args`` (``limit``, ``cursor``) asks for, under ``key``;
    ``invalid_limit`` or ``invalid_cursor`` as Slack answers them."""
    limit = str(args.get("limit") or 100)
    if not limit.isdigit() or not 1 <= int(limit) <= 1000:
        return {"ok": False, "error": "invalid_limit"}
    try:
        cursor = base64.b64decode(args.get("cursor") or "", validate=True).decode()
        start = int(cursor.removeprefix("start:")) if cursor else 0
    except ValueError:
        return {"ok": False, "error": "invalid_cursor"}
    end = start + int(limit)
    cursor = base64.b64encode(f"start:{end}".encode()).decode() if end < len(items) else ""
    return {"ok": True, key: items[start:end], "response_metadata": {"next_cursor": cursor}}
