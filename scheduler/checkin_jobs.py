"""The check-in tick: send due reminders, follow-ups and lapse alerts, exactly once.

Selects due ``checkin_tasks`` by their indexed ``next_due_at`` (see ``bot.checkins.schedule``
for the missed-while-down policy) and sends through ``bot.slack.outbox.send_once`` with keys
``checkin-reminder:{occurrence}:{user|channel}:{offset}``, ``checkin-followup:{occurrence}``
and ``checkin-lapse:…``, so a repeated tick, a restart or a second process sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bot.checkins import schedule as checkin_schedule
from bot.checkins.blocks import follow_up_message, lapse_message, reminder_message
from bot.checkins.schedule import DueWork, FollowUp, Reminder
from bot.services import Services
from bot.slack import message_keys
from bot.slack.outbox import Outgoing, send_once
from bot.slack.timezones import user_timezone
from scheduler.jobs import Job

logger = logging.getLogger(__name__)

MAX_BATCHES = 5  # per tick; more waits for the next tick


def run_checkin_tick(services: Services) -> int:
    """Handle due check-in work; returns how many messages were sent."""
    db, now = services.db, services.clock.now()
    sent = 0
    for _ in range(MAX_BATCHES):
        with db.transaction() as session:
            due = checkin_schedule.due_task_ids(session, now)
        if not due:
            break
        for task_id in due:
            try:
                sent += _handle(services, task_id, now)
            except Exception:  # one broken task must not hold up the others
                logger.exception("check-in task %s failed; retrying later", task_id)
                with db.transaction() as session:
                    checkin_schedule.retry_later(session, task_id, now)
    if sent:
        logger.info("check-in tick: sent %d message(s)", sent)
    return sent


def _handle(services: Services, task_id: int, now: datetime) -> int:
    db = services.db
    with db.transaction() as session:
        work = checkin_schedule.take(session, task_id, now)
    if work is None:
        return 0
    deliveries = [send_once(db, services.slack, m, now) for m in _messages(services, work)]
    with db.transaction() as session:
        if any(delivery.status == "retry" for delivery in deliveries):
            checkin_schedule.retry_later(session, task_id, now)
        else:
            checkin_schedule.finish(session, task_id)
    return sum(delivery.status == "sent" for delivery in deliveries)


def _zone(services: Services, team_id: str, user_id: str) -> str:
    """The participant's time zone. ``user_timezone`` may lose an insert race with another
    process caching the same person; the retry then reads the row the other one wrote."""
    client, now = services.slack.for_team(team_id), services.clock.now()
    try:
        return user_timezone(services.db, client, team_id, user_id, now).key
    except IntegrityError:
        return user_timezone(services.db, client, team_id, user_id, now).key


def _messages(services: Services, work: DueWork) -> list[Outgoing]:
    messages: list[Outgoing] = []
    for item in work.messages:
        if isinstance(item, Reminder):
            facts, rel_id = item.facts, item.facts.relationship_id
            for user_id, team_id in facts.homes.items():  # each through their own workspace
                tz = _zone(services, team_id, user_id)
                text, blocks = reminder_message(item, tz)
                key = message_keys.checkin_reminder(
                    facts.occurrence_id, user_id, item.offset_minutes
                )
                messages.append(
                    Outgoing(team_id, key, user_id, text, blocks, relationship_id=rel_id)
                )
            if facts.channel_id:
                text, blocks = reminder_message(item, facts.tz)
                key = message_keys.checkin_reminder(
                    facts.occurrence_id, facts.channel_id, item.offset_minutes
                )
                messages.append(
                    Outgoing(
                        facts.team_id, key, facts.channel_id, text, blocks, relationship_id=rel_id
                    )
                )
        elif isinstance(item, FollowUp):
            text, blocks = follow_up_message(item)
            key = message_keys.checkin_follow_up(item.facts.occurrence_id)
            messages.append(
                Outgoing(
                    item.recipient.team_id,
                    key,
                    item.recipient.channel,
                    text,
                    blocks,
                    relationship_id=item.facts.relationship_id,
                )
            )
        else:
            text, blocks = lapse_message(item)
            for recipient in item.recipients:
                key = f"{item.key}:{recipient.channel}"
                messages.append(
                    Outgoing(
                        recipient.team_id,
                        key,
                        recipient.channel,
                        text,
                        blocks,
                        relationship_id=item.relationship_id,
                    )
                )
    return messages


CHECKIN_JOBS = [Job("checkin-tick", 60, run_checkin_tick)]
