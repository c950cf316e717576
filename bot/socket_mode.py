"""Socket Mode: Slack's deliveries over a WebSocket instead of HTTP. Slack has already
authenticated them (the app-level token), so what is left of ``bot/web.py``'s front door is
to strip the characters no database can store before any feature sees them."""

from __future__ import annotations

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.web import storable


class StorableSocketModeHandler(SocketModeHandler):
    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        req.payload = storable(req.payload)
        super().handle(client, req)
