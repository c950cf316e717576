"""``/checkin``, its buttons (RSVP, follow-up answers, "Schedule an informal catch-up") and modals.

Thin: parse, one domain call in a transaction, render. Slack calls (time zones, modals,
replies after the ack) wait until the ack has gone.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from datetime import datetime

from slack_bolt import App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.checkins import blocks as checkin_blocks
from bot.checkins import commands as checkins
from bot.checkins import forms as checkin_forms
from bot.checkins import history as checkin_history
from bot.checkins import modal as checkin_modal
from bot.checkins import models as checkin_models
from bot.checkins import outcomes as checkin_outcomes
from bot.checkins import parser as checkin_parser
from bot.checkins.models import Outcome
from bot.core.cadence import CadenceError
from bot.relationships import domain as rel
from bot.relationships.models import Relationship
from bot.services import Services
from bot.slack import mrkdwn
from bot.slack.channels import join_channel
from bot.slack.timezones import FALLBACK, user_timezone
from handlers.routing import (
    Call,
    Click,
    FollowUp,
    FormErrors,
    Reply,
    Router,
    Submission,
    button,
    number,
    open_modal,
    submission,
)


def checkin_router() -> Router[checkin_parser.CheckInCommand]:
    """``/checkin``'s subcommands; ``create_app`` adds the command with the other two."""
    # the rest waits on Slack (a time zone, a channel to join): logged, not apologised for
    checkin = Router(
        checkin_parser.parse_command, (rel.RapportError, CadenceError), apologise_after_ack=False
    )
    checkin.add("help", show_help, reads_only=True)
    checkin.add("add", add)
    checkin.add("new", new)
    checkin.add("list", list_checkins, reads_only=True)
    checkin.add("edit", edit)
    checkin.add("remove", remove)
    checkin.add("skip", skip)
    checkin.add("history", history, reads_only=True)
    return checkin


def register(app: App) -> None:
    for answer in ("yes", "no"):
        app.action(f"checkin_rsvp_{answer}")(button(rsvp, number))
    for outcome in Outcome:
        app.action(f"checkin_outcome_{outcome.value}")(button(record_outcome, number))
    app.action("schedule_catch_up")(button(catch_up, number))
    app.action(checkin_blocks.NEW_ACTION)(button(new_from_button, number))
    app.view(checkin_modal.CALLBACK_ID)(submission(save, "title"))
    app.view(checkin_modal.NOTE_CALLBACK_ID)(submission(save_note, "note"))


def rsvp(session: Session, click: Click[int]) -> Reply:
    attending = click.action_id == "checkin_rsvp_yes"
    facts = checkin_outcomes.record_rsvp(
        session, click.team_id, click.value, click.user_id, attending, click.now
    )
    return Reply(text=checkin_blocks.rsvp_text(facts.title, attending))


def record_outcome(session: Session, click: Click[int]) -> Reply:
    """Note the answer in place of the buttons, and offer a note on how it went."""
    outcome = Outcome(click.action_id.removeprefix("checkin_outcome_"))
    facts = checkin_outcomes.record_outcome(
        session, click.team_id, click.value, click.user_id, outcome, click.now
    )
    note = checkin_blocks.outcome_note(facts, click.user_id)
    return Reply(
        text=note,
        blocks=checkin_blocks.answered_blocks(click.message_blocks, note),
        replace_original=True,
        modal=checkin_modal.note_modal(facts.occurrence_id, facts.title, outcome.value),
    )


def catch_up(session: Session, click: Click[int]) -> Reply:
    """The check-in modal prefilled for both sides' owners, in the clicker's time zone."""
    form = checkin_forms.catch_up_form(session, click.team_id, click.value, click.user_id, tz="")
    return Reply(
        follow_up=functools.partial(
            _open_form, click.services, click.team_id, click.user_id, click.trigger_id, form
        ),
        opens_form=True,
    )


def save(session: Session, form: Submission) -> Reply:
    meta = json.loads(form.metadata or "{}")
    draft, errors = checkin_modal.draft_from_state(form.values)
    if draft is None:
        raise FormErrors(errors)
    errors = checkin_forms.validate_draft(
        session, form.team_id, meta["r"], meta["c"], draft, form.now
    )
    if errors:  # modal errors are plain text: no emphasis, no entities
        raise FormErrors({field: mrkdwn.plain(message) for field, message in errors.items()})
    saved = checkin_forms.save_from_form(
        session, form.team_id, meta["r"], meta["c"], form.user_id, draft, form.now
    )
    return Reply(follow_up=functools.partial(_confirm_saved, form.user_id, saved))


def save_note(session: Session, form: Submission) -> Reply:
    if form.metadata.isdigit():
        note = form.field("note") or ""
        checkin_outcomes.record_note(session, form.team_id, int(form.metadata), form.user_id, note)
    return Reply()


CheckIn = Call[checkin_parser.CheckInCommand]


def show_help(session: Session, call: CheckIn) -> Reply:
    return Reply(text=checkin_blocks.HELP_TEXT)


def add(session: Session, call: CheckIn) -> Reply:
    relationship = call.relationship(session)
    draft = call.command.draft
    assert draft is not None
    if not draft.tz:  # the person's own time zone, which only Slack knows
        return Reply(follow_up=functools.partial(_add_in_their_zone, call, relationship.id))
    view = checkins.create_checkin(session, relationship, call.user_id, draft, draft.tz, call.now)
    return Reply(text=checkin_blocks.created_text(view), follow_up=_joining(view.channel_id))


def new(session: Session, call: CheckIn) -> Reply:
    relationship = call.relationship(session)
    return _new_form(call.services, call.team_id, call.user_id, call.trigger_id, relationship)


def new_from_button(session: Session, click: Click[int]) -> Reply:
    """*Add a check-in*, a button valued with a relationship id: ``/checkin new``'s form."""
    relationship, _ = rel.member_of(session, click.team_id, click.value, click.user_id)
    return _new_form(click.services, click.team_id, click.user_id, click.trigger_id, relationship)


def _new_form(
    services: Services, team_id: str, user_id: str, trigger_id: str, relationship: Relationship
) -> Reply:
    """An empty check-in form with the person in it, opened after the ack."""
    form = checkin_forms.EditForm(relationship.id, None, "", "", "", 30, (user_id,), None)
    return Reply(
        follow_up=functools.partial(_open_form, services, team_id, user_id, trigger_id, form),
        opens_form=True,
    )


def list_checkins(session: Session, call: CheckIn) -> Reply:
    """In the ack when Slack told the person's time zone lately, or there is nothing to show
    in one; else just after it, once Slack has."""
    relationship = call.relationship(session)
    found, tz = checkins.checkins_and_zone(
        session, relationship.id, call.team_id, call.user_id, call.now
    )
    if found and tz is None:
        return Reply(follow_up=functools.partial(_list_in_their_zone, call, relationship.id))
    return _listing(session, relationship, call.now, tz.key if tz else FALLBACK, found)


def edit(session: Session, call: CheckIn) -> Reply:
    relationship = call.relationship(session)
    checkin = checkins.find_checkin(session, relationship, call.command.ref or "")
    form = checkin_forms.edit_form(session, checkin, call.user_id)
    return Reply(modal=checkin_modal.checkin_modal(form))


def remove(session: Session, call: CheckIn) -> Reply:
    relationship = call.relationship(session)
    title = checkins.remove_checkin(session, relationship, call.command.ref or "", call.user_id)
    return Reply(text=checkin_blocks.removed_text(title))


def skip(session: Session, call: CheckIn) -> Reply:
    relationship = call.relationship(session)
    title, start, tz = checkins.skip_next(
        session, relationship, call.command.ref or "", call.user_id, call.command.reason or "",
        call.now,
    )  # fmt: skip
    return Reply(text=checkin_blocks.skipped_text(title, start, tz))


def history(session: Session, call: CheckIn) -> Reply:
    relationship = call.relationship(session)
    report = checkin_history.history(session, relationship, call.user_id, call.now)
    return Reply(
        text=checkin_blocks.history_title(report.relationship),
        blocks=checkin_blocks.history_blocks(report),
    )


def _joining(channel_id: str | None) -> FollowUp | None:
    """After the ack: join a new check-in's channel, or say how to let Rapport in."""
    return functools.partial(_prepare_channel, channel_id=channel_id) if channel_id else None


def _their_timezone(services: Services, team_id: str, user_id: str, client: WebClient) -> str:
    return user_timezone(services.db, client, team_id, user_id, services.clock.now()).key


def _open_form(
    services: Services,
    team_id: str,
    user_id: str,
    trigger_id: str,
    form: checkin_forms.EditForm,
    client: WebClient,
    respond: Respond,
) -> None:
    """Open the check-in modal with ``form``, in the person's own time zone."""
    tz = _their_timezone(services, team_id, user_id, client)
    modal = checkin_modal.checkin_modal(dataclasses.replace(form, tz=tz))
    open_modal(client, respond, trigger_id, modal)


def _add_in_their_zone(
    call: CheckIn, relationship_id: int, client: WebClient, respond: Respond
) -> None:
    tz = _their_timezone(call.services, call.team_id, call.user_id, client)
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
    tz = _their_timezone(call.services, call.team_id, call.user_id, client)
    try:
        with call.services.db.read() as session:
            # still theirs, after the ack
            relationship, _ = rel.member_of(session, call.team_id, relationship_id, call.user_id)
            listing = _listing(session, relationship, call.services.clock.now(), tz)
    except (rel.RapportError, CadenceError) as error:
        respond(text=str(error))
        return
    respond(text=listing.text, blocks=listing.blocks)


def _listing(
    session: Session,
    relationship: Relationship,
    now: datetime,
    tz: str,
    found: list[checkin_models.CheckIn] | None = None,
) -> Reply:
    views = checkins.list_checkins(session, relationship, now, found)
    return Reply(
        text=checkin_blocks.list_title(relationship.name),
        blocks=checkin_blocks.list_blocks(relationship.name, views, tz),
    )


def _channel_note(client: WebClient, channel_id: str) -> str | None:
    """Join a check-in's channel if public, so its reminders can be posted there; else
    what the person must do (Slack hides private channels Rapport isn't in)."""
    try:
        if join_channel(client, channel_id):
            return None
    except SlackApiError:
        pass
    return checkin_blocks.invite_note(channel_id)


def _prepare_channel(client: WebClient, respond: Respond, channel_id: str) -> None:
    if note := _channel_note(client, channel_id):
        respond(text=note)


def _confirm_saved(
    user_id: str, saved: checkins.CheckInView, client: WebClient, respond: Respond | None
) -> None:
    """The modal is closed by then: confirm by DM, with any step left for its channel."""
    note = _channel_note(client, saved.channel_id) if saved.channel_id else None
    client.chat_postMessage(channel=user_id, text=checkin_blocks.saved_text(saved, note))
