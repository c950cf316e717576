"""Socket Mode: Slack's deliveries over a WebSocket instead of HTTP. Slack has already
authenticated them (the app-level token), so what is left of ``bot/web.py``'s front door is
to strip the characters no database can store before any feature sees them."""

from __future__ import annotations

import time

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.web import storable
from bot.workers import SIGNAL_NAP_SECONDS


class StorableSocketModeHandler(SocketModeHandler):
    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        req.payload = storable(req.payload)
        super().handle(client, req)

    def start(self) -> None:  # type: ignore[override]
        """Connect, then idle until Ctrl-C or SIGTERM, in naps (see ``SIGNAL_NAP_SECONDS``):
        Bolt's own ``start`` waits on an event for good, and would never stop if the kernel
        handed the SIGTERM to one of the connection's threads."""
        self.connect()
        while True:
            time.sleep(SIGNAL_NAP_SECONDS)
