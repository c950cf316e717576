"""The pulse schedule modal, opened by "Edit schedule" under ``/pulse schedule``: how often,
which day, what local time and how many days to answer, each checked on its own so Slack
shows the problem next to the field (plain text, no mentions)."""

from __future__ import annotations

import calendar
from typing import Any

from bot.core.cadence import CadenceError
from bot.core.time_input import parse_time
from bot.pulse.blocks import schedule_text
from bot.pulse.schedule import Schedule, ScheduleForm
from bot.pulse.settings import SETTING_RULES
from bot.slack import mrkdwn
from bot.slack.blocks import Blocks, button, context, section

CALLBACK_ID = "pulse_schedule"
EDIT_ACTION = "pulse_edit_schedule"
# option value -> (label, weeks between rounds; None = monthly)
EVERY = {
    "weekly": ("Weekly", 1),
    "every-2-weeks": ("Every 2 weeks", 2),
    "monthly": ("Monthly", None),
}
WINDOW = SETTING_RULES["window"]


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def _input(block_id: str, label: str, element: dict[str, Any], hint: str = "") -> dict:
    block = {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": {"action_id": "value", **element},
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def schedule_blocks(relationship_id: int, name: str, schedule: Schedule) -> Blocks:
    """``/pulse schedule`` for an owner: the schedule, and a button to change it."""
    edit = button("Edit schedule", EDIT_ACTION, str(relationship_id), style="primary")
    return [section(schedule_text(name, schedule)), {"type": "actions", "elements": [edit]}]


def saved_modal(name: str, schedule: Schedule) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Pulse schedule"},
        "close": {"type": "plain_text", "text": "Done"},
        "blocks": [section("Saved. " + schedule_text(name, schedule))],
    }


def schedule_modal(relationship_id: int, name: str, schedule: Schedule) -> dict[str, Any]:
    """The form, filled in with the schedule in force."""
    cadence = schedule.cadence
    every: dict[str, Any] = {
        "type": "static_select",
        "options": [_option(label, value) for value, (label, _) in EVERY.items()],
    }
    current = "monthly" if cadence.kind == "monthly" else None
    if cadence.kind == "weekly":
        current = next(
            (v for v, (_, weeks) in EVERY.items() if weeks == cadence.interval_weeks), None
        )
    if current is not None:
        every["initial_option"] = _option(EVERY[current][0], current)
    days = [_option(day, str(number)) for number, day in enumerate(calendar.day_name)]
    weekday: dict[str, Any] = {"type": "static_select", "options": days}
    if cadence.weekday is not None:
        weekday["initial_option"] = days[cadence.weekday]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": str(relationship_id),
        "title": {"type": "plain_text", "text": "Pulse schedule"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(f"*{mrkdwn.escape(name)}*"),
            _input(
                "every",
                "How often",
                every,
                "Monthly rounds keep their week of the month (the first, by default).",
            ),
            _input("weekday", "Day", weekday),
            _input(
                "at",
                "Local time",
                {"type": "timepicker", "initial_time": cadence.at.strftime("%H:%M")},
                "Each person gets it at this time in their own Slack time zone.",
            ),
            _input(
                "window",
                "Days to answer",
                {
                    "type": "number_input",
                    "is_decimal_allowed": False,
                    "initial_value": str(schedule.window_days),
                    "min_value": f"{WINDOW.low:g}",
                    "max_value": f"{WINDOW.high:g}",
                },
                "A reminder goes to those who haven't answered before it closes.",
            ),
            context("Changing how often, the day or the time starts the new rhythm from today."),
        ],
    }


def form_from_state(values: dict[str, Any]) -> tuple[ScheduleForm | None, dict[str, str]]:
    """The submitted form, or plain-text errors keyed by block id."""

    def field(block_id: str) -> dict[str, Any]:
        return values.get(block_id, {}).get("value", {})

    errors: dict[str, str] = {}
    every = (field("every").get("selected_option") or {}).get("value")
    if every not in EVERY:
        errors["every"] = "Pick how often: weekly, every 2 weeks or monthly."
    weekday = (field("weekday").get("selected_option") or {}).get("value", "")
    if weekday not in {str(n) for n in range(7)}:
        errors["weekday"] = "Pick the day of the week it goes out."
    at = None
    try:
        at = parse_time(field("at").get("selected_time") or "")
    except CadenceError:
        errors["at"] = "Pick the local time it goes out, e.g. 10:00."
    window = (field("window").get("value") or "").strip()
    if not window.isdigit() or not WINDOW.low <= int(window) <= WINDOW.high:
        errors["window"] = (
            f"Give a whole number of days from {WINDOW.low:g} to {WINDOW.high:g}, e.g. 3."
        )
    if errors or every is None or at is None:
        return None, errors
    return ScheduleForm(EVERY[every][1], int(weekday), at, int(window)), {}
