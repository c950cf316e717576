"""The pulse tick: open due rounds, alert on closed ones, prompt members at their local
time, remind once. Safe to run twice, concurrently or after a crash: every message is
claimed in the send ledger (``bot.slack.outbox``) under a key naming round, person and kind.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.db import Database
from bot.pulse import anonymity as pulse_anonymity
from bot.pulse import blocks as pulse_blocks
from bot.pulse import prompts as pulse_prompts
from bot.pulse import results_blocks as pulse_results_blocks
from bot.pulse import rounds as pulse_rounds
from bot.pulse.models import RecipientStatus
from bot.pulse.prompts import RoundToSend
from bot.pulse.results import round_alerts
from bot.pulse.schedule import LATEST_ZONE
from bot.relationships import domain as rel
from bot.services import Services
from bot.slack import message_keys, outbox
from bot.slack.client import SlackClients
from bot.slack.fan_out import Turn
from bot.slack.models import SendStatus
from bot.slack.outbox import Outgoing, send_once
from bot.slack.pacing import WorkspacePacers
from bot.slack.timezones import cached_timezones, known_timezone
from scheduler.jobs import Job

logger = logging.getLogger(__name__)

PULSE_EVERY_SECONDS = 60


@dataclass
class PulseTick:
    """What one tick did, for logs, tests and the benchmark (counted from many threads)."""

    opened: list[int] = field(default_factory=list)
    prompts: dict[str, int] = field(default_factory=dict)  # delivery status -> count
    reminders: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    standby: bool = False  # a standby scheduler's tick, which only helps send
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, tally: dict[str, int], status: str) -> None:
        with self._lock:
            tally[status] = tally.get(status, 0) + 1

    def log(self) -> None:
        if self.opened or self.prompts or self.reminders or self.alerts:
            logger.info(
                "%s: opened %s, prompts %s, reminders %s, alerts %s",
                "standby pulse tick" if self.standby else "pulse tick",
                self.opened,
                self.prompts,
                self.reminders,
                self.alerts,
            )


def run_pulse(services: Services, pacers: WorkspacePacers | None = None) -> PulseTick:
    """The active scheduler's tick: open due rounds, alert on closed ones, then send."""
    db, now = services.db, services.clock.now()
    tick = PulseTick()
    with db.transaction() as session:
        tick.opened = pulse_rounds.open_due_rounds(session, now)
        pulse_anonymity.forget_closed_round_secrets(session, now)
    send_alerts(db, services.slack, now, tick)
    send_to_members(services, now, tick, pacers)
    tick.log()
    return tick


def run_pulse_sends(services: Services, pacers: WorkspacePacers | None = None) -> PulseTick:
    """A standby scheduler's tick on PostgreSQL: it helps send the prompts and reminders of
    the rounds the active one opened, taking the workspaces nobody is sending to."""
    tick = PulseTick(standby=True)
    send_to_members(services, services.clock.now(), tick, pacers)
    tick.log()
    return tick


def send_to_members(
    services: Services, now: datetime, tick: PulseTick, pacers: WorkspacePacers | None = None
) -> None:
    """Prompts and reminders due now, many workspaces at once, each workspace's in order
    at its own pace (``bot.slack.fan_out``)."""
    with services.db.transaction() as session:
        pulse_prompts.note_prompted_rounds(session, now)
    with services.db.read() as session:
        due = pulse_prompts.rounds_with_work(session, now)
        workspaces = pulse_prompts.member_workspaces(session, [r.relationship_id for r in due])
    by_team: dict[str, list[RoundToSend]] = {}
    for pulse_round in due:  # a joint relationship's round is in both companies' shares
        for team_id in workspaces.get(pulse_round.relationship_id, ()):
            by_team.setdefault(team_id, []).append(pulse_round)
    services.fan_out.run(
        "pulse",
        {
            team_id: functools.partial(_send_workspace, services, rounds, now, tick)
            for team_id, rounds in by_team.items()
        },
        pacers,
    )


def _send_workspace(
    services: Services, rounds: list[RoundToSend], now: datetime, tick: PulseTick, turn: Turn
) -> None:
    for pulse_round in rounds:
        if turn.over():
            return
        send_prompts(services.db, services.slack, pulse_round, now, tick, turn)
    turn.settle()  # a reminder goes in its prompt's thread: the prompts' answers first
    with services.db.transaction() as session:  # the next tick needn't look through them
        pulse_prompts.note_prompted_rounds(session, now, [r.round_id for r in rounds])
    for pulse_round in rounds:
        if pulse_round.reminds_from <= now and not turn.over():
            send_reminders(services.db, services.slack, pulse_round, now, tick, turn)


def send_prompts(
    db: Database,
    slack: SlackClients,
    pulse_round: RoundToSend,
    now: datetime,
    tick: PulseTick,
    turn: Turn,
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
    # a joint relationship's sides are prompted each through their own company's
    # installation, in their own workspace's turn
    people = [person for person in people if person.team_id == turn.team_id]
    client = slack.for_team(turn.team_id) if people else None
    if client is None:  # uninstalled: nobody there is prompted
        return
    zones = {}
    if not everyone_due:
        zones = cached_timezones(db, turn.team_id, [p.user_id for p in people], now)
    for person in people:
        if turn.over():
            return
        if not everyone_due:
            tz = zones.get(person.user_id)
            if tz is None:
                turn.pace()
                tz = known_timezone(db, client, turn.team_id, person.user_id, now)
            if tz is None or pulse_round.due_at(tz) > now:
                continue
        key = message_keys.pulse_prompt(pulse_round.round_id, person.user_id)
        to = pulse_round.relationship_id
        message = Outgoing(turn.team_id, key, person.user_id, text, blocks, relationship_id=to)
        turn.send(functools.partial(_prompt, db, slack, pulse_round, person, message, now, tick))


def _prompt(
    db: Database,
    slack: SlackClients,
    pulse_round: RoundToSend,
    person: pulse_prompts.Person,
    message: Outgoing,
    now: datetime,
    tick: PulseTick,
) -> outbox.Delivery:
    delivery = send_once(db, slack, message, now)
    status, error = _recipient_status(db, delivery)
    with db.statements() as connection:
        pulse_prompts.mark_prompt(connection, pulse_round.round_id, person, status, error)
    tick.count(tick.prompts, delivery.status)
    if delivery.status == "failed":
        logger.warning(
            "pulse prompt for round %s not delivered: %s", pulse_round.round_id, delivery.error
        )
    return delivery


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
    db: Database,
    slack: SlackClients,
    pulse_round: RoundToSend,
    now: datetime,
    tick: PulseTick,
    turn: Turn,
) -> None:
    """One reminder, in the prompt's thread, to each recipient who hasn't answered.

    Reminders carry no relationship: owners are never told one failed, as that would say
    who hadn't answered."""
    with db.read() as session:
        people = pulse_prompts.members_to_remind(session, pulse_round.round_id)
    # a joint relationship's other side has its own turn
    ours = [user_id for user_id, team_id in people if team_id == turn.team_id]
    prompt_keys = {
        user_id: message_keys.pulse_prompt(pulse_round.round_id, user_id) for user_id in ours
    }
    prompts = outbox.outcomes(db, list(prompt_keys.values()))  # each reminder's thread
    text = pulse_blocks.reminder_text(pulse_round)
    for user_id in ours:
        if turn.over():
            return
        prompt = prompts.get(prompt_keys[user_id])
        if prompt is None or prompt.status is not SendStatus.SENT:
            continue
        reminder = Outgoing(
            turn.team_id,
            message_keys.pulse_reminder(pulse_round.round_id, user_id),
            prompt.sent_channel or user_id,
            text,
            thread_ts=prompt.ts,
        )
        turn.send(functools.partial(_remind, db, slack, pulse_round, user_id, reminder, now, tick))


def _remind(
    db: Database,
    slack: SlackClients,
    pulse_round: RoundToSend,
    user_id: str,
    reminder: Outgoing,
    now: datetime,
    tick: PulseTick,
) -> outbox.Delivery:
    delivery = send_once(db, slack, reminder, now)
    if delivery.status != "retry":
        with db.transaction() as session:
            pulse_prompts.mark_reminded(session, pulse_round.round_id, user_id)
    tick.count(tick.reminders, delivery.status)
    return delivery


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
                tick.count(tick.alerts, delivery.status)
        if done:
            with db.transaction() as session:
                pulse_prompts.mark_alerts_done(session, round_id)


PULSE_JOBS = [Job("pulse", PULSE_EVERY_SECONDS, run_pulse, standby=run_pulse_sends)]
