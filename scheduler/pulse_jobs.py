"""The pulse tick: open due rounds, alert on closed ones, prompt members at their local
time, remind once. Safe to run twice, concurrently or after a crash: every message is
claimed in the send ledger (``bot.slack.outbox``) under a key naming round, person and kind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.db import Database
from bot.pulse import anonymity as pulse_anonymity
from bot.pulse import blocks as pulse_blocks
from bot.pulse import prompts as pulse_prompts
from bot.pulse import results_blocks as pulse_results_blocks
from bot.pulse import rounds as pulse_rounds
from bot.pulse.models import RecipientStatus
from bot.pulse.prompts import Person, RoundToSend
from bot.pulse.results import round_alerts
from bot.pulse.schedule import LATEST_ZONE
from bot.relationships import domain as rel
from bot.services import Services
from bot.slack import message_keys, outbox
from bot.slack.client import SlackClients
from bot.slack.models import SendStatus
from bot.slack.outbox import Outgoing, send_once
from bot.slack.pacing import PROMPTS_PER_SECOND, Pacer
from bot.slack.timezones import cached_timezones, known_timezone
from scheduler.jobs import Job

logger = logging.getLogger(__name__)

PULSE_EVERY_SECONDS = 60


@dataclass
class PulseTick:
    """What one tick did, for logs, tests and the benchmark."""

    opened: list[int] = field(default_factory=list)
    prompts: dict[str, int] = field(default_factory=dict)  # delivery status -> count
    reminders: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def count(tally: dict[str, int], status: str) -> None:
        tally[status] = tally.get(status, 0) + 1


def run_pulse(services: Services, pacer: Pacer | None = None) -> PulseTick:
    slack = services.slack
    db, now = services.db, services.clock.now()
    pacer = pacer or Pacer(PROMPTS_PER_SECOND)
    tick = PulseTick()
    with db.transaction() as session:
        tick.opened = pulse_rounds.open_due_rounds(session, now)
        pulse_anonymity.forget_closed_round_secrets(session, now)
    send_alerts(db, slack, now, tick)
    with db.transaction() as session:
        rounds = pulse_prompts.rounds_taking_answers(session, now)
    for pulse_round in rounds:
        send_prompts(db, slack, pulse_round, now, tick, pacer)
    send_reminders(db, slack, now, tick, pacer)
    if tick.opened or tick.prompts or tick.reminders or tick.alerts:
        logger.info(
            "pulse tick: opened %s, prompts %s, reminders %s, alerts %s",
            tick.opened,
            tick.prompts,
            tick.reminders,
            tick.alerts,
        )
    return tick


def send_prompts(
    db: Database,
    slack: SlackClients,
    pulse_round: RoundToSend,
    now: datetime,
    tick: PulseTick,
    pacer: Pacer,
) -> None:
    """Prompt every member whose local prompt time has come; record each outcome.

    Before the prompt time has come everywhere, each person's zone decides; someone whose
    zone Slack couldn't give (and never gave) waits for a later tick rather than being
    prompted at a guessed hour. Zone lookups share the prompts' pace."""
    with db.transaction() as session:
        people = pulse_prompts.unprompted_members(
            session, pulse_round.round_id, pulse_round.relationship_id
        )
    everyone_due = pulse_round.day is None or now >= pulse_round.due_at(LATEST_ZONE)
    text, blocks = pulse_blocks.prompt_text(pulse_round), pulse_blocks.prompt_blocks(pulse_round)
    for team_id, theirs in _by_workspace(people).items():
        client = slack.for_team(team_id)
        if client is None:  # uninstalled: nobody there is prompted
            continue
        zones = {}
        if not everyone_due:
            zones = cached_timezones(db, team_id, [p.user_id for p in theirs], now)
        for person in theirs:
            if not everyone_due:
                tz = zones.get(person.user_id)
                if tz is None:
                    pacer.wait()
                    tz = known_timezone(db, client, team_id, person.user_id, now)
                if tz is None or pulse_round.due_at(tz) > now:
                    continue
            key = message_keys.pulse_prompt(pulse_round.round_id, person.user_id)
            pacer.wait()
            message = Outgoing(
                team_id,
                key,
                person.user_id,
                text,
                blocks,
                relationship_id=pulse_round.relationship_id,
            )
            delivery = send_once(db, slack, message, now)
            status, error = _recipient_status(db, delivery)
            with db.transaction() as session:
                pulse_prompts.mark_prompt(session, pulse_round.round_id, person, status, error)
            PulseTick.count(tick.prompts, delivery.status)
            if delivery.status == "failed":
                logger.warning(
                    "pulse prompt for round %s not delivered: %s",
                    pulse_round.round_id,
                    delivery.error,
                )


def _by_workspace(people: list[Person]) -> dict[str, list[Person]]:
    """People by home workspace: a joint relationship's sides are prompted each through
    their own company's installation."""
    grouped: dict[str, list[Person]] = {}
    for person in people:
        grouped.setdefault(person.team_id, []).append(person)
    return grouped


def _recipient_status(db: Database, delivery: outbox.Delivery) -> tuple[str, str | None]:
    if delivery.status == "sent":
        return RecipientStatus.SENT, None
    if delivery.status == "failed":
        return RecipientStatus.FAILED, delivery.error
    if delivery.status == "duplicate":  # sent before a crash, or being sent elsewhere
        row = outbox.sent(db, delivery.key)
        if row is not None and row.status is SendStatus.SENT:
            return RecipientStatus.SENT, None
        if row is not None and row.status is SendStatus.FAILED:
            return RecipientStatus.FAILED, row.error
    return RecipientStatus.PENDING, delivery.error


def send_reminders(
    db: Database, slack: SlackClients, now: datetime, tick: PulseTick, pacer: Pacer
) -> None:
    """One reminder, in the prompt's thread, to each recipient who hasn't answered.

    Reminders carry no relationship: owners are never told one failed, as that would say
    who hadn't answered."""
    with db.transaction() as session:
        rounds = pulse_prompts.rounds_due_for_reminders(session, now)
    for pulse_round in rounds:
        with db.transaction() as session:
            people = pulse_prompts.members_to_remind(session, pulse_round.round_id)
        text = pulse_blocks.reminder_text(pulse_round)
        for user_id, team_id in people:
            prompt = outbox.sent(db, message_keys.pulse_prompt(pulse_round.round_id, user_id))
            if prompt is None or prompt.status is not SendStatus.SENT:
                continue
            pacer.wait()
            delivery = send_once(
                db,
                slack,
                Outgoing(
                    team_id,
                    message_keys.pulse_reminder(pulse_round.round_id, user_id),
                    prompt.sent_channel or user_id,
                    text,
                    thread_ts=prompt.ts,
                ),
                now,
            )
            if delivery.status != "retry":
                with db.transaction() as session:
                    pulse_prompts.mark_reminded(session, pulse_round.round_id, user_id)
            PulseTick.count(tick.reminders, delivery.status)


def send_alerts(db: Database, slack: SlackClients, now: datetime, tick: PulseTick) -> None:
    """Owners hear about drops, gaps and low response once per round and condition."""
    with db.transaction() as session:
        closed = pulse_prompts.closed_rounds_awaiting_alerts(session, now)
    for round_id in closed:
        with db.transaction() as session:
            found = pulse_prompts.get_round_by_id(session, round_id)
            relationship = session.get(rel.Relationship, found.relationship_id)
            assert relationship is not None
            alerts = round_alerts(session, relationship, round_id)
            recipients = rel.alert_recipients(session, relationship)
            name = relationship.name
        done = True
        for alert in alerts:
            text = pulse_results_blocks.alert_text(name, alert)
            blocks = pulse_results_blocks.alert_blocks(found.relationship_id, name, alert)
            for recipient in recipients:
                key = message_keys.pulse_alert(round_id, alert.kind, alert.side, recipient.channel)
                message = Outgoing(
                    recipient.team_id,
                    key,
                    recipient.channel,
                    text,
                    blocks,
                    relationship_id=found.relationship_id,
                )
                delivery = send_once(db, slack, message, now)
                done = done and delivery.status != "retry"
                PulseTick.count(tick.alerts, delivery.status)
        if done:
            with db.transaction() as session:
                pulse_prompts.mark_alerts_done(session, round_id)


PULSE_JOBS = [Job("pulse", PULSE_EVERY_SECONDS, run_pulse)]
