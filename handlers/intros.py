"""``/rapport intros …`` and the intro buttons: *Count me in* / *Not for me*, *Suggest a
time*, and *Did you meet?*'s *Yes* / *Not yet* / *Skip this one*. Every button re-checks who
clicked: a group's buttons answer only the people in it."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

from slack_bolt import App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.intros import blocks as intro_blocks
from bot.intros import figures, groups, preferences
from bot.intros import settings as intro_settings
from bot.intros.models import Answer, Choice, Route
from bot.relationships import domain as rel
from bot.relationships.models import Role
from bot.relationships.parser import RapportCommand
from handlers.routing import Call, Click, Reply, Router, button, number

ANSWERS = {
    intro_blocks.MET_YES: Answer.MET,
    intro_blocks.MET_NOT_YET: Answer.NOT_YET,
    intro_blocks.MET_SKIP: Answer.SKIPPED,
}


def register(app: App, rapport: Router[RapportCommand]) -> None:
    rapport.add("intros show", show_intros, reads_only=True)
    for operation in ("on", "off", "every", "size", "default", "history"):
        rapport.add(f"intros {operation}", change_intros)
    rapport.add("intros me", change_mine)
    app.action(intro_blocks.COUNT_ME_IN)(button(count_me_in, number))
    app.action(intro_blocks.NOT_FOR_ME)(button(not_for_me, number))
    suggest_action = re.compile(rf"^{intro_blocks.SUGGEST_TIME}(_\d+)?$")
    app.action(suggest_action)(button(suggest_time, group_and_time))
    for action_id in intro_blocks.ANSWER_ACTIONS:
        app.action(action_id)(button(answer_met, number))


def show_intros(session: Session, call: Call[RapportCommand]) -> Reply:
    relationship, role = call.relationship_and_role(session)
    found = intro_settings.settings_for(session, relationship, call.now.date())
    mine = preferences.preference_of(session, relationship, call.user_id)
    owner = role is Role.OWNER
    text, blocks = intro_blocks.settings_blocks(
        relationship.name,
        found.enabled,
        found.every_weeks,
        found.weekday,
        found.size,
        found.default_in,
        found.history_months,
        intro_settings.next_round_day(found, call.now) if found.enabled else None,
        intro_blocks.my_state(
            mine.choice.value if mine is not None and mine.choice else None,
            mine.paused_until if mine is not None else None,
            found.default_in,
        ),
        figures.round_figures(session, relationship.id, call.now) if owner else None,
    )
    return Reply(text=text, blocks=blocks)


def change_intros(session: Session, call: Call[RapportCommand]) -> Reply:
    relationship = call.relationship(session)
    change = intro_settings.change(session, relationship, call.user_id, call.command.args, call.now)
    session.flush()
    found = intro_settings.settings_for(session, relationship, call.now.date())
    next_day = intro_settings.next_round_day(found, call.now) if found.enabled else None
    return Reply(text=intro_blocks.changed_text(change, next_day))


def change_mine(session: Session, call: Call[RapportCommand]) -> Reply:
    relationship = call.relationship(session)
    rel.require_member(session, relationship, call.user_id)
    operation = call.command.args[1]
    until = None
    if operation == "pause":
        weeks = int(call.command.args[2])
        until = preferences.pause(session, relationship, call.user_id, weeks, call.now.date())
    else:
        choice = Choice.IN if operation == "on" else Choice.OUT
        preferences.set_choice(session, relationship, call.user_id, choice)
    return Reply(text=intro_blocks.me_text(operation, until))


def _choose(session: Session, click: Click[int], choice: Choice) -> Reply:
    relationship, _ = rel.member_of(session, click.team_id, click.value, click.user_id)
    preferences.set_choice(session, relationship, click.user_id, choice)
    text = intro_blocks.COUNTED_IN if choice is Choice.IN else intro_blocks.COUNTED_OUT
    return Reply(text=text)


def count_me_in(session: Session, click: Click[int]) -> Reply:
    return _choose(session, click, Choice.IN)


def not_for_me(session: Session, click: Click[int]) -> Reply:
    return _choose(session, click, Choice.OUT)


def group_and_time(action: dict) -> tuple[int, datetime]:
    """``"<group id>:<unix seconds>"``; a ``ValueError`` when garbled."""
    group_id, _, seconds = action.get("value", "").partition(":")
    if not group_id.isdigit() or not seconds.isdigit():
        raise ValueError(action.get("value"))
    return int(group_id), datetime.fromtimestamp(int(seconds), UTC)


def suggest_time(session: Session, click: Click[tuple[int, datetime]]) -> Reply:
    """Said where the intro is (the group DM, or each person's DM), in everyone's own time."""
    group_id, slot = click.value
    group = groups.group_for(session, click.team_id, group_id, click.user_id)
    groups.mark(session, group_id, clicked=True)
    text = intro_blocks.suggestion_text(click.user_id, slot, group.people)
    if group.route is Route.GROUP_DM and group.conversation_id is not None:
        channels = [group.conversation_id]
    else:  # one DM each: everyone hears it in their own
        channels = group.user_ids()
    return Reply(follow_up=functools.partial(_post, channels, text))


def _post(channels: list[str], text: str, client: WebClient, respond: Respond) -> None:
    for channel in channels:
        client.chat_postMessage(channel=channel, text=text)


def answer_met(session: Session, click: Click[int]) -> Reply:
    groups.group_for(session, click.team_id, click.value, click.user_id)
    groups.answer(session, click.value, click.user_id, ANSWERS[click.action_id])
    return Reply(text=intro_blocks.ANSWERED[click.action_id], replace_original=True)
