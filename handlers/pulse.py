"""``/pulse``, its buttons and its modals. Thin: parse, one domain call, render.

Every button re-checks, in the clicker's workspace, that they belong to the round's
relationship: buttons can be replayed. Slack calls go through ``services.defer``.
"""

from __future__ import annotations

import json
import logging
import re

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.core.cadence import CadenceError
from bot.pulse import answers as pulse_answers
from bot.pulse import blocks as pulse_blocks
from bot.pulse import questions as pulse_questions
from bot.pulse import results as pulse_results
from bot.pulse import results_blocks as pulse_results_blocks
from bot.pulse import rounds as pulse_rounds
from bot.pulse import schedule as pulse_schedule
from bot.pulse import schedule_modal as pulse_schedule_modal
from bot.pulse import settings as pulse_settings
from bot.pulse.parser import PulseCommand, parse_pulse_command
from bot.relationships import domain as rel
from bot.relationships.parser import UsageError
from bot.services import Services
from bot.slack import mrkdwn
from handlers.routing import Call, Reply, Router, Subcommand

logger = logging.getLogger(__name__)

STALE_BUTTON = "That button is out of date. `/pulse` lets you give feedback any time."


def register(app: App) -> None:
    pulse_command = Router(parse, refusals=(UsageError, rel.RapportError, CadenceError))
    for name, run in SUBCOMMANDS.items():
        pulse_command.add(name, run)
    app.command("/pulse")(pulse_command.command)
    app.action(re.compile(r"^pulse_answer_[1-5]$"))(answer)
    app.action(pulse_blocks.CHANGE_ANSWER_ACTION)(change_answer)
    app.action("pulse_comment")(add_comment)
    app.view(pulse_blocks.COMMENT_CALLBACK)(submit_comment)
    app.action(pulse_schedule_modal.EDIT_ACTION)(edit_schedule)
    app.view(pulse_schedule_modal.CALLBACK_ID)(save_schedule)
    app.view(pulse_blocks.FEEDBACK_CALLBACK)(submit_feedback)


def parse(text: str) -> PulseCommand:
    """``/pulse …`` text → command; a ``UsageError`` says what went wrong, then the usage."""
    try:
        return parse_pulse_command(text)
    except UsageError as error:
        raise UsageError(pulse_blocks.usage_text(str(error))) from error


def answer(
    ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond, services: Services
) -> None:
    score = int(action["action_id"].rsplit("_", 1)[1])
    question = _round_and_question(action)
    if question is None:
        _answer_privately(services, ack, respond, STALE_BUTTON)
        return
    round_id, question_key = question
    try:
        with services.db.transaction() as session:
            mine = pulse_answers.record_answer(
                session,
                body["team"]["id"],
                body["user"]["id"],
                round_id,
                question_key,
                score,
                services.clock.now(),
            )
    except rel.RapportError as error:
        _answer_privately(services, ack, respond, str(error))
        return
    ack()
    text = pulse_blocks.answered_text(mine.scores)
    blocks = pulse_blocks.prompt_blocks(mine.round, mine.scores, mine.commented)
    _redraw_prompt(services, client, body, text, blocks)


def change_answer(
    ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond, services: Services
) -> None:
    """Bring one question's buttons back, while the round is open."""
    question = _round_and_question(action)
    if question is None:
        _answer_privately(services, ack, respond, STALE_BUTTON)
        return
    round_id, question_key = question
    try:
        with services.db.transaction() as session:
            mine = pulse_answers.my_answers_if_open(
                session, body["team"]["id"], body["user"]["id"], round_id, services.clock.now()
            )
    except rel.RapportError as error:
        _answer_privately(services, ack, respond, str(error))
        return
    ack()
    blocks = pulse_blocks.prompt_blocks(
        mine.round, mine.scores, mine.commented, changing=question_key
    )
    _redraw_prompt(services, client, body, pulse_blocks.prompt_text(mine.round), blocks)


def add_comment(
    ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond, services: Services
) -> None:
    value = action.get("value", "")
    if not value.isdigit():
        _answer_privately(services, ack, respond, STALE_BUTTON)
        return
    try:
        with services.db.transaction() as session:
            pulse_answers.my_answers_if_open(
                session,
                body["team"]["id"],
                body["user"]["id"],
                int(value),
                services.clock.now(),
            )
    except rel.RapportError as error:
        _answer_privately(services, ack, respond, str(error))
        return
    ack()
    channel, ts = _message_location(body)
    services.defer(
        client.views_open,
        trigger_id=body["trigger_id"],
        view=pulse_blocks.comment_modal(int(value), channel or "", ts or ""),
    )


def submit_comment(ack: Ack, body: dict, view: dict, client: WebClient, services: Services) -> None:
    meta = json.loads(view.get("private_metadata") or "{}")
    text = _value(view, "comment") or ""
    try:
        with services.db.transaction() as session:
            mine = pulse_answers.record_comment(
                session,
                body["team"]["id"],
                body["user"]["id"],
                int(meta.get("round", 0)),
                text,
                services.clock.now(),
            )
    except rel.RapportError as error:
        ack(response_action="errors", errors={"comment": mrkdwn.plain(str(error))})
        return
    ack()
    if meta.get("channel") and meta.get("ts"):
        services.defer(
            client.chat_update,
            channel=meta["channel"],
            ts=meta["ts"],
            text="Thanks for your comment.",
            blocks=pulse_blocks.prompt_blocks(mine.round, mine.scores, mine.commented),
        )


def edit_schedule(
    ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond, services: Services
) -> None:
    """Open the schedule modal, for owners only (the button can be replayed)."""
    value = action.get("value", "")
    try:
        with services.db.transaction() as session:
            relationship = rel.get_relationship(session, body["team"]["id"], int(value))
            rel.require_owner(session, relationship, body["user"]["id"])
            modal = pulse_schedule_modal.schedule_modal(
                relationship.id, relationship.name, pulse_schedule.schedule(session, relationship)
            )
    except (rel.RapportError, ValueError) as error:
        message = str(error) if isinstance(error, rel.RapportError) else STALE_BUTTON
        _answer_privately(services, ack, respond, message)
        return
    ack()
    services.defer(client.views_open, trigger_id=body["trigger_id"], view=modal)


def save_schedule(ack: Ack, body: dict, view: dict, services: Services) -> None:
    form, errors = pulse_schedule_modal.form_from_state(view["state"]["values"])
    if form is None:
        ack(response_action="errors", errors=errors)
        return
    try:
        with services.db.transaction() as session:
            relationship = rel.get_relationship(
                session, body["team"]["id"], int(view.get("private_metadata") or 0)
            )
            saved = pulse_schedule.edit_schedule(
                session, relationship, body["user"]["id"], form, services.clock.now()
            )
            name = relationship.name
    except (rel.RapportError, ValueError) as error:
        ack(response_action="errors", errors={"every": mrkdwn.plain(str(error))})
        return
    ack(response_action="update", view=pulse_schedule_modal.saved_modal(name, saved))


def submit_feedback(ack: Ack, body: dict, view: dict, services: Services) -> None:
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    score_text = _value(view, "score") or ""
    if not score_text.isdigit():
        ack(response_action="errors", errors={"score": "Pick a score from 1 to 5."})
        return
    try:
        with services.db.transaction() as session:
            relationship = rel.get_relationship(
                session, team_id, int(view.get("private_metadata") or 0)
            )
            pulse_answers.give_feedback(
                session,
                team_id,
                user_id,
                relationship,
                int(score_text),
                _value(view, "comment") or "",
                services.clock.now(),
            )
            name = relationship.name
    except (rel.RapportError, ValueError) as error:
        ack(response_action="errors", errors={"score": mrkdwn.plain(str(error))})
        return
    ack(response_action="update", view=pulse_blocks.thanks_modal(name))


def _round_and_question(action: dict) -> tuple[int, int] | None:
    """A score or "Change my answer" button's ``round:question``; None when it's garbled."""
    try:
        round_id, question_key = (int(part) for part in action.get("value", "").split(":"))
    except ValueError:
        return None
    return round_id, question_key


def _answer_privately(services: Services, ack: Ack, respond: Respond, text: str) -> None:
    """Acknowledge a click, then tell only the clicker ``text`` under the message."""
    ack()
    services.defer(respond, text=text, replace_original=False)


def _redraw_prompt(
    services: Services, client: WebClient, body: dict, text: str, blocks: list[dict]
) -> None:
    """Update the prompt message the person clicked in, after the ack."""
    channel, ts = _message_location(body)
    if channel and ts:
        services.defer(client.chat_update, channel=channel, ts=ts, text=text, blocks=blocks)


def _message_location(body: dict) -> tuple[str | None, str | None]:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return channel, ts


def _value(view: dict, block_id: str) -> str | None:
    state = view.get("state", {}).get("values", {}).get(block_id, {}).get("value", {})
    if state.get("selected_option"):
        return state["selected_option"].get("value")
    return state.get("value")


# -------------------------------------------------------------------------- subcommands


def _help(session: Session, call: Call[PulseCommand]) -> Reply:
    return Reply(text=pulse_blocks.USAGE)


def _feedback(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship = call.relationship(session)
    rel.require_member(session, relationship, call.user_id)
    question = pulse_questions.questions(session, relationship)[0][1]
    return Reply(
        text="", modal=pulse_blocks.feedback_modal(relationship.id, relationship.name, question)
    )


def _schedule(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship = call.relationship(session)
    found = pulse_schedule.schedule(session, relationship)
    text = pulse_blocks.schedule_text(relationship.name, found)
    if not rel.is_owner(session, relationship, call.user_id):
        return Reply(text=text)
    return Reply(
        text=text,
        blocks=pulse_schedule_modal.schedule_blocks(relationship.id, relationship.name, found),
    )


def _set_schedule(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship = call.relationship(session)
    assert call.command.cadence is not None
    found = pulse_schedule.set_schedule(
        session, relationship, call.user_id, call.command.cadence, call.now
    )
    return Reply(text="Done. " + pulse_blocks.schedule_text(relationship.name, found))


def _pause(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship = call.relationship(session)
    name = mrkdwn.escape(relationship.name)
    if pulse_schedule.set_paused(session, relationship, call.user_id, True, call.now):
        return Reply(text=f"⏸ Pulse for *{name}* is paused. `/pulse resume` starts it again.")
    return Reply(text=f"Pulse for *{name}* was already paused.")


def _resume(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship = call.relationship(session)
    name = mrkdwn.escape(relationship.name)
    if pulse_schedule.set_paused(session, relationship, call.user_id, False, call.now):
        found = pulse_schedule.schedule(session, relationship)
        return Reply(
            text="▶️ Pulse is back on. " + pulse_blocks.schedule_text(relationship.name, found)
        )
    return Reply(text=f"Pulse for *{name}* isn't paused.")


def _send(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship = call.relationship(session)
    opened = pulse_rounds.open_round_now(session, relationship, call.user_id, call.now)
    people = len(rel.people(session, relationship))
    return Reply(
        text=f"A pulse round for *{mrkdwn.escape(relationship.name)}* is open: I'm sending it "
        f"to {people} people within a minute. It closes "
        f"{pulse_blocks.when(opened.closes_at)}."
    )


def _results(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship = call.relationship(session)
    rel.require_member(session, relationship, call.user_id)
    is_owner = rel.is_owner(session, relationship, call.user_id)
    found = pulse_results.results(session, relationship, is_owner, call.now)
    return Reply(
        text=f"Pulse results for {mrkdwn.escape(relationship.name)}",
        blocks=pulse_results_blocks.results_blocks(found, is_owner),
    )


def _questions(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship = call.relationship(session)
    return Reply(
        text=pulse_blocks.questions_text(
            relationship.name, pulse_questions.questions(session, relationship)
        )
    )


def _add_question(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship = call.relationship(session)
    found = pulse_questions.add_question(
        session, relationship, call.user_id, call.command.text or "", call.now
    )
    return Reply(
        text="Added. New rounds ask these:\n"
        + pulse_blocks.questions_text(relationship.name, found)
    )


def _remove_question(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship = call.relationship(session)
    removed, found = pulse_questions.remove_question(
        session, relationship, call.user_id, call.command.number or 0
    )
    return Reply(
        text=f"Removed “{mrkdwn.escape(removed)}”.\n"
        + pulse_blocks.questions_text(relationship.name, found)
    )


def _settings(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship = call.relationship(session)
    return Reply(
        text=pulse_blocks.settings_text(
            relationship.name, pulse_schedule.schedule(session, relationship)
        )
    )


def _set_setting(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship = call.relationship(session)
    value = pulse_settings.change_setting(
        session,
        relationship,
        call.user_id,
        call.command.setting or "",
        call.command.text or "",
        call.now,
    )
    return Reply(
        text=f"Done: `{mrkdwn.escape(call.command.setting or '')}` is now {value} for "
        f"*{mrkdwn.escape(relationship.name)}*."
    )


SUBCOMMANDS: dict[str, Subcommand] = {
    "feedback": _feedback,
    "help": _help,
    "schedule": _schedule,
    "set-schedule": _set_schedule,
    "pause": _pause,
    "resume": _resume,
    "send": _send,
    "results": _results,
    "questions": _questions,
    "add-question": _add_question,
    "remove-question": _remove_question,
    "settings": _settings,
    "set-setting": _set_setting,
}
