"""Drift-alert buttons: an owner acknowledges an alert, or says it wasn't drift.
Every button re-checks who clicked: buttons can be replayed."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond

from bot.drift import alerts as drift_alerts
from bot.drift import blocks as drift_blocks
from bot.relationships import domain as rel
from bot.services import Services
from bot.slack import mrkdwn
from bot.slack.blocks import STALE_BUTTON


def register(app: App) -> None:
    app.action("drift_acknowledge")(acknowledge_drift)
    app.action("drift_not_drift")(not_drift)


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
