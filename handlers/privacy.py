"""Data rights: ``/rapport export`` and ``/rapport forget-me``, and the forget-me buttons, with
which the person confirms or keeps their data. The confirm button carries whose data it
forgets, so a replayed click forgets nobody else."""

from __future__ import annotations

import functools
import logging

from slack_bolt import App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from bot.privacy import blocks as data_rights_blocks
from bot.privacy import export as data_export
from bot.privacy import rights as data_rights
from bot.relationships import domain as rel
from bot.relationships.parser import RapportCommand
from bot.services import Services
from bot.slack import message_keys
from bot.slack.outbox import Outgoing, send_once
from handlers.routing import Call, Click, Reply, Router, button, no_value

logger = logging.getLogger(__name__)


def register(app: App, rapport: Router[RapportCommand]) -> None:
    rapport.add("export", export)
    rapport.add("forget-me", confirm_forget_me)
    # the person is told they are forgotten before the owners are: no apology after that
    app.action("forget_me_confirm")(button(forget_me, whose_data, apologise_after_ack=False))
    app.action("forget_me_cancel")(button(keep_me, no_value, reads_only=True))


def export(session: Session, call: Call[RapportCommand]) -> Reply:
    relationship = call.relationship(session)
    data_export.require_exporter(session, relationship, call.user_id)
    relationship_id = relationship.id

    def build_and_upload(client: WebClient, respond: Respond) -> None:
        try:
            with call.services.db.read() as later:  # reads only, so no write lock
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


def confirm_forget_me(session: Session, call: Call[RapportCommand]) -> Reply:
    ownerless = data_rights.ownerless_sides(session, call.team_id, call.user_id)
    return Reply(
        text=data_rights_blocks.FORGET_CONFIRM,
        blocks=data_rights_blocks.forget_confirm_blocks(call.user_id, ownerless),
    )


def whose_data(action: dict) -> str | None:
    """The person a confirm button forgets: the one who asked."""
    return action.get("value")


def forget_me(session: Session, click: Click[str | None]) -> Reply:
    if click.value != click.user_id:  # a replayed button forgets nobody else
        return Reply(text=data_rights_blocks.FORGET_NOT_YOURS)
    report = data_rights.forget_person(session, click.team_id, click.user_id, click.now)
    return Reply(
        text=data_rights_blocks.forgotten_text(report),
        replace_original=True,
        follow_up=functools.partial(_tell_owners, click.services, click.team_id, report),
    )


def keep_me(session: Session, click: Click[None]) -> Reply:
    return Reply(text=data_rights_blocks.FORGET_CANCELLED, replace_original=True)


def _tell_owners(
    services: Services,
    team_id: str,
    report: data_rights.ForgetReport,
    client: WebClient,
    respond: Respond,
) -> None:
    """Tell owners whose relationship lost its last owner on a side (through the send
    ledger, so a retried click doesn't tell them twice)."""
    for side in report.ownerless:
        text = data_rights_blocks.ownerless_notice_text(side)
        for owner in side.remaining_owners:
            key = message_keys.side_without_owner(side.relationship_id, side.membership_id, owner)
            send_once(
                services.db,
                services.slack,
                Outgoing(team_id, key, owner, text),
                services.clock.now(),
            )
