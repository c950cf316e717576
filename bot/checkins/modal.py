"""The check-in modal (``/checkin new``, ``/checkin edit``, "Schedule an informal catch-up") and
the note modal after a follow-up answer."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from bot.checkins.forms import EditForm
from bot.checkins.parser import (
    DEFAULT_REMINDERS,
    TITLE_MAX,
    CheckInDraft,
    parse_reminders,
    reminders_text,
)
from bot.core.cadence import CadenceError, parse_cadence
from bot.core.time_input import parse_duration, parse_timezone
from bot.relationships.domain import RapportError

CALLBACK_ID = "checkin_save"
NOTE_CALLBACK_ID = "checkin_note"


def _text(block_id: str, label: str, initial: str, hint: str, optional: bool = False) -> dict:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value"}
    if initial:
        element["initial_value"] = initial
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "hint": {"type": "plain_text", "text": hint},
        "element": element,
    }


def checkin_modal(form: EditForm) -> dict[str, Any]:
    people: dict[str, Any] = {"type": "multi_users_select", "action_id": "value"}
    if form.participants:
        people["initial_users"] = list(form.participants)
    channel: dict[str, Any] = {"type": "conversations_select", "action_id": "value"}
    if form.channel_id:
        channel["initial_conversation"] = form.channel_id
    editing = form.checkin_id is not None
    first_date = {  # a new check-in only: an edit keeps the schedule's place
        "type": "input",
        "block_id": "starts",
        "optional": True,
        "label": {"type": "plain_text", "text": "First date"},
        "hint": {"type": "plain_text", "text": "Optional: no check-in before this day"},
        "element": {"type": "datepicker", "action_id": "value"},
    }
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": json.dumps({"r": form.relationship_id, "c": form.checkin_id}),
        "title": {"type": "plain_text", "text": "Edit check-in" if editing else "New check-in"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _text("title", "Title", form.title, f"Up to {TITLE_MAX} characters"),
            _text(
                "cadence",
                "When",
                form.cadence,
                "weekly tue 10:00 · every 2 weeks thu 14:30 · monthly first monday 09:30",
            ),
            *([] if editing else [first_date]),
            _text("tz", "Time zone", form.tz, "e.g. Europe/London, America/New_York"),
            _text("duration", "Duration", f"{form.duration_minutes}m", "e.g. 30m, 1h"),
            _text(
                "remind",
                "Remind before",
                reminders_text(form.reminders),
                "e.g. 1d, 15m (up to three)",
            ),
            {
                "type": "input",
                "block_id": "participants",
                "label": {"type": "plain_text", "text": "Participants (both sides)"},
                "element": people,
            },
            {
                "type": "input",
                "block_id": "channel",
                "optional": True,
                "label": {"type": "plain_text", "text": "Also remind in channel"},
                "element": channel,
            },
        ],
    }


def draft_from_state(values: dict[str, Any]) -> tuple[CheckInDraft | None, dict[str, str]]:
    """The submitted draft, or errors keyed by block id."""

    def text(block_id: str) -> str:
        return (values.get(block_id, {}).get("value", {}).get("value") or "").strip()

    errors: dict[str, str] = {}
    cadence = tz = None
    duration = timedelta(minutes=30)
    try:
        cadence = parse_cadence(text("cadence"))
    except CadenceError as error:
        errors["cadence"] = str(error)
    try:
        tz = parse_timezone(text("tz")).key
    except CadenceError as error:
        errors["tz"] = str(error)
    try:
        duration = parse_duration(text("duration") or "30m")
    except CadenceError as error:
        errors["duration"] = str(error)
    reminders = DEFAULT_REMINDERS
    try:
        reminders = parse_reminders(text("remind") or "1d,15m")
    except RapportError as error:
        errors["remind"] = str(error)
    starts_on = None
    if picked := values.get("starts", {}).get("value", {}).get("selected_date"):
        try:
            starts_on = date.fromisoformat(picked)
        except ValueError:
            errors["starts"] = "Pick the first date from the calendar."
    people = values.get("participants", {}).get("value", {}).get("selected_users") or []
    channel = values.get("channel", {}).get("value", {}).get("selected_conversation")
    if errors or cadence is None:
        return None, errors
    draft = CheckInDraft(
        text("title"), cadence, tuple(people), tz, duration, channel, reminders, starts_on
    )
    return draft, {}


def note_modal(occurrence_id: int, title: str, outcome: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": NOTE_CALLBACK_ID,
        "private_metadata": str(occurrence_id),
        "title": {"type": "plain_text", "text": "Add a note"},
        "submit": {"type": "plain_text", "text": "Save note"},
        "close": {"type": "plain_text", "text": "No note"},
        "blocks": [
            {
                "type": "section",
                "text": {"type": "plain_text", "text": f"{title}: {outcome}. Anything to add?"},
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": {"type": "plain_text", "text": "Note (participants see it)"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 500,
                },
            },
        ],
    }
