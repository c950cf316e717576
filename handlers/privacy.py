"""Forget-me buttons: the person confirms, or keeps their data.
The confirm button carries whose data it forgets, so a replayed click forgets nobody else."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond

from bot.privacy import blocks as data_rights_blocks
from bot.privacy import rights as data_rights
from bot.services import Services
from bot.slack.outbox import Outgoing, send_once


def register(app: App) -> None:
    app.action("forget_me_confirm")(forget_me)
    app.action("forget_me_cancel")(keep_me)


def forget_me(ack: Ack, body: dict, action: dict, respond: Respond, services: Services) -> None:
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    if action.get("value") != user_id:  # a replayed button forgets nobody else
        ack()
        services.defer(respond, text=data_rights_blocks.FORGET_NOT_YOURS, replace_original=False)
        return
    with services.db.transaction() as session:
        report = data_rights.forget_person(session, team_id, user_id, services.clock.now())
    ack()
    services.defer(_after_forgetting, services, team_id, report, respond)


def keep_me(ack: Ack, respond: Respond, services: Services) -> None:
    ack()
    services.defer(respond, text=data_rights_blocks.FORGET_CANCELLED, replace_original=True)


def _after_forgetting(
    services: Services, team_id: str, report: data_rights.ForgetReport, respond: Respond
) -> None:
    """Tell the person what went, then owners whose relationship lost its last owner on a side
    (through the send ledger, so a retried click doesn't tell them twice)."""
    respond(text=data_rights_blocks.forgotten_text(report), replace_original=True)
    for side in report.ownerless:
        text = data_rights_blocks.ownerless_notice_text(side)
        for owner in side.remaining_owners:
            key = f"side-without-owner:{side.relationship_id}:{side.membership_id}:{owner}"
            send_once(
                services.db,
                services.slack,
                Outgoing(team_id, key, owner, text),
                services.clock.now(),
            )
