"""Relationship listeners: ``/rapport``'s own subcommands (setup, people, channels), the setup
modal, the relationship-picker and organisation buttons, and help. Every button re-checks
who clicked: buttons can be replayed."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from slack_bolt import App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.relationships import blocks
from bot.relationships import channels as rel_channels
from bot.relationships import domain as rel
from bot.relationships import joint as rel_joint
from bot.relationships import members as rel_members
from bot.relationships import setup as rel_setup
from bot.relationships import summary as rel_summary
from bot.relationships.models import Relationship, Side
from bot.relationships.parser import RapportCommand, UsageError, parse_rapport_command
from bot.relationships.partner_news import tell_owners
from bot.relationships.setup_modal import CALLBACK_ID, draft_from_state, setup_modal
from bot.services import Services
from bot.slack import mrkdwn
from bot.slack.channels import membership_problem, prepare_watched_channel
from handlers.routing import (
    Call,
    Click,
    FollowUp,
    FormErrors,
    Reply,
    Router,
    Submission,
    button,
    no_value,
    number,
    submission,
)

Changed = TypeVar("Changed")


def rapport_router() -> Router[RapportCommand]:
    """``/rapport``, whose subcommands each feature adds in its ``register``."""
    return Router(parse_rapport_command, refusals=(UsageError, rel.RapportError), route=_route)


def _route(command: RapportCommand) -> str:
    """Drift's, intros' and the digest's operations are subcommands of their own (some only
    read, some write), and so is ``health formula``."""
    if command.action in ("drift", "health", "intros", "digest") and command.args:
        return f"{command.action} {command.args[0]}"
    return command.action


def register(app: App, rapport: Router[RapportCommand]) -> None:
    rapport.add("help", rapport_help, reads_only=True)
    rapport.add("setup", rapport_setup, reads_only=True)
    rapport.add("list", rapport_list, reads_only=True)
    rapport.add("show", rapport_show, reads_only=True)
    rapport.add("use", rapport_use)
    rapport.add("add", rapport_add)
    rapport.add("remove", rapport_remove)
    rapport.add("watch", rapport_watch)
    rapport.add("unwatch", rapport_unwatch)
    rapport.add("alerts", rapport_alerts)
    rapport.add("invite", rapport_invite)
    rapport.add("join", rapport_join)
    rapport.add("leave", rapport_leave)
    app.action("open_setup")(button(open_setup, no_value, reads_only=True))
    app.action("show_help")(button(show_help, no_value, reads_only=True))
    app.action(re.compile(r"^use_relationship_\d+$"))(button(use_relationship, number))
    app.action(re.compile(r"^map_organisation_[A-Z0-9]+$"))(
        button(map_organisation, organisation_side)
    )
    app.view(CALLBACK_ID)(submission(create_relationship, "name"))


def open_setup(session: Session, click: Click[None]) -> Reply:
    return Reply(modal=setup_modal())


def show_help(session: Session, click: Click[None]) -> Reply:
    return Reply(modal=blocks.help_modal())


def use_relationship(session: Session, click: Click[int]) -> Reply:
    chosen = rel.use_relationship(session, click.team_id, click.user_id, click.value)
    return Reply(text=blocks.now_using_text(chosen.name, run_again=True), replace_original=True)


@dataclass(frozen=True)
class OrganisationSide:
    """A pick from the menu asking which side a Slack Connect organisation is on."""

    relationship_id: int
    org_id: str
    side: Side
    org_name: str


def organisation_side(action: dict) -> OrganisationSide:
    relationship_id, org_id, side, org_name = action["selected_option"]["value"].split("|", 3)
    return OrganisationSide(int(relationship_id), org_id, Side(side), org_name)


def map_organisation(session: Session, click: Click[OrganisationSide]) -> Reply:
    pick = click.value
    relationship = rel.get_relationship(session, click.team_id, pick.relationship_id)
    rel_members.map_organisation(
        session, relationship, click.user_id, pick.org_id, pick.org_name, pick.side
    )
    return Reply(text=blocks.organisation_side_text(pick.org_name, pick.side, relationship.name))


def create_relationship(session: Session, form: Submission) -> Reply:
    draft = draft_from_state(form.values)
    errors = rel_setup.validate_draft(session, form.team_id, form.user_id, draft)
    if errors:
        raise FormErrors(errors)
    # its channels once Slack says the creator is in them
    bare = dataclasses.replace(draft, watched_channels=(), alerts_channel=None)
    created = rel_setup.create_relationship(session, form.team_id, form.user_id, bare, form.now)
    return Reply(
        follow_up=functools.partial(
            add_channels, form.services, form.team_id, form.user_id, created.id, draft, form.now
        )
    )


def rapport_setup(session: Session, call: Call[RapportCommand]) -> Reply:
    return Reply(modal=setup_modal())


def rapport_help(session: Session, call: Call[RapportCommand]) -> Reply:
    return Reply(text=blocks.HELP_TEXT, blocks=blocks.help_blocks())


def rapport_list(session: Session, call: Call[RapportCommand]) -> Reply:
    mine = rel.memberships(session, call.team_id, call.user_id)
    return Reply(text=blocks.MEMBERSHIPS_TITLE, blocks=blocks.memberships_blocks(mine))


def rapport_show(session: Session, call: Call[RapportCommand]) -> Reply:
    summary = rel_summary.summarise(session, call.relationship(session))
    return Reply(text=mrkdwn.escape(summary.name), blocks=blocks.summary_blocks(summary))


def rapport_use(session: Session, call: Call[RapportCommand]) -> Reply:
    chosen = call.relationship(session)
    rel.use_relationship(session, call.team_id, call.user_id, chosen.id)
    return Reply(text=blocks.now_using_text(chosen.name))


def rapport_add(session: Session, call: Call[RapportCommand]) -> Reply:
    relationship = call.relationship(session)
    side, role = call.command.side, call.command.role
    assert side is not None and role is not None  # the parser always sets both for "add"
    changes = rel_members.add_members(
        session,
        relationship,
        call.user_id,
        call.command.users,
        side,
        role,
        call.now,
    )
    return Reply(text=blocks.member_changes_text(relationship.name, changes, side, role))


def rapport_remove(session: Session, call: Call[RapportCommand]) -> Reply:
    relationship = call.relationship(session)
    changes = rel_members.remove_members(session, relationship, call.user_id, call.command.users)
    return Reply(text=blocks.member_changes_text(relationship.name, changes))


def rapport_invite(session: Session, call: Call[RapportCommand]) -> Reply:
    relationship = call.relationship(session)
    invite = rel_joint.create_invite(
        session, relationship, call.team_id, call.user_id, call.command.users[0], call.now
    )
    return Reply(text=blocks.invite_text(relationship.name, invite))


def rapport_join(session: Session, call: Call[RapportCommand]) -> Reply:
    if not call.services.slack.is_installed(call.team_id):
        raise rel.RapportError(blocks.NOT_INSTALLED_TEXT)
    relationship = rel_joint.join(
        session, call.team_id, call.user_id, call.command.args[0], call.now
    )
    side = relationship.side_of(call.team_id)
    assert side is not None  # it has just been joined from this workspace
    told = rel.owners_on(session, relationship, side.other)
    text = blocks.partner_joined_text(relationship.name, call.user_id, relationship.org_name(side))
    news = _News(
        relationship.id, relationship.team_of(side.other), told, text, f"{side.value}-joined"
    )
    return Reply(
        text=blocks.joined_text(
            relationship.name, side, relationship.org_name(side), relationship.org_name(side.other)
        ),
        follow_up=news.tell(call.services, call.now),
    )


def rapport_leave(session: Session, call: Call[RapportCommand]) -> Reply:
    relationship = call.relationship(session)
    own_side = relationship.side_of(call.team_id)
    parted = rel_joint.leave(session, relationship, call.user_id, call.now)
    call.services.drift_configs.forget(relationship.id)  # its channels' homes change
    assert own_side is not None  # leave checked the relationship was joint
    told_text = blocks.partner_left_text(
        relationship.name, call.user_id, relationship.org_name(own_side)
    )
    if call.team_id == relationship.team_id:  # the partner's owners are in the new one now
        told_in = parted
        text = blocks.host_left_text(relationship.name, parted.name, own_side.other)
    else:
        told_in = relationship
        text = blocks.partner_left_own_text(relationship.name, parted.name)
    told = rel.owners_on(session, told_in, own_side.other)
    news = _News(told_in.id, told_in.team_id, told, told_text, f"{own_side.value}-left")
    return Reply(text=text, follow_up=news.tell(call.services, call.now))


@dataclass(frozen=True)
class _News:
    """What the other company's owners are told after the ack, through their own workspace's
    installation (never the requester's, which is the other company's)."""

    relationship_id: int  # the relationship the told owners are in
    team_id: str
    owners: list[str]
    text: str
    what: str  # e.g. "provider-joined"

    def tell(self, services: Services, now: datetime) -> FollowUp:
        owners = [rel.Recipient(self.team_id, owner) for owner in self.owners]

        def tell(client: WebClient, respond: Respond) -> None:
            tell_owners(services, self.relationship_id, owners, self.text, self.what, now)

        return tell


def rapport_watch(session: Session, call: Call[RapportCommand]) -> Reply:
    relationship = call.relationship(session)
    channel_id = call.command.channel
    assert channel_id is not None
    if not rel_channels.may_watch(session, relationship, call.user_id, channel_id):
        return Reply(text=blocks.already_watching_text(channel_id, relationship.name))
    relationship_id, name = relationship.id, relationship.name

    def check_and_watch(client: WebClient, respond: Respond) -> None:
        def watch(later: Session, relationship: Relationship) -> Relationship:
            rel_channels.watch_channel(later, relationship, call.user_id, channel_id, call.now)
            return relationship

        if _as_member(call, client, respond, channel_id, relationship_id, watch) is None:
            return
        try:
            facts = prepare_watched_channel(client, channel_id)
        except SlackApiError:
            respond(text=blocks.unseen_channel_text(channel_id, name))
            return
        text, answer = blocks.watching_message(
            relationship_id, name, channel_id, facts.needs_invite, facts.organisations
        )
        respond(text=text, blocks=answer)

    return Reply(text=blocks.checking_membership_text(channel_id), follow_up=check_and_watch)


def rapport_unwatch(session: Session, call: Call[RapportCommand]) -> Reply:
    relationship = call.relationship(session)
    channel_id = call.command.channel
    assert channel_id is not None
    was_watched = rel_channels.unwatch_channel(session, relationship, call.user_id, channel_id)
    return Reply(text=blocks.unwatched_text(channel_id, relationship.name, was_watched))


def rapport_alerts(session: Session, call: Call[RapportCommand]) -> Reply:
    relationship = call.relationship(session)
    channel_id = call.command.channel
    assert channel_id is not None
    rel_channels.check_alerts_channel(session, relationship, call.user_id, channel_id)
    relationship_id = relationship.id

    def check_and_set(client: WebClient, respond: Respond) -> None:
        def set_alerts(later: Session, relationship: Relationship) -> str:
            rel_channels.set_alerts_channel(later, relationship, call.user_id, channel_id)
            return relationship.name

        name = _as_member(call, client, respond, channel_id, relationship_id, set_alerts)
        if name is None:
            return
        respond(text=blocks.alerts_channel_text(channel_id, name))

    return Reply(text=blocks.checking_membership_text(channel_id), follow_up=check_and_set)


def _as_member(
    call: Call[RapportCommand],
    client: WebClient,
    respond: Respond,
    channel_id: str,
    relationship_id: int,
    change: Callable[[Session, Relationship], Changed],
) -> Changed | None:
    """After the ack: once Slack confirms the caller is in the channel, ``change`` the
    relationship in a fresh transaction; None (the reason told) when either step refuses,
    e.g. no longer an owner, or the channel taken by another relationship meanwhile."""
    problem = membership_problem(client, channel_id, call.user_id)
    if problem is not None:
        respond(text=problem)
        return None
    try:
        with call.services.db.transaction() as later:
            return change(later, rel.get_relationship(later, call.team_id, relationship_id))
    except rel.RapportError as error:
        respond(text=str(error))
        return None


def add_channels(
    services: Services,
    team_id: str,
    creator: str,
    relationship_id: int,
    draft: rel_setup.RelationshipDraft,
    now: datetime,
    client: WebClient,
    respond: Respond | None,
) -> None:
    """Give a new relationship the channels picked in the modal that Slack says its creator
    is in, then tell the creator it is set up, and why any channel was left out."""
    problems = {
        channel_id: problem
        for channel_id in dict.fromkeys((*draft.watched_channels, draft.alerts_channel))
        if channel_id and (problem := membership_problem(client, channel_id, creator))
    }
    with services.db.transaction() as session:
        relationship = rel.get_relationship(session, team_id, relationship_id)
        for channel_id in draft.watched_channels:
            if channel_id not in problems:
                try:
                    rel_channels.watch_channel(session, relationship, creator, channel_id, now)
                except rel.RapportError as error:  # watched elsewhere since the modal was sent
                    problems[channel_id] = str(error)
        if draft.alerts_channel and draft.alerts_channel not in problems:
            try:
                rel_channels.set_alerts_channel(
                    session, relationship, creator, draft.alerts_channel
                )
            except rel.RapportError as error:
                problems[draft.alerts_channel] = str(error)
        summary = rel_summary.summarise(session, relationship)
    client.chat_postMessage(
        channel=creator,
        text=blocks.created_text(summary.name),
        blocks=blocks.created_blocks(summary, list(problems.values())),
    )
