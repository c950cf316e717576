"""App Home: published when someone opens the tab, after the ack (Slack waits on nothing)."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.home.publish import show_home
from bot.services import Services


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)


def home_opened(event: dict, context: dict, client: WebClient, services: Services) -> None:
    if event.get("tab") != "home":
        return
    services.defer(show_home, services, client, context["team_id"], event["user"])
