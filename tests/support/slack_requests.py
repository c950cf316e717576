"""Signs and posts requests to the running app exactly as Slack does.

Slash commands are form-encoded, interactivity is ``payload=<json>``, events are JSON, and
each carries ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` (v0 HMAC-SHA256 over
``v0:{timestamp}:{body}`` with the signing secret). An event Slack delivers again after no
timely 200 keeps its ``event_id`` and carries ``X-Slack-Retry-Num`` and
``X-Slack-Retry-Reason``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tests.support.block_kit_limits import block_problems, view_problems
from tests.support.fake_slack import TEAM_ID, FakeSlack

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
APP_ID = "A0RAPPORT"


@dataclass
class Response:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def within_block_kit_limits(self) -> Response:
        """This ack, once checked as Slack checks the blocks or view an ack answers with:
        blocks that break a limit fail the test, as Slack would refuse them."""
        answer = self.json() if self.body.startswith("{") else None
        if not answer:
            return self
        problems = block_problems(answer.get("blocks") or [], "/blocks")
        if answer.get("response_action") in ("update", "push"):
            problems += view_problems(answer.get("view") or {})
        assert not problems, f"Slack would refuse this ack: {problems}"
        return self

    @property
    def text(self) -> str:
        """The text of an ack() reply to a slash command (Slack takes a plain body or JSON)."""
        if not self.body.startswith("{"):
            return self.body
        return self.json().get("text", "")


def sign(body: str, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackRequests:
    def __init__(self, app_url: str, fake: FakeSlack):
        self.url = f"{app_url}/slack/events"
        self.fake = fake
        self._ids = itertools.count(1)

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: str | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        signed: bool = True,
    ) -> Response:
        """POST ``body``, signed as Slack signs it unless ``signed=False`` (no signature or
        timestamp header at all)."""
        timestamp = timestamp or str(int(time.time()))
        signing = {
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature or sign(body, timestamp),
        }
        request = urllib.request.Request(
            self.url,
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": content_type,
                **(signing if signed else {}),
                **(headers or {}),
            },
        )
        try:
            # generous: tests check behaviour, not speed, and CI machines get busy
            with urllib.request.urlopen(request, timeout=30) as answer:
                return Response(answer.status, answer.read().decode())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read().decode())

    def command(
        self,
        text: str,
        *,
        user: str = "UALICE",
        channel: str = "CGENERAL",
        command: str = "/rapport",
        team: str = TEAM_ID,
        **overrides: Any,
    ) -> Response:
        fields = {
            "token": "legacy-verification-token",
            "team_id": team,
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.fake.response_url("cmd", team),
            "trigger_id": self.fake.trigger_id(),
            **overrides,
        }
        return self.post(
            urlencode(fields), "application/x-www-form-urlencoded"
        ).within_block_kit_limits()

    def interactive(self, payload: dict[str, Any], **kwargs: Any) -> Response:
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded", **kwargs)

    def block_action(
        self,
        action_id: str,
        *,
        value: str | None = None,
        selected_option: dict[str, Any] | None = None,
        user: str = "UALICE",
        team: str = TEAM_ID,
        container: dict[str, Any] | None = None,
    ) -> Response:
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": "b1",
            "type": "static_select" if selected_option else "button",
            "action_ts": f"{time.time():.6f}",
        }
        if value is not None:
            action["value"] = value
        if selected_option is not None:
            action["selected_option"] = selected_option
        payload = {
            "type": "block_actions",
            "team": {"id": team, "domain": "acme"},
            "user": {"id": user, "username": user.lower(), "team_id": team},
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "container": container or {"type": "message", "message_ts": "1700000000.000100"},
            "trigger_id": self.fake.trigger_id(),
            "channel": {"id": "CGENERAL", "name": "general"},
            "response_url": self.fake.response_url("action", team),
            "actions": [action],
        }
        return self.interactive(payload)

    def view_submission(
        self,
        callback_id: str,
        values: dict[str, dict[str, dict[str, Any]]],
        *,
        user: str = "UALICE",
        team: str = TEAM_ID,
        private_metadata: str = "",
    ) -> Response:
        payload = {
            "type": "view_submission",
            "team": {"id": team, "domain": "acme"},
            "user": {"id": user, "username": user.lower(), "team_id": team},
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "trigger_id": self.fake.trigger_id(),
            "view": {
                "id": "VSETUP",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": values},
                "hash": "1700000000.abcdef",
            },
        }
        return self.interactive(payload).within_block_kit_limits()

    def event(
        self,
        event: dict[str, Any],
        *,
        team: str = TEAM_ID,
        event_id: str | None = None,
        retry_num: int | None = None,
    ) -> Response:
        envelope = {
            "team_id": team,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": team, "user_id": self.fake.bot_user_of(team), "is_bot": True}
            ],
        }
        return self.deliver(envelope, retry_num=retry_num)

    def deliver(
        self,
        envelope: dict[str, Any],
        *,
        retry_num: int | None = None,
        reason: str = "http_timeout",
    ) -> Response:
        """Post an Events API envelope of this app; ``retry_num`` makes it Slack's retry."""
        body = {"token": "legacy-verification-token", "api_app_id": APP_ID, **envelope}
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": reason}
        return self.post(json.dumps(body), "application/json", headers=headers)

    def shared_channel_message(
        self, channel: str, user: str, text: str, *, via: str | None = None, **message: Any
    ) -> Delivery:
        """``user`` posts ``text`` in the Slack Connect ``channel``: Slack delivers it once,
        under ``via``'s installation or one it picks (see
        ``FakeSlack.shared_channel_delivery``; ``ts``, ``thread_ts`` may be given)."""
        envelope = self.fake.shared_channel_delivery(channel, user, text, via=via, **message)
        return Delivery(self, envelope, self.deliver(envelope))

    def uninstall(self, team: str) -> list[Response]:
        """``team``'s admins remove Rapport: its tokens stop working at once, and Slack sends
        ``tokens_revoked`` and ``app_uninstalled``."""
        return [self.event(event, team=team) for event in self.fake.uninstall(team)]


@dataclass
class Delivery:
    """One event Slack delivered, and what the app answered; ``retry`` delivers it again."""

    slack: SlackRequests
    envelope: dict[str, Any]
    response: Response

    @property
    def team(self) -> str:
        """The workspace whose installation Slack named."""
        return self.envelope["team_id"]

    def retry(self, num: int = 1, reason: str = "http_timeout") -> Response:
        return self.slack.deliver(self.envelope, retry_num=num, reason=reason)
