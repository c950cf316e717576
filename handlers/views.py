"""Modal submissions."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import blocks, mrkdwn
from bot import relationships as rel
from bot.services import Services
from bot.setup_modal import CALLBACK_ID, draft_from_state


def register(app: App, services: Services) -> None:
    @app.view(CALLBACK_ID)
    def create_relationship(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        team_id, creator = body["team"]["id"], body["user"]["id"]
        draft = draft_from_state(view["state"]["values"])
        with services.db.transaction() as session:
            errors = rel.validate_draft(session, team_id, creator, draft)
            if not errors:
                relationship = rel.create_relationship(
                    session, team_id, creator, draft, services.clock.now()
                )
                summary = rel.summarise(session, relationship)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        services.defer(
            client.chat_postMessage,
            channel=creator,
            text=f"{mrkdwn.escape(summary.name)} is set up.",
            blocks=blocks.created_blocks(summary),
        )
