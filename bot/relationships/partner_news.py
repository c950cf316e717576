"""Telling one side of a joint relationship what the other company did (joined, left,
uninstalled Rapport): a DM to each of its owners through their own workspace's installation,
through the send ledger, so a redelivered event or a retried follow-up tells nobody twice."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.relationships.blocks import side_left_notice
from bot.relationships.domain import Recipient
from bot.relationships.joint import Departure
from bot.services import Services
from bot.slack import message_keys
from bot.slack.outbox import Outgoing, send_once


def tell_owners(
    services: Services,
    relationship_id: int,
    owners: Iterable[Recipient],
    text: str,
    news: str,
    since: datetime,
) -> None:
    """``news`` and ``since`` name the event, so each owner hears of it once."""
    now = services.clock.now()
    for owner in owners:
        key = message_keys.partner_news(relationship_id, news, since, owner.channel)
        message = Outgoing(owner.team_id, key, owner.channel, text, relationship_id=relationship_id)
        send_once(services.db, services.slack, message, now)


def tell_departures(services: Services, left: list[Departure], since: datetime) -> None:
    for departure in left:
        text = side_left_notice(departure.relationship_name, departure.side, departure.org)
        news = f"{departure.side.value}-uninstalled"
        tell_owners(services, departure.relationship_id, departure.told, text, news, since)
