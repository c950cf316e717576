"""Buttons and menus. Every action re-checks who clicked: buttons can be replayed."""

from __future__ import annotations

import re

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.drift import alerts as drift_alerts
from bot.drift import blocks as drift_blocks
from bot.privacy import blocks as data_rights_blocks
from bot.privacy import rights as data_rights
from bot.relationships import blocks
from bot.relationships import domain as rel
from bot.relationships.models import Side
from bot.relationships.setup_modal import setup_modal
from bot.services import Services
from bot.slack import mrkdwn
from bot.slack.outbox import Outgoing, send_once

STALE_BUTTON = "That button is out of date. Run the command again for a fresh one."


def register(app: App, services: Services) -> None:
    @app.action("open_setup")
    def open_setup(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        services.defer(client.views_open, trigger_id=body["trigger_id"], view=setup_modal())

    @app.action("show_help")
    def show_help(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        services.defer(client.views_open, trigger_id=body["trigger_id"], view=blocks.help_modal())

    @app.action(re.compile(r"^use_relationship_\d+$"))
    def use_relationship(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        services.defer(_use_relationship, services, body, action, respond, apologise=respond)

    @app.action("drift_acknowledge")
    def acknowledge_drift(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        services.defer(
            _answer_drift_alert, services, body, action, respond, "acknowledge", apologise=respond
        )

    @app.action("drift_not_drift")
    def not_drift(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        services.defer(
            _answer_drift_alert, services, body, action, respond, "not_drift", apologise=respond
        )

    @app.action(re.compile(r"^map_organisation_[A-Z0-9]+$"))
    def map_organisation(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        services.defer(_map_organisation, services, body, action, respond, apologise=respond)

    @app.action("forget_me_confirm")
    def forget_me(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        if action.get("value") != user_id:  # a replayed button forgets nobody else
            ack()
            services.defer(
                respond, text=data_rights_blocks.FORGET_NOT_YOURS, replace_original=False
            )
            return
        with services.db.transaction() as session:
            report = data_rights.forget_person(session, team_id, user_id, services.clock.now())
        ack()
        services.defer(_after_forgetting, services, team_id, report, respond)

    @app.action("forget_me_cancel")
    def keep_me(ack: Ack, respond: Respond) -> None:
        ack()
        services.defer(respond, text=data_rights_blocks.FORGET_CANCELLED, replace_original=True)


def _use_relationship(services: Services, body: dict, action: dict, respond: Respond) -> None:
    if not action.get("value", "").isdigit():
        respond(text=STALE_BUTTON, replace_original=False)
        return
    try:
        with services.db.transaction() as session:
            chosen = rel.use_relationship(
                session, body["team"]["id"], body["user"]["id"], int(action["value"])
            )
    except rel.RapportError as error:
        respond(text=str(error), replace_original=False)
        return
    respond(
        text=f"Got it: your commands now act on *{mrkdwn.escape(chosen.name)}*. "
        "Run your command again.",
        replace_original=True,
    )


def _after_forgetting(
    services: Services, team_id: str, report: data_rights.ForgetReport, respond: Respond
) -> None:
    """Tell the person what went, then owners whose relationship lost its last owner on a side
    (through the send ledger, so a retried click doesn't tell them twice)."""
    respond(text=data_rights_blocks.forgotten_text(report), replace_original=True)
    for side in report.ownerless:
        text = data_rights_blocks.ownerless_notice_text(side)
        for owner in side.remaining_owners:
            key = f"side-without-owner:{side.relationship_id}:{side.membership_id}:{owner}"
            send_once(
                services.db,
                services.slack,
                Outgoing(team_id, key, owner, text),
                services.clock.now(),
            )


def _map_organisation(services: Services, body: dict, action: dict, respond: Respond) -> None:
    try:
        relationship_id, org_id, side_value, org_name = action["selected_option"]["value"].split(
            "|", 3
        )
        side = Side(side_value)
    except ValueError:
        respond(text=STALE_BUTTON, replace_original=False)
        return
    try:
        with services.db.transaction() as session:
            relationship = rel.get_relationship(session, body["team"]["id"], int(relationship_id))
            rel.map_organisation(session, relationship, body["user"]["id"], org_id, org_name, side)
            name = relationship.name
    except rel.RapportError as error:
        respond(text=str(error), replace_original=False)
        return
    respond(
        text=f"Everyone from *{mrkdwn.escape(org_name)}* now counts as the {side.value} "
        f"side of *{mrkdwn.escape(name)}*.",
        replace_original=False,
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
