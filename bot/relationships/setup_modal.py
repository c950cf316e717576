"""The ``/rapport setup`` modal: building it and reading its submitted state."""

from __future__ import annotations

from typing import Any

from bot.relationships.models import Side
from bot.relationships.setup import RelationshipDraft

CALLBACK_ID = "relationship_setup"


def _text_input(field: str, label: str, placeholder: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": field,
        "label": {"type": "plain_text", "text": label},
        "element": {
            "type": "plain_text_input",
            "action_id": "value",
            "max_length": 80,
            "placeholder": {"type": "plain_text", "text": placeholder},
        },
    }


def _people_input(field: str, label: str, hint: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": field,
        "optional": True,
        "label": {"type": "plain_text", "text": label},
        "hint": {"type": "plain_text", "text": hint},
        "element": {"type": "multi_users_select", "action_id": "value"},
    }


def setup_modal() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": {"type": "plain_text", "text": "New relationship"},
        "submit": {"type": "plain_text", "text": "Create"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _text_input("name", "Relationship name", "e.g. Acme ⇄ Stellar service desk"),
            _text_input("client_org", "Client organisation", "e.g. Acme"),
            _text_input("provider_org", "Provider organisation", "e.g. Stellar"),
            {
                "type": "input",
                "block_id": "creator_side",
                "label": {"type": "plain_text", "text": "Which side are you on?"},
                "hint": {"type": "plain_text", "text": "You'll be an owner on this side."},
                "element": {
                    "type": "radio_buttons",
                    "action_id": "value",
                    "initial_option": _side_option(Side.CLIENT),
                    "options": [_side_option(side) for side in Side],
                },
            },
            _people_input("client_owners", "Client owners", "They receive alerts."),
            _people_input("client_members", "Client members", "Front-line staff and managers."),
            _people_input("provider_owners", "Provider owners", "They receive alerts."),
            _people_input("provider_members", "Provider members", "Front-line staff and managers."),
            {
                "type": "input",
                "block_id": "watched_channels",
                "optional": True,
                "label": {"type": "plain_text", "text": "Shared channels to watch"},
                "hint": {
                    "type": "plain_text",
                    "text": "Where both sides talk. Invite Rapport to private ones.",
                },
                "element": {
                    "type": "multi_conversations_select",
                    "action_id": "value",
                    "filter": {"include": ["public", "private"], "exclude_bot_users": True},
                },
            },
            {
                "type": "input",
                "block_id": "alerts_channel",
                "optional": True,
                "label": {"type": "plain_text", "text": "Alerts channel"},
                "hint": {
                    "type": "plain_text",
                    "text": "Leave empty to send alerts to owners by DM.",
                },
                "element": {
                    "type": "conversations_select",
                    "action_id": "value",
                    "filter": {"include": ["public", "private"], "exclude_bot_users": True},
                },
            },
        ],
    }


def _side_option(side: Side) -> dict[str, Any]:
    return {
        "text": {"type": "plain_text", "text": f"{side.value.capitalize()} side"},
        "value": side.value,
    }


def draft_from_state(values: dict[str, dict[str, dict[str, Any]]]) -> RelationshipDraft:
    """Read the submitted ``view.state.values`` into a draft (missing fields read as empty)."""

    def field(block_id: str) -> dict[str, Any]:
        return values.get(block_id, {}).get("value", {}) or {}

    def text(block_id: str) -> str:
        return field(block_id).get("value") or ""

    def people(block_id: str) -> tuple[str, ...]:
        return tuple(field(block_id).get("selected_users") or ())

    side_value = (field("creator_side").get("selected_option") or {}).get("value")
    return RelationshipDraft(
        name=text("name"),
        client_org=text("client_org"),
        provider_org=text("provider_org"),
        creator_side=Side(side_value) if side_value in ("client", "provider") else Side.CLIENT,
        client_owners=people("client_owners"),
        client_members=people("client_members"),
        provider_owners=people("provider_owners"),
        provider_members=people("provider_members"),
        watched_channels=tuple(field("watched_channels").get("selected_conversations") or ()),
        alerts_channel=field("alerts_channel").get("selected_conversation"),
    )
