"""Sending drift alerts and nudges to Slack (alerts through the exactly-once ledger)."""

from __future__ import annotations

from datetime import datetime

from slack_sdk import WebClient

from bot.drift.alerts import AlertNotice
from bot.drift.blocks import alert_message
from bot.drift.watch import Nudge
from bot.services import Services
from bot.slack import message_keys, mrkdwn
from bot.slack.outbox import Delivery, Outgoing, send_once


def send_alerts(services: Services, notices: list[AlertNotice], now: datetime) -> list[Delivery]:
    deliveries = []
    for notice in notices:
        text, blocks = alert_message(notice)
        for recipient in notice.recipients:
            message = Outgoing(
                team_id=recipient.team_id,
                key=message_keys.drift_alert(notice.alert_id, recipient.channel),
                channel=recipient.channel,
                text=text,
                blocks=blocks,
                relationship_id=notice.relationship_id,
            )
            deliveries.append(send_once(services.db, services.slack, message, now))
    return deliveries


def send_nudge(client: WebClient, nudge: Nudge) -> None:
    """Only the author sees it: an ephemeral message in the channel."""
    client.chat_postEphemeral(
        channel=nudge.channel_id,
        user=nudge.author_id,
        text=(
            "This reads like a formal request. Would a quick chat with "
            f"{mrkdwn.user(nudge.owner_id)} help first? Informal usually gets there faster."
        ),
    )
