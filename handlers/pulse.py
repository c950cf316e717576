"""``/pulse``, its buttons and its modals. Thin: parse, one domain call, render.

Every button re-checks, in the clicker's workspace, that they belong to the round's
relationship: buttons can be replayed.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import datetime

from slack_bolt import App, Respond
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
from bot.relationships.models import Relationship, Role
from bot.relationships.parser import UsageError
from bot.slack.blocks import Blocks
from handlers.routing import (
    Call,
    Click,
    FollowUp,
    FormErrors,
    Reply,
    Router,
    Subcommand,
    Submission,
    button,
    number,
    submission,
)

STALE = pulse_blocks.STALE_BUTTON
FORM_REFUSALS = (rel.RapportError, ValueError)  # a garbled modal, a cadence it can't keep


def pulse_router() -> Router[PulseCommand]:
    """``/pulse``'s subcommands; ``create_app`` adds the command with the other two."""
    pulse_command = Router(parse, refusals=(UsageError, rel.RapportError, CadenceError))
    for name, run in SUBCOMMANDS.items():
        pulse_command.add(name, run, reads_only=name in READ_ONLY)
    return pulse_command


def register(app: App) -> None:
    app.action(re.compile(r"^pulse_answer_[1-5]$"))(button(answer, round_and_question, STALE))
    app.action(pulse_blocks.CHANGE_ANSWER_ACTION)(button(change_answer, round_and_question, STALE))
    app.action("pulse_comment")(button(add_comment, number, STALE))
    app.view(pulse_blocks.COMMENT_CALLBACK)(submission(submit_comment, "comment"))
    app.action(pulse_schedule_modal.EDIT_ACTION)(button(edit_schedule, number, STALE))
    app.action(pulse_blocks.SEND_NOW_ACTION)(button(send_now, number, STALE))
    app.action(pulse_blocks.GIVE_FEEDBACK_ACTION)(
        button(give_feedback_now, number, STALE, reads_only=True)
    )
    app.view(pulse_schedule_modal.CALLBACK_ID)(submission(save_schedule, "every", FORM_REFUSALS))
    app.view(pulse_blocks.FEEDBACK_CALLBACK)(submission(submit_feedback, "score", FORM_REFUSALS))


def parse(text: str) -> PulseCommand:
    """``/pulse …`` text → command; a ``UsageError`` says what went wrong, then the usage."""
    try:
        return parse_pulse_command(text)
    except UsageError as error:
        raise UsageError(pulse_blocks.usage_text(str(error))) from error


def round_and_question(action: dict) -> tuple[int, int]:
    """A score or "Change my answer" button's ``round:question``."""
    round_id, question_key = (int(part) for part in action.get("value", "").split(":"))
    return round_id, question_key


def answer(session: Session, click: Click[tuple[int, int]]) -> Reply:
    round_id, question_key = click.value
    score = int(click.action_id.rsplit("_", 1)[1])
    mine = pulse_answers.record_answer(
        session, click.team_id, click.user_id, round_id, question_key, score, click.now
    )
    blocks = pulse_blocks.prompt_blocks(mine.round, mine.scores, mine.commented)
    return Reply(follow_up=_redraw(click, pulse_blocks.answered_text(mine.scores), blocks))


def change_answer(session: Session, click: Click[tuple[int, int]]) -> Reply:
    """Bring one question's buttons back, while the round is open."""
    round_id, question_key = click.value
    mine = pulse_answers.my_answers_if_open(
        session, click.team_id, click.user_id, round_id, click.now
    )
    blocks = pulse_blocks.prompt_blocks(
        mine.round, mine.scores, mine.commented, changing=question_key
    )
    return Reply(follow_up=_redraw(click, pulse_blocks.prompt_text(mine.round), blocks))


def add_comment(session: Session, click: Click[int]) -> Reply:
    pulse_answers.my_answers_if_open(session, click.team_id, click.user_id, click.value, click.now)
    modal = pulse_blocks.comment_modal(click.value, click.channel_id or "", click.message_ts or "")
    return Reply(modal=modal)


def submit_comment(session: Session, form: Submission) -> Reply:
    meta = json.loads(form.metadata or "{}")
    mine = pulse_answers.record_comment(
        session, form.team_id, form.user_id, int(meta.get("round", 0)), form.field("comment") or "",
        form.now,
    )  # fmt: skip
    if not (meta.get("channel") and meta.get("ts")):
        return Reply()
    blocks = pulse_blocks.prompt_blocks(mine.round, mine.scores, mine.commented)
    return Reply(
        follow_up=_update_message(meta["channel"], meta["ts"], pulse_blocks.COMMENT_THANKS, blocks)
    )


def edit_schedule(session: Session, click: Click[int]) -> Reply:
    """Open the schedule modal, for owners only (the button can be replayed)."""
    relationship = rel.owner_of(session, click.team_id, click.value, click.user_id)
    return Reply(
        modal=pulse_schedule_modal.schedule_modal(
            relationship.id, relationship.name, pulse_schedule.schedule(session, relationship)
        )
    )


def save_schedule(session: Session, form: Submission) -> Reply:
    schedule, errors = pulse_schedule_modal.form_from_state(form.values)
    if schedule is None:
        raise FormErrors(errors)
    relationship = rel.get_relationship(session, form.team_id, int(form.metadata or 0))
    saved = pulse_schedule.edit_schedule(session, relationship, form.user_id, schedule, form.now)
    return Reply(modal=pulse_schedule_modal.saved_modal(relationship.name, saved))


def submit_feedback(session: Session, form: Submission) -> Reply:
    score = form.field("score") or ""
    if not score.isdigit():
        raise FormErrors({"score": pulse_blocks.PICK_A_SCORE})
    relationship = rel.get_relationship(session, form.team_id, int(form.metadata or 0))
    pulse_answers.give_feedback(
        session, form.team_id, form.user_id, relationship, int(score), form.field("comment") or "",
        form.now,
    )  # fmt: skip
    return Reply(modal=pulse_blocks.thanks_modal(relationship.name))


def _redraw(click: Click[tuple[int, int]], text: str, blocks: Blocks) -> FollowUp | None:
    """Update the prompt message the person clicked in, after the ack."""
    if not (click.channel_id and click.message_ts):
        return None
    return _update_message(click.channel_id, click.message_ts, text, blocks)


def _update_message(channel: str, ts: str, text: str, blocks: Blocks) -> FollowUp:
    return functools.partial(_chat_update, channel, ts, text, blocks)


def _chat_update(
    channel: str, ts: str, text: str, blocks: Blocks, client: WebClient, respond: Respond
) -> None:
    client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)


# -------------------------------------------------------------------------- subcommands


def _help(session: Session, call: Call[PulseCommand]) -> Reply:
    return Reply(text=pulse_blocks.USAGE)


def _feedback(session: Session, call: Call[PulseCommand]) -> Reply:
    return _feedback_form(session, call.relationship(session), call.user_id)


def give_feedback_now(session: Session, click: Click[int]) -> Reply:
    """*Give feedback now*, a button valued with a relationship id: ``/pulse``'s form."""
    relationship = rel.get_relationship(session, click.team_id, click.value)
    return _feedback_form(session, relationship, click.user_id)


def _feedback_form(session: Session, relationship: Relationship, user_id: str) -> Reply:
    rel.require_member(session, relationship, user_id)
    question = pulse_questions.questions(session, relationship)[0][1]
    return Reply(
        text="", modal=pulse_blocks.feedback_modal(relationship.id, relationship.name, question)
    )


def _schedule(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship, role = call.relationship_and_role(session)
    found = pulse_schedule.schedule(session, relationship)
    text = pulse_blocks.schedule_text(relationship.name, found)
    if role is not Role.OWNER:
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
    return Reply(text=pulse_blocks.schedule_set_text(relationship.name, found))


def _pause(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship = call.relationship(session)
    paused = pulse_schedule.set_paused(session, relationship, call.user_id, True, call.now)
    return Reply(text=pulse_blocks.paused_text(relationship.name, paused))


def _resume(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship = call.relationship(session)
    resumed = pulse_schedule.set_paused(session, relationship, call.user_id, False, call.now)
    found = pulse_schedule.schedule(session, relationship) if resumed else None
    return Reply(text=pulse_blocks.resumed_text(relationship.name, found))


def _send(session: Session, call: Call[PulseCommand]) -> Reply:
    return _open_round(session, call.relationship(session), call.user_id, call.now)


def send_now(session: Session, click: Click[int]) -> Reply:
    """*Send a pulse now*, a button valued with a relationship id: ``/pulse send``."""
    relationship = rel.get_relationship(session, click.team_id, click.value)
    return _open_round(session, relationship, click.user_id, click.now)


def _open_round(session: Session, relationship: Relationship, user_id: str, now: datetime) -> Reply:
    opened = pulse_rounds.open_round_now(session, relationship, user_id, now)
    people = len(rel.people(session, relationship))
    return Reply(text=pulse_blocks.round_opened_text(relationship.name, people, opened.closes_at))


def _results(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship, role = call.relationship_and_role(session)
    is_owner = role is Role.OWNER
    found = pulse_results.results(session, relationship, is_owner, call.now)
    return Reply(
        text=pulse_results_blocks.results_title(relationship.name),
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
    return Reply(text=pulse_blocks.question_added_text(relationship.name, found))


def _remove_question(session: Session, call: Call[PulseCommand]) -> Reply:
    relationship = call.relationship(session)
    removed, found = pulse_questions.remove_question(
        session, relationship, call.user_id, call.command.number or 0
    )
    return Reply(text=pulse_blocks.question_removed_text(removed, relationship.name, found))


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
    setting = call.command.setting or ""
    return Reply(text=pulse_blocks.setting_changed_text(relationship.name, setting, value))


# Subcommands that only show something: their ack takes no write lock
READ_ONLY = frozenset({"help", "schedule", "results", "questions", "settings"})
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
