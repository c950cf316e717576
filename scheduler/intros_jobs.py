"""The intros tick: invite newcomers, open due rounds (pairing everyone in), introduce each
group once its working day has begun for everyone in it, nudge quiet groups half-way, ask
*Did you meet?* at the end, and forget pair history past its retention.

Safe to run twice, concurrently or after a crash: a round is unique per relationship and
day, and every message is claimed in the send ledger under a key naming group, person and
kind; a group's route, nudge and follow-up are marked done only once the ledger knows
Slack's answer. The group DM is opened with ``conversations.open`` (asking again gives the
same conversation); when Slack refuses it, each person gets their own intro naming the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.core.db import Database
from bot.intros import blocks as intro_blocks
from bot.intros import groups as intro_groups
from bot.intros import preferences
from bot.intros import rounds as intro_rounds
from bot.intros.groups import GroupToIntroduce
from bot.intros.models import Route
from bot.intros.slots import slots
from bot.intros.starters import starter_for
from bot.relationships import domain as rel
from bot.relationships.models import Relationship
from bot.services import Services
from bot.slack import message_keys, outbox
from bot.slack.client import SlackClients
from bot.slack.models import SendStatus
from bot.slack.outbox import TRANSIENT_ERRORS, Delivery, Outgoing, send_once
from bot.slack.pacing import OPENS_PER_SECOND, PROMPTS_PER_SECOND, Pacer
from bot.slack.timezones import cached_timezones, user_timezone
from scheduler.jobs import Job

logger = logging.getLogger(__name__)

INTROS_EVERY_SECONDS = 60
RETENTION_EVERY_SECONDS = 3600
LEFT_SLACK = frozenset({"user_not_found", "account_inactive", "user_disabled"})


@dataclass
class IntroPacers:
    """One pace for posts, one for opening conversations and looking up zones: Slack limits
    them apart."""

    posts: Pacer = field(default_factory=lambda: Pacer(PROMPTS_PER_SECOND))
    opens: Pacer = field(default_factory=lambda: Pacer(OPENS_PER_SECOND))


@dataclass
class IntrosTick:
    """What one tick did, for logs, tests and the benchmark."""

    opened: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)  # "<kind> <delivery status>" -> count
    routes: dict[str, int] = field(default_factory=dict)


@dataclass
class Sending:
    """One tick's way to Slack: the ledger, the pace, and the tally."""

    db: Database
    slack: SlackClients
    now: datetime
    pacers: IntroPacers
    tick: IntrosTick
    departed: set[str] = field(default_factory=set)  # keys of DMs to people gone from Slack

    def send(self, kind: str, message: Outgoing) -> str | None:
        """Post once, paced; "sent" or "failed" once Slack's answer is known, None while it
        isn't (a retry, or a claim another sender holds or a dead one left pending)."""
        self.pacers.posts.wait()
        delivery = send_once(self.db, self.slack, message, self.now)
        tally = f"{kind} {delivery.status}"
        self.tick.sent[tally] = self.tick.sent.get(tally, 0) + 1
        return self._outcome(delivery)

    def _outcome(self, delivery: Delivery) -> str | None:
        if delivery.status in ("sent", "failed"):
            if delivery.status == "failed" and delivery.error in LEFT_SLACK:
                self.departed.add(delivery.key)
            return delivery.status
        if delivery.status == "duplicate":
            row = outbox.sent(self.db, delivery.key)
            if row is not None and row.status is not SendStatus.PENDING:
                return "sent" if row.status is SendStatus.SENT else "failed"
        return None

    def note_departure(self, relationship_id: int, team_id: str, user_id: str, key: str) -> None:
        """Someone Slack says is gone is never paired again until they answer themselves."""
        if key in self.departed:
            with self.db.transaction() as session:
                preferences.mark_left_slack(session, relationship_id, team_id, user_id)


def run_intros(services: Services, pacers: IntroPacers | None = None) -> IntrosTick:
    sending = Sending(
        services.db, services.slack, services.clock.now(), pacers or IntroPacers(), IntrosTick()
    )
    invite(sending)
    with services.db.transaction() as session:
        due = intro_rounds.due_rounds(session, sending.now)
    for due_round in due:
        open_round(sending, due_round)
    for find, act in (
        (intro_groups.due_for_intro, introduce),
        (intro_groups.due_for_nudge, nudge),
        (intro_groups.due_for_follow_up, ask_if_met),
    ):
        with services.db.transaction() as session:
            found = find(session, sending.now)
        for group in found:
            act(sending, group)
    tick = sending.tick
    if tick.opened or tick.skipped or tick.sent:
        logger.info(
            "intros tick: opened %s, skipped %s, sent %s, routes %s",
            tick.opened, tick.skipped, tick.sent, tick.routes,
        )  # fmt: skip
    return tick


def invite(sending: Sending) -> None:
    """The short note explaining intros, with *Count me in* / *Not for me*, once to each
    member: when owners turn intros on, and to each newcomer after."""
    with sending.db.transaction() as session:
        invitations = intro_rounds.uninvited(session)
    for invitation in invitations:
        text, blocks = intro_blocks.invitation(
            invitation.relationship_id, invitation.name, invitation.default_in
        )
        key = message_keys.intro_invitation(invitation.relationship_id, invitation.user_id)
        message = Outgoing(invitation.team_id, key, invitation.user_id, text, blocks)
        if sending.send("invitation", message) is None:  # asked again on a later tick
            continue
        with sending.db.transaction() as session:
            intro_rounds.mark_invited(
                session, invitation.relationship_id, invitation.team_id, invitation.user_id
            )
        sending.note_departure(
            invitation.relationship_id, invitation.team_id, invitation.user_id, key
        )


def open_round(sending: Sending, due: intro_rounds.DueRound) -> None:
    """Pair everyone in, and tell owners once if a side has nobody."""
    db, now = sending.db, sending.now
    if sending.slack.for_team(due.team_id) is None:  # uninstalled: nothing happens there
        return
    zones: dict[str, ZoneInfo] = {}
    for team_id in {person.team_id for person in due.participants}:  # each side's own
        client = sending.slack.for_team(team_id)
        people = [person.user_id for person in due.participants if person.team_id == team_id]
        zones |= cached_timezones(db, team_id, people, now)
        for user_id in people:
            if user_id not in zones:
                sending.pacers.opens.wait()
                zones[user_id] = user_timezone(db, client, team_id, user_id, now)
    with db.transaction() as session:
        opened = intro_rounds.open_round(session, due, zones, now)
    if opened is None:
        return
    if opened.skipped is None:
        sending.tick.opened.append(opened.round_id)
        return
    sending.tick.skipped.append(opened.round_id)
    if opened.skipped_before:
        return  # owners were told when the skipping began
    with db.transaction() as session:
        relationship = session.get(Relationship, due.relationship_id)
        owners = rel.owners(session, relationship) if relationship is not None else []
    notice = intro_blocks.skipped_notice(due.name, opened.skipped)
    for owner in owners:
        key = message_keys.intro_round_skipped(opened.round_id, owner)
        sending.send("skipped", Outgoing(due.team_id, key, owner, notice))


def introduce(sending: Sending, group: GroupToIntroduce) -> None:
    """The group DM if Slack allows it, else one DM each; the route is recorded once every
    message is settled, so a crash in between resumes where it stopped."""
    client = sending.slack.for_team(group.team_id)
    if client is None:
        return
    starter = starter_for(f"{group.relationship_id}:{group.group_id}")
    times = slots(sending.now, [ZoneInfo(person.tz) for person in group.people])
    # across two companies' workspaces there is no group DM: one DM each, through their own
    conversation = _open_group_dm(client, group, sending.pacers) if group.one_workspace() else None
    if conversation == "retry":
        return
    if conversation is not None:
        text, blocks = intro_blocks.intro_message(group, starter, times, sending.now)
        key = message_keys.intro(group.group_id)
        outcome = sending.send("intro", Outgoing(group.team_id, key, conversation, text, blocks))
        if outcome is None:
            return
        if outcome == "sent":
            _record_route(sending, group, Route.GROUP_DM, conversation)
            return
    settled = True
    for person in group.people:
        text, blocks = intro_blocks.intro_message(
            group, starter, times, sending.now, to=person.user_id
        )
        key = message_keys.intro(group.group_id, person.user_id)
        message = Outgoing(
            person.team_id, key, person.user_id, text, blocks, relationship_id=group.relationship_id
        )
        settled = sending.send("intro", message) is not None and settled
        sending.note_departure(group.relationship_id, person.team_id, person.user_id, key)
    if settled:
        _record_route(sending, group, Route.SEPARATE_DMS, None)


def _record_route(
    sending: Sending, group: GroupToIntroduce, route: Route, conversation: str | None
) -> None:
    with sending.db.transaction() as session:
        intro_groups.record_route(session, group.group_id, route, conversation)
    sending.tick.routes[route.value] = sending.tick.routes.get(route.value, 0) + 1


def _open_group_dm(client: WebClient, group: GroupToIntroduce, pacers: IntroPacers) -> str | None:
    """The group conversation's id; None when Slack refuses it (the fallback goes out);
    "retry" when Slack can't answer now."""
    pacers.opens.wait()
    try:
        answer = client.conversations_open(users=",".join(group.user_ids()))
    except SlackApiError as error:
        code = str(error.response.get("error", "unknown_error"))
        if code in TRANSIENT_ERRORS or error.response.status_code >= 500:
            return "retry"
        logger.info("group DM for intro %d refused (%s): one DM each", group.group_id, code)
        return None
    except (SlackClientError, OSError):
        return "retry"
    return answer["channel"]["id"]


def nudge(sending: Sending, group: GroupToIntroduce) -> None:
    """Once, where the intro went: the group DM, or each person's DM."""
    if group.route is Route.GROUP_DM and group.conversation_id is not None:
        targets = [(message_keys.intro_nudge(group.group_id), group.team_id, group.conversation_id)]
    else:
        targets = [
            (message_keys.intro_nudge(group.group_id, p.user_id), p.team_id, p.user_id)
            for p in group.people
        ]
    settled = True
    for key, team_id, channel in targets:
        message = Outgoing(team_id, key, channel, intro_blocks.NUDGE)
        settled = sending.send("nudge", message) is not None and settled
    if settled:
        with sending.db.transaction() as session:
            intro_groups.mark(session, group.group_id, nudged=True)


def ask_if_met(sending: Sending, group: GroupToIntroduce) -> None:
    """*Did you meet?* to each person, by DM, so each answers for themselves."""
    text, blocks = intro_blocks.follow_up(group.group_id)
    settled = True
    for person in group.people:
        key = message_keys.intro_follow_up(group.group_id, person.user_id)
        message = Outgoing(person.team_id, key, person.user_id, text, blocks)
        settled = sending.send("follow-up", message) is not None and settled
        sending.note_departure(group.relationship_id, person.team_id, person.user_id, key)
    if settled:
        with sending.db.transaction() as session:
            intro_groups.mark(session, group.group_id, done=True)


def forget_old_pairs(services: Services) -> int:
    """Pair history past each relationship's retention period goes (default a year)."""
    with services.db.transaction() as session:
        removed = intro_rounds.forget_old_groups(session, services.clock.now())
    if removed:
        logger.info("intros: %d round(s) past retention deleted", removed)
    return removed


INTROS_JOBS = [
    Job("intros", INTROS_EVERY_SECONDS, run_intros),
    Job("intros-retention", RETENTION_EVERY_SECONDS, forget_old_pairs),
]
