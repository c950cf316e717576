"""``/checkin``, its buttons (RSVP, follow-up answers, "Schedule an informal catch-up") and modals.

Thin: parse, one domain call in a transaction, render. Slack calls (time zones, modals,
replies after the ack) go through ``services.defer``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.checkins import blocks as checkin_blocks
from bot.checkins import domain as checkins
from bot.checkins import modal as checkin_modal
from bot.checkins.models import Outcome
from bot.core.cadence import CadenceError
from bot.relationships import domain as rel
from bot.relationships.blocks import choice_blocks
from bot.relationships.models import Relationship
from bot.services import Services
from bot.slack import mrkdwn
from bot.slack.blocks import STALE_BUTTON
from bot.slack.channels import join_channel
from bot.slack.timezones import user_timezone


def register(app: App) -> None:
    app.command("/checkin")(checkin)
    for answer in ("yes", "no"):
        app.action(f"checkin_rsvp_{answer}")(rsvp)
    for outcome in Outcome:
        app.action(f"checkin_outcome_{outcome.value}")(record_outcome)
    app.action("schedule_catch_up")(catch_up)
    app.view(checkin_modal.CALLBACK_ID)(save)
    app.view(checkin_modal.NOTE_CALLBACK_ID)(save_note)


def checkin(
    ack: Ack, command: dict, client: WebClient, respond: Respond, services: Services
) -> None:
    team_id, user_id = command["team_id"], command["user_id"]
    try:
        parsed = checkins.parse_command(command.get("text") or "")
    except (rel.RapportError, CadenceError) as error:
        ack(text=str(error))
        return
    if parsed.action == "help":
        ack(text=checkin_blocks.HELP_TEXT)
        return
    try:
        with services.db.transaction() as session:
            relationship = rel.resolve(session, team_id, user_id, command.get("channel_id"), None)
            relationship_id = relationship.id
            reply = _run(services, session, parsed, relationship, user_id)
    except rel.ChoiceNeeded as choice:
        ack(text=str(choice), blocks=choice_blocks(str(choice), choice.choices))
        return
    except (rel.RapportError, CadenceError) as error:
        ack(text=str(error))
        return
    if isinstance(reply, Reply):
        ack(text=reply.text, blocks=reply.blocks)
        if reply.channel_id:
            services.defer(_prepare_channel, client, respond, reply.channel_id)
        return
    ack()  # the rest needs Slack (a time zone or a modal): after the ack
    services.defer(
        _after_ack, services, client, respond, parsed, team_id, user_id, relationship_id,
        command["trigger_id"], reply,
    )  # fmt: skip


def rsvp(
    ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond, services: Services
) -> None:
    ack()
    services.defer(_rsvp, services, body, action, client, respond, apologise=respond)


def record_outcome(
    ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond, services: Services
) -> None:
    ack()
    services.defer(_outcome, services, body, action, client, respond, apologise=respond)


def catch_up(
    ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond, services: Services
) -> None:
    ack()
    services.defer(_catch_up, services, body, action, client, respond, apologise=respond)


def save(ack: Ack, body: dict, view: dict, client: WebClient, services: Services) -> None:
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    meta = json.loads(view.get("private_metadata") or "{}")
    draft, errors = checkin_modal.draft_from_state(view["state"]["values"])
    if draft is None:
        ack(response_action="errors", errors=errors)
        return
    try:
        with services.db.transaction() as session:
            now = services.clock.now()
            errors = checkins.validate_draft(session, team_id, meta["r"], meta["c"], draft, now)
            if not errors:
                saved = checkins.save_from_form(
                    session, team_id, meta["r"], meta["c"], user_id, draft, now
                )
    except rel.RapportError as error:
        errors = {"title": str(error)}
    if errors:  # modal errors are plain text: no emphasis, no entities
        plain = {field: mrkdwn.plain(message) for field, message in errors.items()}
        ack(response_action="errors", errors=plain)
        return
    ack()
    services.defer(_confirm_saved, client, user_id, saved)


def save_note(ack: Ack, body: dict, view: dict, services: Services) -> None:
    note = (view["state"]["values"].get("note", {}).get("value", {}).get("value")) or ""
    metadata = view.get("private_metadata") or ""
    if not metadata.isdigit():
        ack()
        return
    try:
        with services.db.transaction() as session:
            checkins.record_note(
                session, body["team"]["id"], int(metadata), body["user"]["id"], note
            )
    except rel.RapportError as error:
        ack(response_action="errors", errors={"note": mrkdwn.plain(str(error))})
        return
    ack()


@dataclass(frozen=True)
class Reply:
    """Answered in the acknowledgement itself."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    channel_id: str | None = None  # a check-in's channel to join after the ack


@dataclass(frozen=True)
class AfterAck:
    """Needs Slack (the person's time zone, or a modal), so it runs after the ack."""

    kind: str  # "add", "new", "list", "edit"
    form: checkins.EditForm | None = None


def _run(
    services: Services,
    session: Session,
    parsed: checkins.CheckInCommand,
    relationship: Relationship,
    user: str,
) -> Reply | AfterAck:
    now = services.clock.now()
    rel.require_member(session, relationship, user)
    if parsed.action == "add":
        assert parsed.draft is not None
        if not parsed.draft.tz:
            return AfterAck("add")
        view = checkins.create_checkin(
            session, relationship, user, parsed.draft, parsed.draft.tz, now
        )
        return Reply(checkin_blocks.created_text(view), channel_id=view.channel_id)
    if parsed.action == "remove":
        title = checkins.remove_checkin(session, relationship, parsed.ref or "", user)
        return Reply(f"Removed the check-in *{mrkdwn.escape(title)}*.")
    if parsed.action == "skip":
        title, start, tz = checkins.skip_next(
            session, relationship, parsed.ref or "", user, parsed.reason or "", now
        )
        return Reply(
            f"Skipping *{mrkdwn.escape(title)}* on {checkin_blocks.when(start, tz)}: no "
            "reminders for that one. The one after goes ahead as usual."
        )
    if parsed.action == "history":
        report = checkins.history(session, relationship, user, now)
        return Reply(
            f"Check-in history of {mrkdwn.escape(report.relationship)}",
            checkin_blocks.history_blocks(report),
        )
    if parsed.action == "edit":
        checkin = checkins.find_checkin(session, relationship, parsed.ref or "")
        return AfterAck("edit", checkins.edit_form(session, checkin, user))
    return AfterAck(parsed.action)  # "list", "new"


def _after_ack(
    services: Services,
    client: WebClient,
    respond: Respond,
    parsed: checkins.CheckInCommand,
    team_id: str,
    user_id: str,
    relationship_id: int,
    trigger_id: str,
    work: AfterAck,
) -> None:
    now = services.clock.now()
    if work.form is not None:
        client.views_open(trigger_id=trigger_id, view=checkin_modal.checkin_modal(work.form))
        return
    tz = user_timezone(services.db, client, team_id, user_id, now).key
    if work.kind == "new":
        form = checkins.EditForm(relationship_id, None, "", "", tz, 30, (user_id,), None)
        client.views_open(trigger_id=trigger_id, view=checkin_modal.checkin_modal(form))
        return
    try:
        with services.db.transaction() as session:
            relationship = rel.get_relationship(session, team_id, relationship_id)
            if work.kind == "add":
                assert parsed.draft is not None
                view = checkins.create_checkin(
                    session, relationship, user_id, parsed.draft, tz, now
                )
                text, blocks, channel_id = checkin_blocks.created_text(view), None, view.channel_id
            else:
                views = checkins.list_checkins(session, relationship, user_id, now)
                text = f"Check-ins of {mrkdwn.escape(relationship.name)}"
                blocks = checkin_blocks.list_blocks(relationship.name, views, tz)
                channel_id = None
    except (rel.RapportError, CadenceError) as error:
        respond(text=str(error))
        return
    respond(text=text, blocks=blocks)
    if channel_id:
        _prepare_channel(client, respond, channel_id)


def _channel_note(client: WebClient, channel_id: str) -> str | None:
    """Join a check-in's channel if public, so its reminders can be posted there; else
    what the person must do (Slack hides private channels Rapport isn't in)."""
    try:
        if join_channel(client, channel_id):
            return None
    except SlackApiError:
        pass
    return (
        f"One more step: type `/invite @Rapport` in {mrkdwn.channel(channel_id)} so I can "
        "post the reminders there."
    )


def _prepare_channel(client: WebClient, respond: Respond, channel_id: str) -> None:
    if note := _channel_note(client, channel_id):
        respond(text=note)


def _confirm_saved(client: WebClient, user_id: str, saved: checkins.CheckInView) -> None:
    """The modal is closed by then: confirm by DM, with any step left for its channel."""
    note = _channel_note(client, saved.channel_id) if saved.channel_id else None
    text = checkin_blocks.created_text(saved)
    client.chat_postMessage(channel=user_id, text=f"{text}\n{note}" if note else text)


def _rsvp(services: Services, body: dict, action: dict, client: WebClient, respond: Respond):
    if not action.get("value", "").isdigit():
        respond(text=STALE_BUTTON, replace_original=False)
        return
    attending = action["action_id"] == "checkin_rsvp_yes"
    user_id = body["user"]["id"]
    try:
        with services.db.transaction() as session:
            facts = checkins.record_rsvp(
                session, body["team"]["id"], int(action["value"]), user_id, attending,
                services.clock.now(),
            )  # fmt: skip
    except rel.RapportError as error:
        respond(text=str(error), replace_original=False)
        return
    answer = "you'll be there" if attending else "you can't make it"
    respond(
        text=f"Thanks, noted that {answer} for *{mrkdwn.escape(facts.title)}*.",
        replace_original=False,
    )


def _outcome(services: Services, body: dict, action: dict, client: WebClient, respond: Respond):
    if not action.get("value", "").isdigit():
        respond(text=STALE_BUTTON, replace_original=False)
        return
    outcome = Outcome(action["action_id"].removeprefix("checkin_outcome_"))
    user_id = body["user"]["id"]
    try:
        with services.db.transaction() as session:
            facts = checkins.record_outcome(
                session, body["team"]["id"], int(action["value"]), user_id, outcome,
                services.clock.now(),
            )  # fmt: skip
    except rel.RapportError as error:
        respond(text=str(error), replace_original=False)
        return
    note = checkin_blocks.outcome_note(facts, user_id)
    original = (body.get("message") or {}).get("blocks") or []
    respond(text=note, blocks=checkin_blocks.answered_blocks(original, note), replace_original=True)
    client.views_open(
        trigger_id=body["trigger_id"],
        view=checkin_modal.note_modal(facts.occurrence_id, facts.title, outcome.value),
    )


def _catch_up(services: Services, body: dict, action: dict, client: WebClient, respond: Respond):
    if not action.get("value", "").isdigit():
        respond(text=STALE_BUTTON, replace_original=False)
        return
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    tz = user_timezone(services.db, client, team_id, user_id, services.clock.now()).key
    try:
        with services.db.transaction() as session:
            form = checkins.catch_up_form(session, team_id, int(action["value"]), user_id, tz)
    except rel.RapportError as error:
        respond(text=str(error), replace_original=False)
        return
    client.views_open(trigger_id=body["trigger_id"], view=checkin_modal.checkin_modal(form))
