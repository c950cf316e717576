"""Slack telling Rapport it was uninstalled, or that its bot token was revoked."""

from __future__ import annotations

from slack_bolt import App

from bot.relationships.joint import departures
from bot.relationships.partner_news import tell_departures
from bot.services import Services
from bot.slack import workspaces
from bot.slack.installations import uninstall


def register(app: App) -> None:
    app.event("app_uninstalled")(on_uninstalled)
    app.event("tokens_revoked")(on_tokens_revoked)


def on_uninstalled(body: dict, services: Services) -> None:
    _stop_sending(services, body["team_id"])


def on_tokens_revoked(event: dict, body: dict, services: Services) -> None:
    if event.get("tokens", {}).get("bot"):  # Rapport holds no user tokens
        _stop_sending(services, body["team_id"])


def _stop_sending(services: Services, team_id: str) -> None:
    """Stop at once; the other company's owners in a joint relationship hear it once."""
    uninstall(services.db, services.installations, team_id, services.clock.now())
    services.slack.forget(team_id)
    with services.db.read() as session:
        left = departures(session, team_id)
        since = workspaces.uninstalled_since(session, team_id)
    if left and since is not None:
        services.defer(tell_departures, services, left, since)
