"""The intros tick: open due rounds (inviting newcomers first, then pairing), introduce each
group once its working day has begun for everyone in it, nudge quiet groups half-way, ask
*Did you meet?* at the end, and forget pair history past its retention.

Safe to run twice, concurrently or after a crash: a round is unique per relationship and
day, and every message is claimed in the send ledger under a key naming group, person and
kind. The group DM is opened with ``conversations.open`` (asking again gives the same
conversation); when Slack refuses it, each person gets their own intro naming the others.
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
from bot.slack.outbox import (
    TRANSIENT_ERRORS,
    Delivery,
    Outgoing,
    send_once,
)
from bot.slack.pacing import OPENS_PER_SECOND, PROMPTS_PER_SECOND, Pacer
from bot.slack.timezones import cached_timezones, user_timezone
from scheduler.jobs import Job

logger = logging.getLogger(__name__)

INTROS_EVERY_SECONDS = 60
RETENTION_EVERY_SECONDS = 3600
LEFT_SLACK = frozenset({"user_not_found", "account_inactive", "user_disabled"})


@dataclass
class IntroPacers:
    """One pace for posts, one for opening conversations: Slack limits them apart."""

    posts: Pacer = field(default_factory=lambda: Pacer(PROMPTS_PER_SECOND))
    opens: Pacer = field(default_factory=lambda: Pacer(OPENS_PER_SECOND))


@dataclass
class IntrosTick:
    """What one tick did, for logs, tests and the benchmark."""

    opened: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)  # "<kind> <delivery status>" -> count
    routes: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, delivery: Delivery) -> None:
        key = f"{kind} {delivery.status}"
        self.sent[key] = self.sent.get(key, 0) + 1


def run_intros(services: Services, pacers: IntroPacers | None = None) -> IntrosTick:
    pacers = pacers or IntroPacers()
    tick = IntrosTick()
    now = services.clock.now()
    invite(services.db, services.slack, now, tick, pacers)
    with services.db.transaction() as session:
        due = intro_rounds.due_rounds(session, now)
    for due_round in due:
        open_round(services, due_round, now, tick, pacers)
    with services.db.transaction() as session:
        to_introduce = intro_groups.due_for_intro(session, now)
    for group in to_introduce:
        introduce(services.db, services.slack, group, now, tick, pacers)
    with services.db.transaction() as session:
        to_nudge = intro_groups.due_for_nudge(session, now)
    for group in to_nudge:
        nudge(services.db, services.slack, group, now, tick, pacers)
    with services.db.transaction() as session:
        to_ask = intro_groups.due_for_follow_up(session, now)
    for group in to_ask:
        ask_if_met(services.db, services.slack, group, now, tick, pacers)
    if tick.opened or tick.skipped or tick.sent:
        logger.info(
            "intros tick: opened %s, skipped %s, sent %s, routes %s",
            tick.opened, tick.skipped, tick.sent, tick.routes,
        )  # fmt: skip
    return tick


def open_round(
    services: Services,
    due: intro_rounds.DueRound,
    now: datetime,
    tick: IntrosTick,
    pacers: IntroPacers,
) -> None:
    """Pair everyone in, and tell owners once if a side has nobody."""
    db, slack = services.db, services.slack
    client = slack.for_team(due.team_id)
    if client is None:  # uninstalled: nothing happens there
        return
    people = [person.user_id for person in due.participants]
    zones = cached_timezones(db, due.team_id, people, now)
    for user_id in people:
        if user_id not in zones:
            pacers.opens.wait()
            zones[user_id] = user_timezone(db, client, due.team_id, user_id, now)
    with db.transaction() as session:
        opened = intro_rounds.open_round(session, due, zones, now)
    if opened is None:
        return
    if opened.skipped is None:
        tick.opened.append(opened.round_id)
        return
    tick.skipped.append(opened.round_id)
    if opened.skipped_before:
        return  # owners were told when the skipping began
    with db.transaction() as session:
        relationship = session.get(Relationship, due.relationship_id)
        owners = rel.owners(session, relationship) if relationship is not None else []
    notice = intro_blocks.skipped_notice(due.name, opened.skipped)
    for owner in owners:
        key = message_keys.intro_round_skipped(opened.round_id, owner)
        tick.count("skipped", send_once(db, slack, Outgoing(due.team_id, key, owner, notice), now))


def invite(
    db: Database, slack: SlackClients, now: datetime, tick: IntrosTick, pacers: IntroPacers
) -> None:
    """The short note explaining intros, with *Count me in* / *Not for me*, once to each
    member: when owners turn intros on, and to each newcomer after."""
    with db.transaction() as session:
        invitations = intro_rounds.uninvited(session)
    for invitation in invitations:
        text, blocks = intro_blocks.invitation(
            invitation.relationship_id, invitation.name, invitation.default_in
        )
        key = message_keys.intro_invitation(invitation.relationship_id, invitation.user_id)
        pacers.posts.wait()
        message = Outgoing(invitation.team_id, key, invitation.user_id, text, blocks)
        delivery = send_once(db, slack, message, now)
        tick.count("invitation", delivery)
        if _outcome(db, delivery) is None:  # asked again on a later tick
            continue
        with db.transaction() as session:
            intro_rounds.mark_invited(
                session, invitation.relationship_id, invitation.team_id, invitation.user_id
            )
        _note_departure(
            db, invitation.relationship_id, invitation.team_id, invitation.user_id, delivery
        )


def introduce(
    db: Database,
    slack: SlackClients,
    group: GroupToIntroduce,
    now: datetime,
    tick: IntrosTick,
    pacers: IntroPacers,
) -> None:
    """The group DM if Slack allows it, else one DM each; the route is recorded once every
    message is settled, so a crash in between resumes where it stopped."""
    client = slack.for_team(group.team_id)
    if client is None:
        return
    starter = starter_for(f"{group.relationship_id}:{group.group_id}")
    times = slots(now, [ZoneInfo(person.tz) for person in group.people])
    conversation = _open_group_dm(client, group, pacers)
    if conversation == "retry":
        return
    if conversation is not None:
        text, blocks = intro_blocks.intro_message(group, starter, times, now)
        pacers.posts.wait()
        message = Outgoing(
            group.team_id, message_keys.intro(group.group_id), conversation, text, blocks
        )
        delivery = send_once(db, slack, message, now)
        tick.count("intro", delivery)
        outcome = _outcome(db, delivery)
        if outcome is None:
            return
        if outcome == "sent":
            with db.transaction() as session:
                intro_groups.record_route(session, group.group_id, Route.GROUP_DM, conversation)
            tick.routes["group_dm"] = tick.routes.get("group_dm", 0) + 1
            return
    settled = True
    for person in group.people:
        text, blocks = intro_blocks.intro_message(group, starter, times, now, to=person.user_id)
        pacers.posts.wait()
        key = message_keys.intro(group.group_id, person.user_id)
        message = Outgoing(
            group.team_id, key, person.user_id, text, blocks, relationship_id=group.relationship_id
        )
        delivery = send_once(db, slack, message, now)
        tick.count("intro", delivery)
        settled = settled and _outcome(db, delivery) is not None
        _note_departure(db, group.relationship_id, group.team_id, person.user_id, delivery)
    if settled:
        with db.transaction() as session:
            intro_groups.record_route(session, group.group_id, Route.SEPARATE_DMS, None)
        tick.routes["separate_dms"] = tick.routes.get("separate_dms", 0) + 1


def _open_group_dm(client: WebClient, group: GroupToIntroduce, pacers: IntroPacers) -> str | None:
    """The group conversation's id; None when Slack refuses it (the fallback goes out);
    "retry" when Slack can't answer now."""
    if group.route is Route.SEPARATE_DMS:
        return None
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


def nudge(
    db: Database,
    slack: SlackClients,
    group: GroupToIntroduce,
    now: datetime,
    tick: IntrosTick,
    pacers: IntroPacers,
) -> None:
    """Once, where the intro went: the group DM, or each person's DM."""
    if group.route is Route.GROUP_DM and group.conversation_id is not None:
        targets = [(message_keys.intro_nudge(group.group_id), group.conversation_id)]
    else:
        targets = [(message_keys.intro_nudge(group.group_id, u), u) for u in group.user_ids()]
    settled = True
    for key, channel in targets:
        pacers.posts.wait()
        delivery = send_once(
            db, slack, Outgoing(group.team_id, key, channel, intro_blocks.NUDGE), now
        )
        tick.count("nudge", delivery)
        settled = settled and _outcome(db, delivery) is not None
    if settled:
        with db.transaction() as session:
            intro_groups.mark(session, group.group_id, nudged=True)


def ask_if_met(
    db: Database,
    slack: SlackClients,
    group: GroupToIntroduce,
    now: datetime,
    tick: IntrosTick,
    pacers: IntroPacers,
) -> None:
    """*Did you meet?* to each person, by DM, so each answers for themselves."""
    text, blocks = intro_blocks.follow_up(group.group_id)
    settled = True
    for user_id in group.user_ids():
        pacers.posts.wait()
        key = message_keys.intro_follow_up(group.group_id, user_id)
        delivery = send_once(db, slack, Outgoing(group.team_id, key, user_id, text, blocks), now)
        tick.count("follow-up", delivery)
        settled = settled and _outcome(db, delivery) is not None
        _note_departure(db, group.relationship_id, group.team_id, user_id, delivery)
    if settled:
        with db.transaction() as session:
            intro_groups.mark(session, group.group_id, done=True)


def _outcome(db: Database, delivery: Delivery) -> str | None:
    """ "sent" or "failed" once Slack's answer is known; None while it isn't (try again on a
    later tick): a retry, or a claim another sender holds or a dead one left pending."""
    if delivery.status in ("sent", "failed"):
        return delivery.status
    if delivery.status == "duplicate":
        row = outbox.sent(db, delivery.key)
        if row is not None and row.status is not SendStatus.PENDING:
            return "sent" if row.status is SendStatus.SENT else "failed"
    return None


def _note_departure(
    db: Database, relationship_id: int, team_id: str, user_id: str, delivery: Delivery
) -> None:
    if delivery.status == "failed" and delivery.error in LEFT_SLACK:
        with db.transaction() as session:
            preferences.mark_left_slack(session, relationship_id, team_id, user_id)


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
