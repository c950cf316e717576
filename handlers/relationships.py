"""Relationship listeners: the setup modal, the relationship-picker and organisation buttons,
help, and the App Home tab. Every button re-checks who clicked: buttons can be replayed."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.relationships import blocks
from bot.relationships import domain as rel
from bot.relationships.home import home_view
from bot.relationships.models import Side
from bot.relationships.setup_modal import CALLBACK_ID, draft_from_state, setup_modal
from bot.services import Services
from bot.slack import mrkdwn
from bot.slack.blocks import STALE_BUTTON
from bot.slack.channels import membership_problem


def register(app: App) -> None:
    app.action("open_setup")(open_setup)
    app.action("show_help")(show_help)
    app.action(re.compile(r"^use_relationship_\d+$"))(use_relationship)
    app.action(re.compile(r"^map_organisation_[A-Z0-9]+$"))(map_organisation)
    app.view(CALLBACK_ID)(create_relationship)
    app.event("app_home_opened")(show_home)


def open_setup(ack: Ack, body: dict, client: WebClient, services: Services) -> None:
    ack()
    services.defer(client.views_open, trigger_id=body["trigger_id"], view=setup_modal())


def show_help(ack: Ack, body: dict, client: WebClient, services: Services) -> None:
    ack()
    services.defer(client.views_open, trigger_id=body["trigger_id"], view=blocks.help_modal())


def use_relationship(
    ack: Ack, body: dict, action: dict, respond: Respond, services: Services
) -> None:
    ack()
    services.defer(_use_relationship, services, body, action, respond, apologise=respond)


def map_organisation(
    ack: Ack, body: dict, action: dict, respond: Respond, services: Services
) -> None:
    ack()
    services.defer(_map_organisation, services, body, action, respond, apologise=respond)


def create_relationship(
    ack: Ack, body: dict, view: dict, client: WebClient, services: Services
) -> None:
    team_id, creator = body["team"]["id"], body["user"]["id"]
    draft = draft_from_state(view["state"]["values"])
    now = services.clock.now()
    with services.db.transaction() as session:
        errors = rel.validate_draft(session, team_id, creator, draft)
        if not errors:  # its channels once Slack says the creator is in them
            bare = dataclasses.replace(draft, watched_channels=(), alerts_channel=None)
            relationship_id = rel.create_relationship(session, team_id, creator, bare, now).id
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    services.defer(add_channels, services, client, team_id, creator, relationship_id, draft, now)


def show_home(event: dict, context: dict, client: WebClient, services: Services) -> None:
    if event.get("tab") != "home":
        return
    with services.db.read() as session:
        mine = rel.memberships(session, context["team_id"], event["user"])
    services.defer(client.views_publish, user_id=event["user"], view=home_view(mine))


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


def add_channels(
    services: Services,
    client: WebClient,
    team_id: str,
    creator: str,
    relationship_id: int,
    draft: rel.RelationshipDraft,
    now: datetime,
) -> None:
    """Give a new relationship the channels picked in the modal that Slack says its creator
    is in, then tell the creator it is set up, and why any channel was left out."""
    problems = {
        channel_id: problem
        for channel_id in dict.fromkeys((*draft.watched_channels, draft.alerts_channel))
        if channel_id and (problem := membership_problem(client, channel_id, creator))
    }
    with services.db.transaction() as session:
        relationship = rel.get_relationship(session, team_id, relationship_id)
        for channel_id in draft.watched_channels:
            if channel_id not in problems:
                try:
                    rel.watch_channel(session, relationship, creator, channel_id, now)
                except rel.RapportError as error:  # watched elsewhere since the modal was sent
                    problems[channel_id] = str(error)
        if draft.alerts_channel and draft.alerts_channel not in problems:
            try:
                rel.set_alerts_channel(session, relationship, creator, draft.alerts_channel)
            except rel.RapportError as error:
                problems[draft.alerts_channel] = str(error)
        summary = rel.summarise(session, relationship)
    client.chat_postMessage(
        channel=creator,
        text=f"{mrkdwn.escape(summary.name)} is set up.",
        blocks=blocks.created_blocks(summary, list(problems.values())),
    )
