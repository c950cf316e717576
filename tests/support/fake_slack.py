"""A fake Slack Web API on loopback, in the spirit of bolt-python's ``mock_web_api_server``.

It answers ``/api/<method>`` like Slack (``ok``, ``error``, realistic ids and ``ts``), takes
``response_url`` posts at ``/response/<team>/<id>``, records every call with its arguments,
and can be told to fail (all workspaces or one): a Slack error, HTTP 429 with
``Retry-After``, a 5xx, or a slow answer; to enforce a method's rate limit in each
workspace, as Slack does; or, in chaos mode, to fail a share of all calls at random
(reproducibly, from a seed). Files (uploads, ``files.info``, ``files.delete``) and the
check of image blocks naming them are in ``fake_slack_files``; several workspaces and the
channels they share over Slack Connect in ``fake_slack_connect``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import random
import select
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from tests.support.fake_slack_connect import FakeSlackConnect
from tests.support.fake_slack_files import FakeSlackFiles
from tests.support.fake_slack_pages import cursor_page
from tests.support.fake_slack_scopes import FakeSlackScopes
from tests.support.fake_slack_triggers import FakeSlackTriggers

BOT_USER_ID = "UBOTRAPPORT"
BOT_ID = "BRAPPORT"
TEAM_ID = "T0ACME"
# Rotating tokens are about this long (``xoxe.xoxb-1-`` and some 140 more characters):
# issued tokens are padded to it, so they fill their columns as real ones do.
TOKEN_LENGTH = 150


@dataclass
class Call:
    method: str  # Web API method, or "response_url" for posts to a response URL
    args: dict[str, Any]
    token: str | None
    path: str
    at: float = field(default_factory=time.monotonic)
    # the Slack error answered instead of doing the call ("ratelimited", "internal_error",
    # "request_timeout", …), or "abandoned" when the caller hung up before it was answered;
    # None when the call was done (a message posted, a modal opened)
    fault: str | None = None


@dataclass
class Fault:
    error: str | None = None  # Slack error code, answered with HTTP 200 and ok: false
    status: int = 200
    retry_after: int | None = None
    delay: float = 0.0
    times: int | None = 1  # None = until cleared
    # do the call, then drop the connection unanswered (Slack posted; its answer was lost)
    drop_answer: bool = False


@dataclass
class Chaos:
    """Fails ``rate`` of the calls, drawn from a seeded RNG: 429 with ``Retry-After``, 500,
    503, or an answer slower than the caller's timeout. A call that fails was not done, as
    with Slack: a rate-limited or timed-out post posts nothing."""

    rate: float
    seed: int
    retry_after: int = 1
    slow_seconds: float = 2.0  # longer than the client's SLACK_TIMEOUT_SECONDS
    methods: frozenset[str] | None = None  # None = every Web API method
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self, method: str) -> Fault | None:
        if self.methods is not None and method not in self.methods:
            return None
        if self._rng.random() >= self.rate:
            return None
        kind = self._rng.choice(("429", "500", "503", "timeout"))
        if kind == "429":
            return Fault(error="ratelimited", status=429, retry_after=self.retry_after)
        if kind == "timeout":
            return Fault(error="request_timeout", status=504, delay=self.slow_seconds)
        error = "internal_error" if kind == "500" else "service_unavailable"
        return Fault(error=error, status=int(kind))


@dataclass
class RateLimit:
    """Slack's limit on one method, as Slack applies it: for each workspace (the team of the
    caller's token) a bucket of ``burst`` calls refilled at ``per_minute`` (Slack's tiers:
    Tier 3 allows 50+ calls a minute, Tier 4, which files.getUploadURLExternal and
    files.info are in, 100+). A call finding its workspace's bucket empty is answered 429
    with ``Retry-After``: the whole seconds until the next call."""

    per_minute: float
    burst: int = 1
    limited: int = 0  # calls answered 429 so far, in all workspaces
    limited_by_team: dict[str, int] = field(default_factory=dict)
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # tokens, refilled

    def take(self, team: str) -> Fault | None:
        now = time.monotonic()
        rate = self.per_minute / 60
        tokens, refilled = self._buckets.get(team, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - refilled) * rate)
        if tokens >= 1:
            self._buckets[team] = (tokens - 1, now)
            return None
        self._buckets[team] = (tokens, now)
        self.limited += 1
        self.limited_by_team[team] = self.limited_by_team.get(team, 0) + 1
        wait = math.ceil((1 - tokens) / rate)
        return Fault(error="ratelimited", status=429, retry_after=wait)


def send_json(
    handler: BaseHTTPRequestHandler, status: int, body: dict, headers: dict[str, str] | None = None
) -> None:
    """Answer like Slack's Web API: a JSON body, and headers such as ``Retry-After``."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # many concurrent clients, like Slack's edge
    connections = 0  # accepted so far (each may carry many calls)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections += 1  # (only the serving thread accepts)
        with self._open_lock:
            self.open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self.open.discard(request)
        super().shutdown_request(request)

    def hang_up(self) -> None:
        with self._open_lock:
            for request in self.open:
                with contextlib.suppress(OSError):
                    request.shutdown(socket.SHUT_RDWR)


class FakeSlack(FakeSlackFiles, FakeSlackConnect, FakeSlackScopes, FakeSlackTriggers):
    bot_user = BOT_USER_ID
    bot_id = BOT_ID
    default_team = TEAM_ID

    def __init__(self, replayed: bool = False) -> None:
        """``replayed``: the same request is sent again and again (a benchmark's), so its
        trigger_id and response URL aren't held to their uses (``fake_slack_triggers``)."""
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.channel_members: dict[str, list[str]] = {}  # channel id -> people in it, in order
        self.teams: dict[str, str] = {TEAM_ID: "Acme"}
        self.refusals: dict[str, str] = {}  # user or channel id -> chat.postMessage's error
        self.group_dm_refusal: str | None = None  # conversations.open's error for 2+ people
        self.files: dict[str, dict[str, Any]] = {}  # file id -> name, bytes, title, channel…
        self.file_processing_seconds = 0.0  # how long Slack takes to process an upload
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel id -> posted, in order
        self._install_codes: dict[str, str] = {}  # OAuth code -> team id
        self._user_grants: set[str] = set()  # OAuth codes that also grant a user token
        self.bot_tokens: dict[str, str] = {}  # team id -> the last bot token issued
        self._refresh_tokens: dict[str, str] = {}  # refresh token -> team id
        self.delay = 0.0  # seconds every answer waits (a slow Slack)
        # called with the method as each Web API call arrives, before it is done: a test
        # can kill the caller there, mid-call
        self.before_answer: Callable[[str], None] | None = None
        self._faults: dict[str, list[Fault]] = {}
        self._chaos: Chaos | None = None
        self.rate_limits: dict[str, RateLimit] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._last_ts = 0  # microseconds
        self._ids = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._init_connect()
        self._init_scopes()
        self._init_triggers(replayed)

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str = "cmd", team: str = TEAM_ID) -> str:
        """A response URL of ``team``'s, which Slack names in the URL, as it does."""
        return f"{self.url}/response/{team}/{name}-{next(self._ids)}"

    def response_team(self, path: str) -> str:
        """The workspace a response URL is for (the default one for a URL made elsewhere)."""
        parts = path.split("/")
        return parts[2] if len(parts) > 3 and parts[2] in self.teams else self.default_team

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self.hang_up()  # a later fake may get this one's port: no kept connection reaches it
        self._server.server_close()

    def hang_up(self) -> None:
        """End every connection callers keep open, as Slack does with idle ones."""
        self._server.hang_up()

    # -- directory -----------------------------------------------------------------------
    def add_user(self, user_id: str, tz: str = "Europe/London", team: str = TEAM_ID, **extra: Any):
        self.users[user_id] = {
            "id": user_id,
            "team_id": team,
            "name": user_id.lower(),
            "real_name": f"Person {user_id}",
            "tz": tz,
            "deleted": False,
            "is_bot": False,
            **extra,
        }

    def add_channel(
        self, channel_id: str, name: str, members: tuple[str, ...] = (), **extra: Any
    ) -> None:
        """A channel with ``members`` (people; Rapport is in it when ``is_member``)."""
        self.channel_members[channel_id] = list(members)
        self.channels[channel_id] = {
            "id": channel_id,
            "name": name,
            "is_channel": True,
            "is_private": False,
            "is_member": False,
            "is_ext_shared": False,
            "is_archived": False,
            **extra,
        }

    # -- faults --------------------------------------------------------------------------
    def refuse(self, target: str, error: str) -> None:
        """Every ``chat.postMessage`` to ``target`` fails with ``error`` (``user_not_found``,
        say). Deleted users and archived channels are refused as Slack does without this."""
        self.refusals[target] = error

    def refuse_group_dms(self, error: str | None = "restricted_action") -> None:
        """``conversations.open`` with several people fails with ``error`` (as when Slack
        Connect doesn't allow group DMs across organisations); None allows them again."""
        self.group_dm_refusal = error

    def fail(self, method: str, error: str, times: int | None = 1, team: str | None = None) -> None:
        """Answer ``error`` ``times`` (None: until cleared), to ``team``'s calls only if given."""
        self._add_fault(
            method if team is None else f"{method}@{team}", Fault(error=error, times=times)
        )

    def rate_limit(
        self, method: str, retry_after: int = 1, times: int | None = 1, team: str | None = None
    ) -> None:
        """Answer 429 ``times`` (None: until cleared), to ``team``'s calls only if given."""
        fault = Fault(error="ratelimited", status=429, retry_after=retry_after, times=times)
        self._add_fault(method if team is None else f"{method}@{team}", fault)

    def server_error(self, method: str, status: int = 500, times: int | None = 1) -> None:
        self._add_fault(method, Fault(error="internal_error", status=status, times=times))

    def drop_answer(self, method: str, times: int | None = 1) -> None:
        """Do the call (post the message), then close the connection without answering,
        as when Slack's answer is lost on the way back."""
        self._add_fault(method, Fault(drop_answer=True, times=times))

    def slow(
        self, method: str, seconds: float, times: int | None = 1, team: str | None = None
    ) -> None:
        self._add_fault(
            method if team is None else f"{method}@{team}", Fault(delay=seconds, times=times)
        )

    def limit_rate(self, method: str, per_minute: float, burst: int = 1) -> RateLimit:
        """Enforce Slack's rate limit on ``method`` in each workspace from now on (see
        ``RateLimit``); queued faults still come first. ``"upload"`` limits the upload URL."""
        with self._lock:
            limit = self.rate_limits[method] = RateLimit(per_minute, burst)
        return limit

    def chaos(self, rate: float, seed: int, **options: Any) -> None:
        """Fail ``rate`` of the calls at random from now on (see ``Chaos``); queued faults
        still come first."""
        with self._lock:
            self._chaos = Chaos(rate, seed, **options)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._chaos = None
            self.rate_limits.clear()

    def _add_fault(self, method: str, fault: Fault) -> None:
        with self._lock:
            self._faults.setdefault(method, []).append(fault)

    def _take_fault(self, method: str, team: str | None = None) -> Fault | None:
        """The fault queued for ``team``'s calls to ``method``, else for everyone's, else
        its rate limit's answer, else chaos."""
        with self._lock:
            queue = self._faults.get(f"{method}@{team}") or self._faults.get(method)
            if not queue and method in self.rate_limits:
                return self.rate_limits[method].take(team or self.default_team)
            if not queue:
                return self._chaos.draw(method) if self._chaos is not None else None
            fault = queue[0]
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    queue.pop(0)
            return fault

    # -- assertions ----------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    @property
    def connections(self) -> int:
        """Connections callers opened so far (a kept-alive one carries many calls)."""
        return self._server.connections

    def done(self, method: str) -> list[Call]:
        """The calls to ``method`` that Slack carried out (not failed, not abandoned)."""
        return [call for call in self.calls_to(method) if call.fault is None]

    def wait_for(
        self,
        method: str,
        where: Callable[[Call], bool] = lambda call: True,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Call]:
        """Wait until ``count`` matching calls arrived (listeners run after the ack)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matches = [c for c in self.calls if c.method == method and where(c)]
                if len(matches) >= count:
                    return matches
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = sorted({c.method for c in self.calls})
                    raise AssertionError(
                        f"expected {count} call(s) to {method}, got {len(matches)}; "
                        f"methods seen: {seen}"
                    )
                self._changed.wait(remaining)

    def _record(self, call: Call) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def shared_files(self, channel: str) -> list[dict[str, Any]]:
        """Files uploaded and shared into ``channel`` (name, title, data), in upload order."""
        with self._lock:
            return [dict(f) for f in self.files.values() if f.get("channel") == channel]

    # -- installs (OAuth) --------------------------------------------------------------------
    def approve_install(self, code: str, team_id: str, name: str, as_user: bool = False) -> None:
        """Someone in ``team_id`` clicked "Allow"; Slack redirects back with ``code``.
        ``as_user``: they also granted user scopes and an incoming webhook, so the exchange
        hands over a user token, its refresh token and a webhook URL too."""
        with self._lock:
            self.teams[team_id] = name
            self._install_codes[code] = team_id
            if as_user:
                self._user_grants.add(code)

    def _oauth_access(self, args: dict[str, Any]) -> dict[str, Any]:
        """oauth.v2.access: a code for a bot token, or (token rotation) a refresh token for
        a new one. Tokens name their workspace, so tests can tell whose token a call used."""
        with self._lock:
            if args.get("grant_type") == "refresh_token":
                team_id = self._refresh_tokens.pop(args.get("refresh_token", ""), None)
                error = "invalid_refresh_token"
            else:
                team_id = self._install_codes.pop(args.get("code", ""), None)
                error = "invalid_code"
            if team_id is None:
                return {"ok": False, "error": error}
            serial = next(self._ids)
            token, refresh = _token("xoxb", team_id, serial), _token("xoxe-1", team_id, serial)
            self._refresh_tokens[refresh] = team_id
            self.bot_tokens[team_id] = token
            name = self.teams[team_id]
            installer: dict[str, Any] = {"id": "UINSTALLER"}
            extras: dict[str, Any] = {}
            if args.get("code") in self._user_grants:
                installer |= {
                    "access_token": _token("xoxp", team_id, serial),
                    "refresh_token": _token("xoxe-1-user", team_id, serial),
                    "expires_in": 43_200,
                    "scope": "identify",
                }
                extras["incoming_webhook"] = {
                    "url": f"https://hooks.slack.com/services/{team_id}/B{serial:08d}/secret",
                    "channel": "#general",
                    "channel_id": "C0GENERAL",
                }
        return extras | {
            "ok": True,
            "app_id": "ARAPPORT",
            "authed_user": installer,
            "scope": ",".join(self.granted_scopes(team_id)),
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": self.bot_user_of(team_id),
            "refresh_token": refresh,
            "expires_in": 43_200,  # rotating bot tokens live twelve hours
            "team": {"id": team_id, "name": name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    # -- answers ---------------------------------------------------------------------------
    def _next_ts(self) -> str:
        """A message's ts as Slack makes it: when it was posted, unique to the microsecond."""
        with self._lock:
            self._last_ts = max(time.time_ns() // 1000, self._last_ts + 1)
            return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    def _post(self, channel: str, args: dict[str, Any], ts: str) -> dict[str, Any]:
        """Keep a posted message in its channel, with its thread and metadata."""
        message = {"type": "message", "text": args.get("text", ""), "ts": ts, "bot_id": BOT_ID}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        with self._lock:
            self.messages.setdefault(channel, []).append(message)
        return message

    def _history(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.history (a channel's messages, newest first, thread replies left
        out) and conversations.replies (a thread, parent first): those after ``oldest``, at
        most ``limit`` a page with a ``cursor`` for the next; metadata only with
        ``include_all_metadata``."""
        channel = args.get("channel", "")
        with self._lock:
            posted = [dict(m) for m in self.messages.get(channel, [])]
        if not posted and channel not in self.channels and not channel.startswith(("D", "G")):
            return {"ok": False, "error": "channel_not_found"}
        if method == "conversations.replies":
            thread = args.get("ts", "")
            found = [m for m in posted if thread in (m["ts"], m.get("thread_ts"))]
            if not any(m["ts"] == thread for m in found):
                return {"ok": False, "error": "thread_not_found"}
        else:
            found = [m for m in reversed(posted) if m.get("thread_ts", m["ts"]) == m["ts"]]
        found = [m for m in found if float(m["ts"]) > float(args.get("oldest") or 0)]
        if str(args.get("include_all_metadata", "")).lower() not in ("1", "true"):
            for message in found:
                message.pop("metadata", None)
        start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 100)
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": found[start : start + limit],
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _members(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.members: the people in a channel Rapport can see (the bot too when
        it is in it), at most ``limit`` (1-1000, default 100) a page, with an opaque
        ``next_cursor`` ("" on the last page)."""
        channel = self.channels.get(args.get("channel", ""))
        if channel is None or (channel["is_private"] and not channel["is_member"]):
            return {"ok": False, "error": "channel_not_found"}
        with self._lock:
            members = list(self.channel_members.get(channel["id"], []))
        return cursor_page(members + self.channel_bots(channel["id"]), args, "members")

    def answer(self, method: str, args: dict[str, Any], token: str | None = None) -> dict:
        """Slack's answer to a call that wasn't failed on purpose (shapes from Slack's
        published examples); image blocks are checked as Slack checks them, and several
        workspaces (Slack Connect, revoked tokens, ``auth.test``) in ``connect_answer``."""
        connected = self.connect_answer(method, args, token)
        if connected is not None:
            return connected
        refused = self.blocks_refused(method, args, self.team_of(token))
        if refused is not None:
            return refused
        if method == "chat.postMessage":
            channel = args.get("channel", "")
            refusal = self._refusal(channel)
            if refusal:
                return {"ok": False, "error": refusal}
            ts = self._next_ts()
            if channel.startswith(("U", "W")):
                channel = "D" + channel[1:]
            message = self._post(channel, args, ts)
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method in ("views.open", "views.publish", "views.push", "views.update"):
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view or {}
            return {"ok": True, "view": {**view, "id": f"V{next(self._ids):08d}"}}
        if method == "conversations.info":
            channel = self.channels.get(args.get("channel", ""))
            if channel is None or (channel["is_private"] and not channel["is_member"]):
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "channel": channel}
        if method == "conversations.join":
            channel = self.channels.get(args.get("channel", ""))
            if channel is None:
                return {"ok": False, "error": "channel_not_found"}
            if channel["is_private"]:
                return {"ok": False, "error": "method_not_supported_for_channel_type"}
            channel["is_member"] = True
            return {"ok": True, "channel": channel}
        if method == "conversations.members":
            return self._members(args)
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, args)
        if method == "conversations.open":
            return self._open(args)
        if method == "oauth.v2.access":
            return self._oauth_access(args)
        if method == "apps.connections.open":  # Socket Mode; nothing listens at this URL
            return {"ok": True, "url": "ws://127.0.0.1:9/link/?ticket=fake"}
        if method.startswith("files."):
            return self.files_answer(method, args, token)
        if method == "team.info":
            team_id = args.get("team") or TEAM_ID
            if team_id not in self.teams:
                return {"ok": False, "error": "team_not_found"}
            return {"ok": True, "team": {"id": team_id, "name": self.teams[team_id]}}
        return {"ok": True}

    def _open(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.open: a DM with one person (``D`` + their id), or a group DM with
        several, the same ``G`` id for the same people whatever their order. A deactivated
        person can't be put in a group."""
        users = sorted(filter(None, args.get("users", "").split(",")))
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if len(users) == 1:
            return {"ok": True, "channel": {"id": "D" + users[0][1:]}}
        if self.group_dm_refusal:
            return {"ok": False, "error": self.group_dm_refusal}
        if any(self.users.get(user, {}).get("deleted") for user in users):
            return {"ok": False, "error": "user_disabled"}
        digest = zlib.crc32(",".join(users).encode())
        return {"ok": True, "channel": {"id": f"G{digest:010d}", "is_mpim": True}}

    def _refusal(self, target: str) -> str | None:
        if target in self.refusals:
            return self.refusals[target]
        if self.users.get(target, {}).get("deleted"):
            return "account_inactive"
        if self.channels.get(target, {}).get("is_archived"):
            return "is_archived"
        if not self.channels.get(target, {"is_member": True})["is_member"]:
            return "not_in_channel"  # added with add_channel and never joined
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # an answer's headers and body go out as two writes: without this, a
            # kept-alive connection waits for the client's delayed ACK (40 ms) between them
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                if self.path.startswith("/upload/"):
                    self._upload()
                    return
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(raw or "{}")
                else:
                    args = dict(parse_qsl(raw))
                for key in ("blocks", "view", "attachments", "metadata"):
                    if isinstance(args.get(key), str):
                        with contextlib.suppress(ValueError):
                            args[key] = json.loads(args[key])
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ") or args.pop("token", None)
                if self.path.startswith("/response/"):
                    self._respond(args, token)
                    return
                method = self.path.removeprefix("/api/")
                if fake.before_answer is not None:
                    fake.before_answer(method)
                if fake.delay:
                    time.sleep(fake.delay)
                if self._caller_gone():
                    fake._record(Call(method, args, token, self.path, fault="abandoned"))
                    self.close_connection = True
                    return
                fault = fake._take_fault(method, fake.team_of(token))
                refusal = None
                if fault is None:
                    refusal = fake.scope_refusal(method, args, token)
                    refusal = refusal or fake.use_trigger(method, args)
                error = fault.error if fault else refusal and refusal["error"]
                fake._record(Call(method, args, token, self.path, fault=error))
                if fault is not None and fault.drop_answer:
                    fake.use_trigger(method, args)  # done all the same: its trigger used
                    fake.answer(method, args, token)
                    self.close_connection = True
                    return
                if fault is not None:
                    time.sleep(fault.delay)
                    if fault.error is not None:
                        headers = (
                            {"Retry-After": str(fault.retry_after)}
                            if fault.retry_after is not None
                            else {}
                        )
                        self._send(fault.status, {"ok": False, "error": fault.error}, headers)
                        return
                if not token:
                    self._send(200, {"ok": False, "error": "not_authed"})
                    return
                self._send(200, refusal or fake.answer(method, args, token))

            def _respond(self, args: dict[str, Any], token: str | None) -> None:
                """A post to a response URL. Slack refuses one past its fifth use (HTTP
                404), and one whose image blocks it can't show as incoming webhooks do (HTTP
                400), with the error code as plain text."""
                team = fake.response_team(self.path)
                error = fake.use_response_url(self.path)
                if error is None:
                    refused = fake.blocks_refused("response_url", args, team)
                    error = None if refused is None else refused["error"]
                fake._record(Call("response_url", args, token, self.path, fault=error))
                if error is None:
                    self._send(200, {"ok": True})
                else:
                    self._send_text(404 if error == "used_url" else 400, error)

            def _upload(self) -> None:
                """The URL files.getUploadURLExternal hands out: raw bytes in, "OK - n" out."""
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                file_id = self.path.rsplit("/", 1)[-1]
                fault = fake._take_fault("upload")
                fake._record(
                    Call("upload", {"file_id": file_id, "size": len(data)}, None, self.path)
                )
                if fault is not None:
                    time.sleep(fault.delay)
                if fault is not None and fault.error is not None:
                    status, answer = fault.status if fault.status != 200 else 500, fault.error
                elif fake._receive_upload(file_id, data):
                    status, answer = 200, f"OK - {len(data)}"
                else:
                    status, answer = 404, "not found"
                self._send_text(status, answer)

            def _send_text(self, status: int, answer: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(answer.encode())))
                self.end_headers()
                self.wfile.write(answer.encode())

            def _send(self, status: int, body: dict, headers: dict[str, str] | None = None):
                with contextlib.suppress(OSError):  # a caller that timed out has hung up
                    send_json(self, status, body, headers)

            def _caller_gone(self) -> bool:
                """The caller closed the connection before its call was answered (it timed
                out, or its process died): like Slack, drop the call undone."""
                readable, _, _ = select.select([self.connection], [], [], 0)
                if not readable:
                    return False
                try:
                    return self.connection.recv(1, socket.MSG_PEEK) == b""
                except OSError:
                    return True

        return Handler


def _token(kind: str, team_id: str, serial: int) -> str:
    """A token that names its kind and workspace, as long as a real one."""
    return f"{kind}-{team_id}-{serial}-".ljust(TOKEN_LENGTH, "x")
