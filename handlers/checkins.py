"""``/checkin``, its buttons (RSVP, follow-up answers, "Schedule an informal catch-up") and modals.

Thin: parse, one domain call in a transaction, render. Slack calls (time zones, modals,
replies after the ack) go through ``services.defer``.
"""

from __future__ import annotations

import functools
import json

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.checkins import blocks as checkin_blocks
from bot.checkins import commands as checkins
from bot.checkins import forms as checkin_forms
from bot.checkins import history as checkin_history
from bot.checkins import modal as checkin_modal
from bot.checkins import outcomes as checkin_outcomes
from bot.checkins import parser as checkin_parser
from bot.checkins.models import Outcome
from bot.core.cadence import CadenceError
from bot.relationships import domain as rel
from bot.relationships.models import Relationship
from bot.services import Services
from bot.slack import mrkdwn
from bot.slack.blocks import STALE_BUTTON
from bot.slack.channels import join_channel
from bot.slack.timezones import user_timezone
from handlers.routing import Call, FollowUp, Reply, Router


def register(app: App) -> None:
    # the rest waits on Slack (a time zone, a channel to join): logged, not apologised for
    checkin = Router(
        checkin_parser.parse_command, (rel.RapportError, CadenceError), apologise_after_ack=False
    )
    checkin.add("help", show_help, reads_only=True)
    checkin.add("add", add)
    checkin.add("new", new)
    checkin.add("list", list_checkins)
    checkin.add("edit", edit)
    checkin.add("remove", remove)
    checkin.add("skip", skip)
    checkin.add("history", history)
    app.command("/checkin")(checkin.command)
    for answer in ("yes", "no"):
        app.action(f"checkin_rsvp_{answer}")(rsvp)
    for outcome in Outcome:
        app.action(f"checkin_outcome_{outcome.value}")(record_outcome)
    app.action("schedule_catch_up")(catch_up)
    app.view(checkin_modal.CALLBACK_ID)(save)
    app.view(checkin_modal.NOTE_CALLBACK_ID)(save_note)


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
            errors = checkin_forms.validate_draft(
                session, team_id, meta["r"], meta["c"], draft, now
            )
            if not errors:
                saved = checkin_forms.save_from_form(
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
            checkin_outcomes.record_note(
                session, body["team"]["id"], int(metadata), body["user"]["id"], note
            )
    except rel.RapportError as error:
        ack(response_action="errors", errors={"note": mrkdwn.plain(str(error))})
        return
    ack()


CheckIn = Call[checkin_parser.CheckInCommand]


def show_help(session: Session, call: CheckIn) -> Reply:
    return Reply(text=checkin_blocks.HELP_TEXT)


def add(session: Session, call: CheckIn) -> Reply:
    relationship = _relationship(session, call)
    draft = call.command.draft
    assert draft is not None
    if not draft.tz:  # the person's own time zone, which only Slack knows
        return Reply(follow_up=functools.partial(_add_in_their_zone, call, relationship.id))
    view = checkins.create_checkin(session, relationship, call.user_id, draft, draft.tz, call.now)
    return Reply(text=checkin_blocks.created_text(view), follow_up=_joining(view.channel_id))


def new(session: Session, call: CheckIn) -> Reply:
    relationship = _relationship(session, call)
    return Reply(follow_up=functools.partial(_open_new_form, call, relationship.id))


def list_checkins(session: Session, call: CheckIn) -> Reply:
    relationship = _relationship(session, call)
    return Reply(follow_up=functools.partial(_list_in_their_zone, call, relationship.id))


def edit(session: Session, call: CheckIn) -> Reply:
    relationship = _relationship(session, call)
    checkin = checkins.find_checkin(session, relationship, call.command.ref or "")
    form = checkin_forms.edit_form(session, checkin, call.user_id)
    return Reply(modal=checkin_modal.checkin_modal(form))


def remove(session: Session, call: CheckIn) -> Reply:
    relationship = _relationship(session, call)
    title = checkins.remove_checkin(session, relationship, call.command.ref or "", call.user_id)
    return Reply(text=f"Removed the check-in *{mrkdwn.escape(title)}*.")


def skip(session: Session, call: CheckIn) -> Reply:
    relationship = _relationship(session, call)
    title, start, tz = checkins.skip_next(
        session, relationship, call.command.ref or "", call.user_id, call.command.reason or "",
        call.now,
    )  # fmt: skip
    return Reply(
        text=f"Skipping *{mrkdwn.escape(title)}* on {checkin_blocks.when(start, tz)}: no "
        "reminders for that one. The one after goes ahead as usual."
    )


def history(session: Session, call: CheckIn) -> Reply:
    relationship = _relationship(session, call)
    report = checkin_history.history(session, relationship, call.user_id, call.now)
    return Reply(
        text=f"Check-in history of {mrkdwn.escape(report.relationship)}",
        blocks=checkin_blocks.history_blocks(report),
    )


def _relationship(session: Session, call: CheckIn) -> Relationship:
    """The channel's (or the person's current) relationship, if they belong to it."""
    relationship = call.relationship(session)
    rel.require_member(session, relationship, call.user_id)
    return relationship


def _joining(channel_id: str | None) -> FollowUp | None:
    """After the ack: join a new check-in's channel, or say how to let Rapport in."""
    return functools.partial(_prepare_channel, channel_id=channel_id) if channel_id else None


def _their_timezone(call: CheckIn, client: WebClient) -> str:
    services = call.services
    return user_timezone(services.db, client, call.team_id, call.user_id, services.clock.now()).key


def _open_new_form(
    call: CheckIn, relationship_id: int, client: WebClient, respond: Respond
) -> None:
    tz = _their_timezone(call, client)
    form = checkin_forms.EditForm(relationship_id, None, "", "", tz, 30, (call.user_id,), None)
    client.views_open(trigger_id=call.trigger_id, view=checkin_modal.checkin_modal(form))


def _add_in_their_zone(
    call: CheckIn, relationship_id: int, client: WebClient, respond: Respond
) -> None:
    tz = _their_timezone(call, client)
    draft = call.command.draft
    assert draft is not None
    try:
        with call.services.db.transaction() as session:
            relationship = rel.get_relationship(session, call.team_id, relationship_id)
            view = checkins.create_checkin(
                session, relationship, call.user_id, draft, tz, call.services.clock.now()
            )
    except (rel.RapportError, CadenceError) as error:
        respond(text=str(error))
        return
    respond(text=checkin_blocks.created_text(view), blocks=None)
    if view.channel_id:
        _prepare_channel(client, respond, view.channel_id)


def _list_in_their_zone(
    call: CheckIn, relationship_id: int, client: WebClient, respond: Respond
) -> None:
    tz = _their_timezone(call, client)
    try:
        with call.services.db.transaction() as session:
            relationship = rel.get_relationship(session, call.team_id, relationship_id)
            views = checkins.list_checkins(
                session, relationship, call.user_id, call.services.clock.now()
            )
            name = relationship.name
    except (rel.RapportError, CadenceError) as error:
        respond(text=str(error))
        return
    respond(
        text=f"Check-ins of {mrkdwn.escape(name)}",
        blocks=checkin_blocks.list_blocks(name, views, tz),
    )


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
            facts = checkin_outcomes.record_rsvp(
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
            facts = checkin_outcomes.record_outcome(
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
            form = checkin_forms.catch_up_form(session, team_id, int(action["value"]), user_id, tz)
    except rel.RapportError as error:
        respond(text=str(error), replace_original=False)
        return
    client.views_open(trigger_id=body["trigger_id"], view=checkin_modal.checkin_modal(form))
