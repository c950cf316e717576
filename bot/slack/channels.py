"""What Rapport needs to know about a channel before watching it or posting alerts there,
asked of Slack."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack import mrkdwn

logger = logging.getLogger(__name__)

MEMBERS_PAGE = 1000  # conversations.members' largest page


@dataclass(frozen=True)
class ChannelFacts:
    needs_invite: bool  # private channel the bot isn't in: a person must /invite it
    organisations: list[tuple[str, str]]  # (team id, name) when shared by several orgs


def prepare_watched_channel(client: WebClient, channel_id: str) -> ChannelFacts:
    """Join a public channel if needed and find the organisations sharing it.

    Raises ``SlackApiError`` (e.g. ``channel_not_found`` for a private channel we can't see).
    """
    info = client.conversations_info(channel=channel_id)["channel"]
    needs_invite = not _join(client, info)
    team_ids = list(
        dict.fromkeys(info.get("shared_team_ids") or info.get("connected_team_ids") or [])
    )
    organisations = []
    if info.get("is_ext_shared") and len(team_ids) >= 2:
        organisations = [(team_id, _team_name(client, team_id)) for team_id in team_ids]
    return ChannelFacts(needs_invite=needs_invite, organisations=organisations)


def join_channel(client: WebClient, channel_id: str) -> bool:
    """Join a public channel Rapport is to post in; False when it's private and a person
    must ``/invite`` Rapport. Raises ``SlackApiError`` (``channel_not_found`` for a private
    channel Rapport isn't in)."""
    return _join(client, client.conversations_info(channel=channel_id)["channel"])


def is_channel_member(client: WebClient, channel_id: str, user_id: str) -> bool:
    """Whether ``user_id`` is in the channel, as Slack reports its membership, page by page
    until found. Raises ``SlackApiError`` (``channel_not_found`` for a private channel
    Rapport isn't in)."""
    cursor = None
    while True:
        page = client.conversations_members(channel=channel_id, limit=MEMBERS_PAGE, cursor=cursor)
        if user_id in page["members"]:
            return True
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return False


def membership_problem(client: WebClient, channel_id: str, user_id: str) -> str | None:
    """Why ``user_id`` can't pick the channel for their relationship, or None when Slack
    says they are in it. Only members may: otherwise an owner could watch, or send alerts
    into, a channel of people they don't share it with."""
    channel = mrkdwn.channel(channel_id)
    try:
        if is_channel_member(client, channel_id, user_id):
            return None
    except SlackApiError as error:
        failure = str(error.response.get("error") or "unknown_error")
        if failure in ("channel_not_found", "not_in_channel"):
            return (
                f"I can't see {channel}. If it's private, type `/invite @Rapport` in it "
                "first, then try again."
            )
    except (SlackClientError, OSError) as error:  # retries exhausted: timeouts, connection
        failure = type(error).__name__
    else:
        return (
            f"You're not in {channel}, so I can't use it for your relationship. Join it "
            "first, or pick a channel you're in."
        )
    logger.warning("channel membership not checked: %s", failure)
    return f"Slack couldn't tell me who is in {channel}. Please try again in a moment."


def _join(client: WebClient, info: dict) -> bool:
    """True when Rapport is a member of the channel ``info`` describes, joining it if public."""
    if info.get("is_member"):
        return True
    if info.get("is_private"):
        return False
    client.conversations_join(channel=info["id"])
    return True


def _team_name(client: WebClient, team_id: str) -> str:
    try:
        return client.team_info(team=team_id)["team"]["name"]
    except SlackApiError:
        return team_id
