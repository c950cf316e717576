"""The ``/rapport`` slash command (``/pulse`` and ``/checkin`` live in their own modules)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from bot.core.db import Database
from bot.drift import blocks as drift_blocks
from bot.drift import settings as drift_settings
from bot.privacy import blocks as data_rights_blocks
from bot.privacy import export as data_export
from bot.privacy import rights as data_rights
from bot.relationships import blocks
from bot.relationships import domain as rel
from bot.relationships.models import Relationship
from bot.relationships.parser import RapportCommand, UsageError, parse_rapport_command
from bot.relationships.setup_modal import setup_modal
from bot.services import Services
from bot.slack import mrkdwn
from bot.slack.blocks import section
from bot.slack.channels import membership_problem, prepare_watched_channel

logger = logging.getLogger(__name__)
Changed = TypeVar("Changed")

FollowUp = Callable[[WebClient, Respond], None]


@dataclass
class Reply:
    text: str
    blocks: list[dict[str, Any]] | None = None
    follow_up: FollowUp | None = None  # Slack calls to make after the ack


@dataclass(frozen=True)
class Invocation:
    team_id: str
    user_id: str
    channel_id: str | None
    command: RapportCommand
    now: datetime
    forget_drift_config: Callable[[int], None]
    db: Database  # for follow-ups that read after the ack (the export)

    def relationship(self, session: Session) -> rel.Relationship:
        return rel.resolve(session, self.team_id, self.user_id, self.channel_id, self.command.name)


def register(app: App, services: Services) -> None:
    def rapport(ack: Ack, command: dict, client: WebClient, respond: Respond) -> None:
        try:
            parsed = parse_rapport_command(command.get("text") or "")
        except UsageError as error:
            ack(text=str(error))
            return
        if parsed.action == "setup":
            ack()
            services.defer(client.views_open, trigger_id=command["trigger_id"], view=setup_modal())
            return
        invocation = Invocation(
            team_id=command["team_id"],
            user_id=command["user_id"],
            channel_id=command.get("channel_id"),
            command=parsed,
            now=services.clock.now(),
            forget_drift_config=services.drift_configs.forget,
            db=services.db,
        )
        try:
            reading = parsed.action in READ_ONLY or (
                parsed.action == "drift" and parsed.args[0] in DRIFT_READS
            )
            with services.db.read() if reading else services.db.transaction() as session:
                reply = SUBCOMMANDS[parsed.action](session, invocation)
        except rel.ChoiceNeeded as choice:
            ack(text=str(choice), blocks=blocks.choice_blocks(str(choice), choice.choices))
            return
        except rel.RapportError as error:
            ack(text=str(error))
            return
        ack(text=reply.text, blocks=reply.blocks)
        if reply.follow_up is not None:
            services.defer(reply.follow_up, client, respond, apologise=respond)

    app.command("/rapport")(rapport)


def _help(session: Session, call: Invocation) -> Reply:
    return Reply(text=blocks.HELP_TEXT, blocks=blocks.help_blocks())


def _list(session: Session, call: Invocation) -> Reply:
    mine = rel.memberships(session, call.team_id, call.user_id)
    return Reply(text="Your relationships", blocks=blocks.memberships_blocks(mine))


def _show(session: Session, call: Invocation) -> Reply:
    summary = rel.summarise(session, call.relationship(session))
    return Reply(text=mrkdwn.escape(summary.name), blocks=blocks.summary_blocks(summary))


def _use(session: Session, call: Invocation) -> Reply:
    chosen = call.relationship(session)
    rel.use_relationship(session, call.team_id, call.user_id, chosen.id)
    return Reply(text=f"Got it: your commands now act on *{mrkdwn.escape(chosen.name)}*.")


def _add(session: Session, call: Invocation) -> Reply:
    relationship = call.relationship(session)
    side, role = call.command.side, call.command.role
    assert side is not None and role is not None  # the parser always sets both for "add"
    changes = rel.add_members(
        session,
        relationship,
        call.user_id,
        call.command.users,
        side,
        role,
        call.now,
    )
    return Reply(
        text=blocks.member_changes_text(relationship.name, changes, f"{side.value} {role.value}")
    )


def _remove(session: Session, call: Invocation) -> Reply:
    relationship = call.relationship(session)
    changes = rel.remove_members(session, relationship, call.user_id, call.command.users)
    return Reply(text=blocks.member_changes_text(relationship.name, changes))


def _watch(session: Session, call: Invocation) -> Reply:
    relationship = call.relationship(session)
    channel_id = call.command.channel
    assert channel_id is not None
    name = mrkdwn.escape(relationship.name)
    if not rel.may_watch(session, relationship, call.user_id, channel_id):
        return Reply(text=f"I'm already watching {mrkdwn.channel(channel_id)} for *{name}*.")
    relationship_id = relationship.id

    def check_and_watch(client: WebClient, respond: Respond) -> None:
        def watch(later: Session, relationship: Relationship) -> Relationship:
            rel.watch_channel(later, relationship, call.user_id, channel_id, call.now)
            return relationship

        relationship = _as_member(call, client, respond, channel_id, relationship_id, watch)
        if relationship is None:
            return
        watching = f"Watching {mrkdwn.channel(channel_id)} for *{name}*."
        try:
            facts = prepare_watched_channel(client, channel_id)
        except SlackApiError:
            respond(
                text=f"{watching} I can't see {mrkdwn.channel(channel_id)} yet. If it's "
                "private, type `/invite @Rapport` in it so I can listen."
            )
            return
        if facts.needs_invite:
            watching += (
                f" One more step: type `/invite @Rapport` in {mrkdwn.channel(channel_id)} "
                "so I can listen there."
            )
        if not facts.organisations:
            respond(text=watching)
            return
        respond(
            text=f"{watching} Which side is each organisation on?",
            blocks=[
                section(watching),
                *blocks.organisation_mapping_blocks(
                    relationship_id, relationship.name, channel_id, facts.organisations
                ),
            ],
        )

    return Reply(text=_checking(channel_id), follow_up=check_and_watch)


def _unwatch(session: Session, call: Invocation) -> Reply:
    relationship = call.relationship(session)
    channel_id = call.command.channel
    assert channel_id is not None
    name = mrkdwn.escape(relationship.name)
    if rel.unwatch_channel(session, relationship, call.user_id, channel_id):
        return Reply(text=f"Stopped watching {mrkdwn.channel(channel_id)} for *{name}*.")
    return Reply(text=f"{mrkdwn.channel(channel_id)} wasn't being watched for *{name}*.")


def _alerts(session: Session, call: Invocation) -> Reply:
    relationship = call.relationship(session)
    channel_id = call.command.channel
    assert channel_id is not None
    rel.check_alerts_channel(session, relationship, call.user_id, channel_id)
    relationship_id = relationship.id

    def check_and_set(client: WebClient, respond: Respond) -> None:
        def set_alerts(later: Session, relationship: Relationship) -> str:
            rel.set_alerts_channel(later, relationship, call.user_id, channel_id)
            return relationship.name

        name = _as_member(call, client, respond, channel_id, relationship_id, set_alerts)
        if name is None:
            return
        respond(
            text=f"Alerts for *{mrkdwn.escape(name)}* will go to "
            f"{mrkdwn.channel(channel_id)}. Invite me there if it's private."
        )

    return Reply(text=_checking(channel_id), follow_up=check_and_set)


def _as_member(
    call: Invocation,
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
        with call.db.transaction() as later:
            return change(later, rel.get_relationship(later, call.team_id, relationship_id))
    except rel.RapportError as error:
        respond(text=str(error))
        return None


def _checking(channel_id: str) -> str:
    return f"Checking with Slack that you're in {mrkdwn.channel(channel_id)}…"


def _drift(session: Session, call: Invocation) -> Reply:
    relationship = call.relationship(session)
    operation, *operands = call.command.args
    call.forget_drift_config(relationship.id)  # this process sees owners' changes at once
    if operation == "words-list":
        kind = operands[0] if operands else None
        overview = drift_settings.words_overview(session, relationship, kind)
        page = int(operands[1]) if len(operands) > 1 else 1
        return Reply(text=drift_blocks.words_text(overview, page))
    if operation == "words-add":
        kind, left = drift_settings.add_word(
            session, relationship, call.user_id, operands[0], operands[1]
        )
        return Reply(
            text=f"“{mrkdwn.escape(operands[1])}” now counts as {kind} in "
            f"*{mrkdwn.escape(relationship.name)}*. {drift_blocks.words_left_text(left)}"
        )
    if operation == "words-remove":
        kind = drift_settings.remove_word(
            session, relationship, call.user_id, operands[0], operands[1]
        )
        return Reply(
            text=f"“{mrkdwn.escape(operands[1])}” no longer counts as {kind} in "
            f"*{mrkdwn.escape(relationship.name)}*."
        )
    if operation == "try":
        tried = drift_settings.try_message(session, relationship, call.user_id, operands[0])
        return Reply(text=drift_blocks.try_text(relationship.name, operands[0], tried))
    if operation == "bots":
        drift_settings.set_include_bots(session, relationship, call.user_id, operands[0] == "on")
        counted = "count" if operands[0] == "on" else "don't count"
        return Reply(
            text=f"Other bots' messages {counted} in *{mrkdwn.escape(relationship.name)}*."
        )
    if operation == "excerpts":
        kept = drift_settings.excerpts(session, relationship, call.user_id)
        return Reply(text=drift_blocks.excerpts_text(relationship.name, kept))
    if operation == "nudge":
        drift_settings.set_nudge(session, relationship, call.user_id, operands[0] == "on")
        return Reply(
            text=f"Gentle nudges are {operands[0]} for *{mrkdwn.escape(relationship.name)}*."
        )
    if operation == "set":
        shown = drift_settings.set_threshold(session, relationship, call.user_id, *operands)
        return Reply(text=f"Drift alerts for *{mrkdwn.escape(relationship.name)}*: {shown}.")
    settings = drift_settings.current_settings(session, relationship)
    overview = drift_settings.words_overview(session, relationship, None)
    return Reply(text=drift_blocks.settings_text(relationship.name, settings, overview))


def _export(session: Session, call: Invocation) -> Reply:
    relationship = call.relationship(session)
    data_export.require_exporter(session, relationship, call.user_id)
    relationship_id = relationship.id

    def build_and_upload(client: WebClient, respond: Respond) -> None:
        try:
            with call.db.transaction() as later:
                export = data_export.build_export(
                    later, call.team_id, relationship_id, call.user_id, call.now
                )
        except rel.RapportError as error:  # no longer an owner, or the relationship is gone
            respond(text=str(error))
            return
        problem = _upload_export(client, call.user_id, export)
        if problem is not None:
            respond(text=problem)

    return Reply(text=data_rights_blocks.EXPORT_PREPARING, follow_up=build_and_upload)


def _upload_export(client: WebClient, user_id: str, export: data_export.Export) -> str | None:
    """Upload every file of the export in one DM message; None once sent, else what to say."""
    try:
        dm = client.conversations_open(users=user_id)["channel"]["id"]
        client.files_upload_v2(
            file_uploads=[
                {"content": file.content, "filename": file.filename, "title": file.title}
                for file in export.files
            ],
            channel=dm,
            initial_comment=data_rights_blocks.export_comment(export),
        )
    except SlackApiError as error:
        code = str(error.response.get("error") or "unknown_error")
        logger.warning("export not delivered: %s", code)
        return data_rights_blocks.export_failed_text(code)
    except (SlackClientError, OSError) as error:  # the upload URL refused the bytes; no network
        logger.warning("export not delivered: %s", type(error).__name__)
        return data_rights_blocks.export_failed_text(None)
    return None


def _forget_me(session: Session, call: Invocation) -> Reply:
    ownerless = data_rights.ownerless_sides(session, call.team_id, call.user_id)
    return Reply(
        text="Forget you? This can't be undone.",
        blocks=data_rights_blocks.forget_confirm_blocks(call.user_id, ownerless),
    )


# subcommands that only read: they skip the write lock, so they never wait behind a writer
READ_ONLY = frozenset({"help", "list", "show"})
# drift operations that only read: a cue set compiled for them never holds the write lock
DRIFT_READS = frozenset({"settings", "words-list", "try"})
SUBCOMMANDS: dict[str, Callable[[Session, Invocation], Reply]] = {
    "help": _help,
    "list": _list,
    "show": _show,
    "use": _use,
    "add": _add,
    "remove": _remove,
    "watch": _watch,
    "unwatch": _unwatch,
    "alerts": _alerts,
    "drift": _drift,
    "export": _export,
    "forget-me": _forget_me,
}
