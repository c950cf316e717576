"""Telling a joint relationship's other side that one company uninstalled Rapport: through
the send ledger, so a redelivered ``app_uninstalled`` event tells nobody twice."""

from __future__ import annotations

from datetime import datetime

from bot.relationships.blocks import side_left_notice
from bot.relationships.joint import Departure
from bot.services import Services
from bot.slack import message_keys
from bot.slack.outbox import Outgoing, send_once


def tell_departures(services: Services, left: list[Departure], since: datetime) -> None:
    now = services.clock.now()
    for departure in left:
        text = side_left_notice(departure.relationship_name, departure.side, departure.org)
        for owner in departure.told:
            key = message_keys.side_left(
                departure.relationship_id, departure.side.value, since, owner.channel
            )
            message = Outgoing(
                owner.team_id, key, owner.channel, text, relationship_id=departure.relationship_id
            )
            send_once(services.db, services.slack, message, now)
