"""The App Home tab."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.relationships import domain as rel
from bot.relationships.home import home_view
from bot.services import Services


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def show_home(event: dict, context: dict, client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        with services.db.read() as session:
            mine = rel.memberships(session, context["team_id"], event["user"])
        services.defer(client.views_publish, user_id=event["user"], view=home_view(mine))
