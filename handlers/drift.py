"""Drift listeners: messages in watched channels (the Events API), ``/rapport drift …``, and
the alert buttons, with which an owner acknowledges an alert or says it wasn't drift. Every
button re-checks who clicked: buttons can be replayed."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.drift import alerts as drift_alerts
from bot.drift import blocks as drift_blocks
from bot.drift import settings as drift_settings
from bot.drift.delivery import send_alerts, send_nudge
from bot.drift.signals import IncomingMessage, forget_message, score_ahead
from bot.drift.watch import observe
from bot.relationships import domain as rel
from bot.relationships.parser import RapportCommand
from bot.services import Services
from bot.slack import mrkdwn
from handlers.routing import Call, Click, Reply, Router, button, number

CONVERSATION_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message", "bot_message"}


def register(app: App, rapport: Router[RapportCommand]) -> None:
    """The buttons and ``/rapport drift``; ``on_message`` is registered first of all, by
    ``create_app``."""
    # operations that only read: a cue set compiled for them never holds the write lock
    rapport.add("drift settings", show_settings, reads_only=True)
    rapport.add("drift words-list", list_words, reads_only=True)
    rapport.add("drift try", try_message, reads_only=True)
    rapport.add("drift words-add", add_word)
    rapport.add("drift words-remove", remove_word)
    rapport.add("drift bots", count_bots)
    rapport.add("drift excerpts", show_excerpts)
    rapport.add("drift nudge", set_nudge)
    rapport.add("drift set", set_threshold)
    app.action("drift_acknowledge")(button(acknowledge_drift, number))
    app.action("drift_not_drift")(button(not_drift, number))


def on_message(event: dict, body: dict, client: WebClient, services: Services) -> None:
    """Assess a message in a watched channel; forget one that was deleted."""
    channel_id = event.get("channel", "")
    team_id = _home_team(services, body["team_id"], channel_id)
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
    scored = score_ahead(services.drift_configs, message)  # prepared by _home_team
    with services.db.transaction() as session:
        observation = observe(session, message, now, services.drift_configs, edited, scored)
    if observation.notices:
        services.defer(send_alerts, services, observation.notices, now)
    if observation.nudge is not None:
        services.defer(send_nudge, client, observation.nudge)


def _home_team(services: Services, team_id: str, channel_id: str) -> str:
    """The workspace the channel is watched in. In a Slack Connect channel a joint
    relationship watches, Slack names either company's installation: the message is
    stored once, under the workspace that created the relationship, whichever it is."""
    configs = services.drift_configs
    if configs.prepared(team_id, channel_id) is None:
        with services.db.read() as session:
            configs.prepare(session, team_id, channel_id)
    return configs.home_team(team_id, channel_id)


def acknowledge_drift(session: Session, click: Click[int]) -> Reply:
    return _answer_drift_alert(session, click, "acknowledge")


def not_drift(session: Session, click: Click[int]) -> Reply:
    return _answer_drift_alert(session, click, "not_drift")


Drift = Call[RapportCommand]


def show_settings(session: Session, call: Drift) -> Reply:
    relationship = _relationship(session, call)
    settings, overview = drift_settings.settings_overview(session, relationship)
    return Reply(text=drift_blocks.settings_text(relationship.name, settings, overview))


def list_words(session: Session, call: Drift) -> Reply:
    relationship = _relationship(session, call)
    operands = call.command.args[1:]
    kind = operands[0] if operands else None
    overview = drift_settings.words_overview(session, relationship, kind)
    page = int(operands[1]) if len(operands) > 1 else 1
    return Reply(text=drift_blocks.words_text(overview, page))


def add_word(session: Session, call: Drift) -> Reply:
    relationship = _relationship(session, call)
    _, kind, words = call.command.args
    kind, left = drift_settings.add_word(session, relationship, call.user_id, kind, words)
    return Reply(
        text=f"“{mrkdwn.escape(words)}” now counts as {kind} in "
        f"*{mrkdwn.escape(relationship.name)}*. {drift_blocks.words_left_text(left)}"
    )


def remove_word(session: Session, call: Drift) -> Reply:
    relationship = _relationship(session, call)
    _, kind, words = call.command.args
    kind = drift_settings.remove_word(session, relationship, call.user_id, kind, words)
    return Reply(
        text=f"“{mrkdwn.escape(words)}” no longer counts as {kind} in "
        f"*{mrkdwn.escape(relationship.name)}*."
    )


def try_message(session: Session, call: Drift) -> Reply:
    relationship = _relationship(session, call)
    message = call.command.args[1]
    tried = drift_settings.try_message(session, relationship, call.user_id, message)
    return Reply(text=drift_blocks.try_text(relationship.name, message, tried))


def count_bots(session: Session, call: Drift) -> Reply:
    relationship = _relationship(session, call)
    on = call.command.args[1] == "on"
    drift_settings.set_include_bots(session, relationship, call.user_id, on)
    counted = "count" if on else "don't count"
    return Reply(text=f"Other bots' messages {counted} in *{mrkdwn.escape(relationship.name)}*.")


def show_excerpts(session: Session, call: Drift) -> Reply:
    relationship = _relationship(session, call)
    kept = drift_settings.excerpts(session, relationship, call.user_id)
    return Reply(text=drift_blocks.excerpts_text(relationship.name, kept))


def set_nudge(session: Session, call: Drift) -> Reply:
    relationship = _relationship(session, call)
    state = call.command.args[1]
    drift_settings.set_nudge(session, relationship, call.user_id, state == "on")
    return Reply(text=f"Gentle nudges are {state} for *{mrkdwn.escape(relationship.name)}*.")


def set_threshold(session: Session, call: Drift) -> Reply:
    relationship = _relationship(session, call)
    shown = drift_settings.set_threshold(
        session, relationship, call.user_id, *call.command.args[1:]
    )
    return Reply(text=f"Drift alerts for *{mrkdwn.escape(relationship.name)}*: {shown}.")


def _relationship(session: Session, call: Drift) -> rel.Relationship:
    """The relationship the command acts on; this process forgets its cached drift settings,
    so it sees owners' changes at once."""
    relationship = call.relationship(session)
    call.services.drift_configs.forget(relationship.id)
    return relationship


def _answer_drift_alert(session: Session, click: Click[int], answer: str) -> Reply:
    """Note the owner's answer in place of the alert's buttons."""
    team_id, user_id, alert_id = click.team_id, click.user_id, click.value
    if answer == "acknowledge":
        drift_alerts.acknowledge(session, team_id, alert_id, user_id)
        note = f"Acknowledged by {mrkdwn.user(user_id)}."
    else:
        changed = drift_alerts.not_drift(session, team_id, alert_id, user_id)
        click.services.drift_configs.forget(drift_alerts.relationship_of(session, alert_id))
        note = drift_blocks.not_drift_note(user_id, changed)
    blocks = drift_blocks.answered_blocks(click.message_blocks, note)
    return Reply(text=note, blocks=blocks, replace_original=True)


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
