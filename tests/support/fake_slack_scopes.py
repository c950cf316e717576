"""Scopes in the fake Slack: a bot token may call a Web API method only with the scope Slack
asks of it, as the install granted (by default every bot scope in ``manifest.json``).

Slack answers a call its token lacks the scope for with ``missing_scope``, naming the
scope ``needed`` and those ``provided``. Which scope a method needs comes from Slack's
reference for each method, for bot tokens; the ``conversations.*`` methods need the one for
the kind of conversation (public or private channel, DM, group DM). A method this table
doesn't know is answered ``unknown_method``, so a call the app starts making must be added
here, with its scope, before any test passes with it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.json"
# method -> the scope a bot token needs for it (None: none)
NEEDED = {
    "auth.test": None,
    "chat.postEphemeral": "chat:write",
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "conversations.join": "channels:join",
    "files.completeUploadExternal": "files:write",
    "files.delete": "files:write",
    "files.getUploadURLExternal": "files:write",
    "files.info": "files:read",
    "team.info": "team:read",
    "users.info": "users:read",
    "views.open": None,
    "views.publish": None,
    "views.push": None,
    "views.update": None,
}
# called with an app-level token, which the methods themselves ask for
APP_LEVEL = frozenset({"apps.connections.open", "apps.event.authorizations.list"})
# conversations.* -> what it does with the conversation: <kind>:<verb> is the scope needed
BY_CONVERSATION = {
    "conversations.history": "history",
    "conversations.info": "read",
    "conversations.members": "read",
    "conversations.replies": "history",
}


def manifest_scopes() -> frozenset[str]:
    return frozenset(json.loads(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"])


class FakeSlackScopes:
    """The scopes half of ``FakeSlack`` (which knows its ``channels`` and each token's
    workspace, ``team_of``)."""

    channels: dict[str, dict[str, Any]]
    team_of: Callable[[str | None], str]
    _lock: threading.Lock

    def _init_scopes(self) -> None:
        self._scopes = manifest_scopes()
        self._withheld: dict[str | None, set[str]] = {}  # team (None: every one) -> scopes

    def withhold_scope(self, scope: str, team: str | None = None) -> None:
        """Installs (of ``team`` only, if given) lack ``scope``, as one made before the
        manifest asked for it does until an admin approves it."""
        with self._lock:
            self._withheld.setdefault(team, set()).add(scope)

    def granted_scopes(self, team: str) -> list[str]:
        with self._lock:
            withheld = self._withheld.get(None, set()) | self._withheld.get(team, set())
        return sorted(self._scopes - withheld)

    def scope_refusal(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> dict[str, Any] | None:
        """Slack's answer when a bot token lacks the scope ``method`` needs, else None.
        User and app-level tokens carry scopes of their own, which aren't checked."""
        if not (token or "").startswith("xoxb") or method in APP_LEVEL:
            return None
        if method in BY_CONVERSATION:
            needed: str | None = f"{self._kind(args)}:{BY_CONVERSATION[method]}"
        elif method == "conversations.open":
            several = len(list(filter(None, str(args.get("users", "")).split(",")))) > 1
            needed = "mpim:write" if several else "im:write"
        elif method in NEEDED:
            needed = NEEDED[method]
        else:
            return {"ok": False, "error": "unknown_method"}
        granted = self.granted_scopes(self.team_of(token))
        if needed is None or needed in granted:
            return None
        provided = ",".join(granted)
        return {"ok": False, "error": "missing_scope", "needed": needed, "provided": provided}

    def _kind(self, args: dict[str, Any]) -> str:
        """channels, groups (private channels), im or mpim: what the conversation is."""
        channel_id = str(args.get("channel", ""))
        channel = self.channels.get(channel_id)
        if channel is not None:
            return "groups" if channel["is_private"] else "channels"
        if channel_id.startswith("D"):
            return "im"
        return "mpim" if channel_id.startswith("G") else "channels"
