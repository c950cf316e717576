"""Modal submissions."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.relationships import blocks
from bot.relationships import domain as rel
from bot.relationships.setup_modal import CALLBACK_ID, draft_from_state
from bot.services import Services
from bot.slack import mrkdwn
from bot.slack.channels import membership_problem


def register(app: App, services: Services) -> None:
    @app.view(CALLBACK_ID)
    def create_relationship(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
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
        services.defer(
            add_channels, services, client, team_id, creator, relationship_id, draft, now
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
