"""Slack telling Rapport it was uninstalled, or that its bot token was revoked."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from bot.slack.installations import uninstall


def register(app: App, services: Services) -> None:
    def stop_sending(team_id: str) -> None:
        uninstall(services.db, services.installations, team_id, services.clock.now())

    @app.event("app_uninstalled")
    def on_uninstalled(body: dict) -> None:
        stop_sending(body["team_id"])

    @app.event("tokens_revoked")
    def on_tokens_revoked(event: dict, body: dict) -> None:
        if event.get("tokens", {}).get("bot"):  # Rapport holds no user tokens
            stop_sending(body["team_id"])
