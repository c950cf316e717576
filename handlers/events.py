"""Events API: messages in watched channels (drift alerts)."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.drift.delivery import send_alerts, send_nudge
from bot.drift.signals import IncomingMessage, forget_message
from bot.drift.watch import observe
from bot.services import Services

CONVERSATION_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message", "bot_message"}


def incoming(team_id: str, channel_id: str, message: dict) -> IncomingMessage | None:
    """A message worth assessing; None for joins, topic changes and the like. Other bots'
    messages come through flagged, and count only where owners said so."""
    if message.get("subtype") not in CONVERSATION_SUBTYPES:
        return None
    author = message.get("user") or message.get("bot_id")
    if not author or not message.get("ts"):
        return None
    return IncomingMessage(
        team_id=team_id,
        channel_id=channel_id,
        ts=message["ts"],
        thread_ts=message.get("thread_ts"),
        author_id=author,
        from_bot=bool(message.get("bot_id")) or message.get("subtype") == "bot_message",
        author_team=message.get("user_team") or message.get("team"),
        text=message.get("text") or "",
    )


def deleted_ts(event: dict) -> str | None:
    """The ts of the message an event deletes, if it deletes one: a plain deletion, or a
    thread parent with replies, which Slack replaces by a tombstone (an edit) instead."""
    if event.get("subtype") == "message_deleted":
        return event.get("deleted_ts", "")
    changed = event.get("message") or {}
    if event.get("subtype") == "message_changed" and changed.get("subtype") == "tombstone":
        return changed.get("ts", "")
    return None


def register(app: App, services: Services) -> None:
    @app.event("message")
    def on_message(event: dict, body: dict, client: WebClient) -> None:
        team_id, channel_id = body["team_id"], event.get("channel", "")
        gone = deleted_ts(event)
        if gone is not None:
            with services.db.transaction() as session:
                forget_message(session, team_id, channel_id, gone)
            return
        edited = event.get("subtype") == "message_changed"
        message = incoming(team_id, channel_id, event["message"] if edited else event)
        if message is None:
            return
        now = services.clock.now()
        with services.db.read() as session:
            services.drift_configs.prepare(session, team_id, channel_id)
        with services.db.transaction() as session:
            observation = observe(session, message, now, services.drift_configs, edited)
        if observation.notices:
            services.defer(send_alerts, services, observation.notices, now)
        if observation.nudge is not None:
            services.defer(send_nudge, client, observation.nudge)
