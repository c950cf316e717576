"""Slack Connect in the fake Slack: several workspaces, each with its own installation of
Rapport, and channels they share, answered as Slack documents it.

The facts followed (docs.slack.dev: "Understanding Slack Connect", the
``apps.event.authorizations.list`` reference, the 2020-09-15 changelog "Events API truncate
authed users", the ``app_uninstalled`` and ``tokens_revoked`` events, the auth errors):

- A shared channel has the same id in every workspace connected to it (each may name it its
  own way). ``conversations.info`` answers any connected workspace's token with
  ``is_shared`` and ``is_ext_shared`` true, ``connected_team_ids`` and the host
  (``conversation_host_id``), ``is_member`` meaning that workspace's bot; any other token gets
  ``channel_not_found`` (its history too). ``conversations.members`` lists the people of
  every organisation in it, and the bot of each installation in it.
- ``users.info`` shows a workspace its own people in full. Someone of another workspace who
  shares a channel with the token's bot is an *external member*: ``team_id`` is their home,
  and only what Slack shares: names and profile, no time zone, locale or email (the
  documented example carries none). Someone of a connected organisation sharing no channel
  with the bot is a *stranger* (``is_stranger: true``); anyone else is ``user_not_found``.
- "Bot users can DM all local users in the workspace they are installed in and external users
  with a common shared channel": such a DM is carried out, as Slack would, and
  ``cross_workspace_dms`` lists it, so a test can insist each side is reached through its own
  installation. A DM to someone the token's workspace can't reach is refused:
  ``conversations.open`` answers ``user_not_visible`` for a stranger and ``user_not_found``
  for anyone else; ``chat.postMessage`` to their user id ``channel_not_found``.
- "No duplicated event triggering between shared channels": an event is delivered once,
  naming one installation that can see it in ``authorizations`` (the envelope's ``team_id``
  mirrors it; which one is Slack's choice), with ``is_ext_shared_channel: true`` and an
  ``event_context``; ``apps.event.authorizations.list`` (an app-level token with
  ``authorizations:read``) lists every installation that can see it.
- Uninstalling revokes every token of that installation, which then answer
  ``token_revoked`` ("the app has been removed"), and its bot leaves the shared channels;
  Slack sends ``tokens_revoked`` and ``app_uninstalled``, in no guaranteed order.
"""

from __future__ import annotations

import base64
import json
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.support.fake_slack_pages import cursor_page

# what users.info shows of someone of another organisation
EXTERNAL_FIELDS = ("id", "team_id", "name", "real_name", "deleted", "is_bot")
DM_METHODS = ("chat.postMessage", "chat.scheduleMessage", "conversations.open")
SHARED_CHANNEL_METHODS = (
    "conversations.info",
    "conversations.join",
    "conversations.members",
    "conversations.history",
    "conversations.replies",
    "chat.postMessage",
)


@dataclass
class SharedChannel:
    """A Slack Connect channel: the workspaces connected to it, the host first, its name in
    each, and the workspaces whose Rapport bot is in it."""

    teams: list[str]
    names: dict[str, str]
    bots: set[str] = field(default_factory=set)


class FakeSlackConnect:
    """The Slack Connect half of ``FakeSlack``, which holds the directory, the calls and the
    issued tokens, names its own workspace ``default_team`` and provides ``add_channel``,
    ``_post``, ``_history``, ``_next_ts``, ``team_of`` and ``blocks_refused``."""

    users: dict[str, dict[str, Any]]
    channels: dict[str, dict[str, Any]]
    channel_members: dict[str, list[str]]
    messages: dict[str, list[dict[str, Any]]]
    refusals: dict[str, str]
    teams: dict[str, str]
    bot_tokens: dict[str, str]
    _refresh_tokens: dict[str, str]
    calls: list[Any]
    bot_user: str
    bot_id: str
    default_team: str
    _lock: threading.Lock
    _ids: Iterator[int]

    def _init_connect(self) -> None:
        self.shared: dict[str, SharedChannel] = {}
        self._revoked: dict[str, int] = {}  # team -> its tokens issued before this are revoked
        self._event_contexts: dict[str, str] = {}  # event_context -> its channel
        # picks the installation a delivery names when the test leaves it to Slack
        self.deliveries = random.Random(0)

    # -- set-up ----------------------------------------------------------------------------
    def add_team(self, team_id: str, name: str) -> None:
        """A workspace, before or without an installation of Rapport."""
        with self._lock:
            self.teams[team_id] = name

    def share_channel(
        self,
        channel_id: str,
        name: str,
        teams: tuple[str, ...],
        members: tuple[str, ...] = (),
        bots: tuple[str, ...] | None = None,
        names: dict[str, str] | None = None,
    ) -> None:
        """A Slack Connect channel hosted by ``teams[0]`` and connected to the others, with
        ``members`` from any of them (added with ``add_user(..., team=...)``) and the Rapport
        bots of ``bots`` in it: by default of every workspace that installed Rapport, or the
        default one when none did through OAuth (one token in the environment)."""
        strangers = [u for u in members if self.users[u]["team_id"] not in teams]
        if strangers:
            raise ValueError(f"{strangers} belong to none of {teams}")
        if bots is None:
            bots = tuple(t for t in teams if t in self.bot_tokens) or (self.default_team,)
        self.add_channel(channel_id, name, members, is_shared=True, is_ext_shared=True)
        with self._lock:
            self.shared[channel_id] = SharedChannel(
                list(teams), {team: name for team in teams} | (names or {}), set(bots)
            )

    def bot_user_of(self, team: str) -> str:
        """Rapport's bot user in ``team``: each installation has its own."""
        return self.bot_user if team == self.default_team else f"UBOT{team[1:]}"

    def bot_id_of(self, team: str) -> str:
        return self.bot_id if team == self.default_team else f"BRAPPORT{team[1:]}"

    def installed(self, team: str) -> bool:
        """Whether Rapport is installed in ``team`` and its token still works."""
        token = self.bot_tokens.get(team)
        if token is None:
            return team == self.default_team and team not in self._revoked
        return not self.token_revoked(token)

    def uninstall(self, team: str) -> list[dict[str, Any]]:
        """``team``'s admins remove Rapport: every token issued there so far is revoked, its
        refresh tokens too, and its bot leaves the shared channels. Returns the events Slack
        then sends (``SlackRequests.uninstall`` delivers them)."""
        with self._lock:
            self._revoked[team] = next(self._ids)
            for refresh, owner in list(self._refresh_tokens.items()):
                if owner == team:
                    del self._refresh_tokens[refresh]
            for shared in self.shared.values():
                shared.bots.discard(team)
        revoked = {
            "type": "tokens_revoked",
            "tokens": {"oauth": [], "bot": [self.bot_user_of(team)]},
        }
        return [revoked, {"type": "app_uninstalled"}]

    def token_revoked(self, token: str | None) -> bool:
        """A workspace token issued before its workspace uninstalled Rapport."""
        if not token or token.startswith("xapp-"):
            return False
        team = self.team_of(token)
        parts = token.split("-")
        serial = int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else 0
        return team in self._revoked and serial < self._revoked[team]

    # -- events ----------------------------------------------------------------------------
    def shared_channel_delivery(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        via: str | None = None,
        ts: str | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        """``user`` posts ``text`` in the shared ``channel``; returns the envelope Slack
        delivers once, under ``via``'s installation (by default one of those that can see
        it, drawn from ``deliveries``). Raises ``ValueError`` for an installation that can't
        see it: Slack would never name it."""
        seeing = [auth["team_id"] for auth in self.event_authorizations(channel)]
        if not seeing:
            raise ValueError(f"no installation of Rapport is in {channel}: nothing is delivered")
        via = via or self.deliveries.choice(seeing)
        if via not in seeing:
            raise ValueError(f"{via}'s installation can't see {channel} (it sees {seeing})")
        home = self.users[user]["team_id"]
        ts = ts or self._next_ts()
        message = {"type": "message", "user": user, "text": text, "ts": ts, "team": home}
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self._lock:
            self.messages.setdefault(channel, []).append(dict(message))
            serial = next(self._ids)
        # Slack's event_context is opaque; this one names the channel the event happened in
        context = (
            "4-"
            + base64.urlsafe_b64encode(json.dumps({"cid": channel, "n": serial}).encode()).decode()
        )
        with self._lock:
            self._event_contexts[context] = channel
        event = {
            **message,
            "channel": channel,
            "channel_type": "channel",
            "client_msg_id": f"{serial:08d}-0000-4000-8000-000000000000",
            "user_team": home,  # the author's home workspace
            "source_team": home,  # the workspace the message was sent from
            "event_ts": ts,
        }
        return {
            "team_id": via,
            "context_team_id": via,
            "context_enterprise_id": None,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev0C{serial:07d}",
            "event_time": int(float(ts)),
            "authorizations": [self._authorization(via)],
            "is_ext_shared_channel": True,
            "event_context": context,
        }

    def event_authorizations(self, channel: str) -> list[dict[str, Any]]:
        """The installations that can see an event in ``channel``: those whose bot is in it."""
        shared = self.shared.get(channel)
        if shared is None:
            raise ValueError(f"{channel} isn't a shared channel (see share_channel)")
        return [
            self._authorization(team)
            for team in shared.teams
            if team in shared.bots and self.installed(team)
        ]

    def _authorization(self, team: str) -> dict[str, Any]:
        return {
            "enterprise_id": None,
            "team_id": team,
            "user_id": self.bot_user_of(team),
            "is_bot": True,
            "is_enterprise_install": False,
        }

    # -- assertions ------------------------------------------------------------------------
    def cross_workspace_dms(self) -> list[Any]:
        """The DM calls (``conversations.open``, ``chat.postMessage``, …) made with one
        workspace's token to someone whose home is another workspace, whether Slack did
        them or refused them: [] when each side was reached through its own installation."""
        with self._lock:
            calls = [call for call in self.calls if call.method in DM_METHODS]
        return [
            call
            for call in calls
            if any(
                self.users[user]["team_id"] != self.team_of(call.token)
                for user in self._dm_targets(call.method, call.args)
            )
        ]

    def _dm_targets(self, method: str, args: dict[str, Any]) -> list[str]:
        """The people a call would DM: ``users`` of conversations.open, or the person a
        ``channel`` names (their user id, or the fake's ``D`` id of a DM with them)."""
        if method == "conversations.open":
            named = str(args.get("users", "")).split(",")
        else:
            channel = str(args.get("channel", ""))
            named = [channel]
            if channel.startswith("D"):
                named = ["U" + channel[1:], "W" + channel[1:]]
        return [user for user in named if user in self.users]

    # -- answers ---------------------------------------------------------------------------
    def connect_answer(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> dict[str, Any] | None:
        """Slack's answer where several workspaces make a difference, or None to answer as
        in one workspace."""
        if self.token_revoked(token):
            return {"ok": False, "error": "token_revoked"}
        team = self.team_of(token)
        if method == "auth.test":
            return self._auth_test(team)
        if method == "apps.event.authorizations.list":
            return self._listed_authorizations(args, token)
        if method == "users.info":
            return self._user_info(str(args.get("user", "")), team)
        if method in SHARED_CHANNEL_METHODS and args.get("channel") in self.shared:
            return self._in_shared_channel(method, args, team)
        if method in DM_METHODS:
            return self._dm_refusal(method, args, team)
        return None

    def _auth_test(self, team: str) -> dict[str, Any]:
        name = self.teams[team]
        return {
            "ok": True,
            "url": f"https://{name.lower()}.slack.com/",
            "team": name,
            "user": "rapport",
            "team_id": team,
            "user_id": self.bot_user_of(team),
            "bot_id": self.bot_id_of(team),
            "is_enterprise_install": False,
        }

    def _listed_authorizations(self, args: dict[str, Any], token: str | None) -> dict:
        """apps.event.authorizations.list: only an app-level token (``xapp-``) may hold
        ``authorizations:read``; Slack's reference lists no error for a bot token, so this
        answers ``not_allowed_token_type``, its generic one for a token of the wrong type."""
        if not (token or "").startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        channel = self._event_contexts.get(str(args.get("event_context", "")))
        if channel is None:
            return {"ok": False, "error": "invalid_event_context"}
        return cursor_page(self.event_authorizations(channel), args, "authorizations")

    def _user_info(self, user_id: str, team: str) -> dict[str, Any]:
        user = self.users.get(user_id) or self._bot_user(user_id)
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        if user["team_id"] == team:
            return {"ok": True, "user": user}
        if self._shares_channel(team, user_id):
            return {"ok": True, "user": _external(user, stranger=False)}
        if user["team_id"] in self._connected_teams(team):
            return {"ok": True, "user": _external(user, stranger=True)}
        return {"ok": False, "error": "user_not_found"}

    def _bot_user(self, user_id: str) -> dict[str, Any] | None:
        for team in list(self.teams):
            if user_id == self.bot_user_of(team):
                return {
                    "id": user_id,
                    "team_id": team,
                    "name": "rapport",
                    "real_name": "Rapport",
                    "deleted": False,
                    "is_bot": True,
                }
        return None

    def _shares_channel(self, team: str, user_id: str) -> bool:
        """Whether ``team``'s bot is in a shared channel with ``user_id``."""
        with self._lock:
            return any(
                team in shared.bots
                and (
                    user_id in self.channel_members.get(channel, [])
                    or user_id in {self.bot_user_of(t) for t in shared.bots}
                )
                for channel, shared in self.shared.items()
            )

    def _connected_teams(self, team: str) -> set[str]:
        with self._lock:
            return {t for s in self.shared.values() if team in s.teams for t in s.teams}

    def channel_bots(self, channel_id: str) -> list[str]:
        """The Rapport bot users in a channel: one per installation in a shared channel."""
        shared = self.shared.get(channel_id)
        if shared is None:
            return [self.bot_user] if self.channels[channel_id]["is_member"] else []
        return [self.bot_user_of(team) for team in shared.teams if team in shared.bots]

    def _channel_view(self, channel_id: str, team: str) -> dict[str, Any]:
        shared = self.shared[channel_id]
        return {
            **self.channels[channel_id],
            "name": shared.names[team],
            "is_member": team in shared.bots,
            "is_org_shared": False,
            "connected_team_ids": list(shared.teams),
            "conversation_host_id": shared.teams[0],
            "context_team_id": team,  # the workspace asking
        }

    def _in_shared_channel(self, method: str, args: dict[str, Any], team: str) -> dict:
        channel_id = args["channel"]
        shared = self.shared[channel_id]
        if team not in shared.teams:
            return {"ok": False, "error": "channel_not_found"}
        if method == "conversations.join":
            with self._lock:
                shared.bots.add(team)
        if method in ("conversations.info", "conversations.join"):
            return {"ok": True, "channel": self._channel_view(channel_id, team)}
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, args)
        if method == "conversations.members":
            return cursor_page(
                self.channel_members[channel_id] + self.channel_bots(channel_id), args, "members"
            )
        refused = self.blocks_refused(method, args, team)
        if refused is not None:
            return refused
        if channel_id in self.refusals or self.channels[channel_id]["is_archived"]:
            return {"ok": False, "error": self.refusals.get(channel_id, "is_archived")}
        if team not in shared.bots:
            return {"ok": False, "error": "not_in_channel"}
        ts = self._next_ts()
        message = self._post(channel_id, args, ts)
        message.update(bot_id=self.bot_id_of(team), user=self.bot_user_of(team), team=team)
        return {"ok": True, "channel": channel_id, "ts": ts, "message": dict(message)}

    def _dm_refusal(self, method: str, args: dict[str, Any], team: str) -> dict | None:
        """Refuse a DM to someone ``team``'s bot shares no channel with; None lets it go."""
        for user in self._dm_targets(method, args):
            if self.users[user]["team_id"] == team or self._shares_channel(team, user):
                continue
            if method != "conversations.open":
                return {"ok": False, "error": "channel_not_found"}
            stranger = self.users[user]["team_id"] in self._connected_teams(team)
            return {"ok": False, "error": "user_not_visible" if stranger else "user_not_found"}
        return None


def _external(user: dict[str, Any], stranger: bool) -> dict[str, Any]:
    """What users.info shows another organisation of ``user``: see the module docstring."""
    shown = {key: user[key] for key in EXTERNAL_FIELDS if key in user}
    shown["profile"] = {
        "real_name": user.get("real_name", ""),
        "display_name": user.get("name", ""),
        "team": user["team_id"],
        "image_24": f"https://avatars.example/{user['id']}_24.png",
    }
    shown["is_stranger"] = stranger
    return shown
