"""Drift listeners: messages in watched channels (the Events API), and the alert buttons, with
which an owner acknowledges an alert or says it wasn't drift. Every button re-checks who
clicked: buttons can be replayed."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.drift import alerts as drift_alerts
from bot.drift import blocks as drift_blocks
from bot.drift.delivery import send_alerts, send_nudge
from bot.drift.signals import IncomingMessage, forget_message
from bot.drift.watch import observe
from bot.relationships import domain as rel
from bot.services import Services
from bot.slack import mrkdwn
from bot.slack.blocks import STALE_BUTTON

CONVERSATION_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message", "bot_message"}


def register(app: App) -> None:
    app.event("message")(on_message)
    app.action("drift_acknowledge")(acknowledge_drift)
    app.action("drift_not_drift")(not_drift)


def on_message(event: dict, body: dict, client: WebClient, services: Services) -> None:
    """Assess a message in a watched channel; forget one that was deleted."""
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


def acknowledge_drift(
    ack: Ack, body: dict, action: dict, respond: Respond, services: Services
) -> None:
    ack()
    services.defer(
        _answer_drift_alert, services, body, action, respond, "acknowledge", apologise=respond
    )


def not_drift(ack: Ack, body: dict, action: dict, respond: Respond, services: Services) -> None:
    ack()
    services.defer(
        _answer_drift_alert, services, body, action, respond, "not_drift", apologise=respond
    )


def _answer_drift_alert(
    services: Services, body: dict, action: dict, respond: Respond, answer: str
) -> None:
    if not action.get("value", "").isdigit():
        respond(text=STALE_BUTTON, replace_original=False)
        return
    team_id, user_id, alert_id = body["team"]["id"], body["user"]["id"], int(action["value"])
    try:
        with services.db.transaction() as session:
            if answer == "acknowledge":
                drift_alerts.acknowledge(session, team_id, alert_id, user_id)
                note = f"Acknowledged by {mrkdwn.user(user_id)}."
            else:
                calmed = drift_alerts.not_drift(session, team_id, alert_id, user_id)
                services.drift_configs.forget(drift_alerts.relationship_of(session, alert_id))
                note = f"{mrkdwn.user(user_id)} marked this as not drift" + (
                    ": those cues will count for less in this relationship." if calmed else "."
                )
    except rel.RapportError as error:
        respond(text=str(error), replace_original=False)
        return
    original = (body.get("message") or {}).get("blocks") or []
    respond(text=note, blocks=drift_blocks.answered_blocks(original, note), replace_original=True)


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
