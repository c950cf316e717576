"""Block Kit's size limits, as Slack checks them before it takes a message or a view.

Slack refuses blocks that break a limit (too many blocks, a section's text over 3,000
characters, a button's label over 75, an empty text…): ``chat.*`` and response URLs answer
``invalid_blocks``, ``views.*`` ``invalid_arguments``, each naming the place by JSON
pointer. The limits are those of Slack's Block Kit reference for the blocks and elements
Rapport uses; a kind of block or element not listed here is only checked for its texts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

BLOCKS_IN_A_MESSAGE = 50
BLOCKS_IN_A_VIEW = 100  # a modal or App Home
VIEW_TEXT = {"title": 24, "submit": 24, "close": 24}
PRIVATE_METADATA = 3000
# block type -> {field: longest text}, for the fields holding a text object
BLOCK_TEXTS = {
    "section": {"text": 3000},
    "header": {"text": 150},
    "input": {"label": 2000, "hint": 2000},
    "image": {"title": 2000},
}
# block type -> (list field, most items)
BLOCK_LISTS = {
    "section": ("fields", 10),
    "context": ("elements", 10),
    "actions": ("elements", 25),
}
FIELD_TEXT = 2000  # each of a section's fields
# element type -> {field: longest text}
ELEMENT_TEXTS = {
    "button": {"text": 75},
    "static_select": {"placeholder": 150},
    "multi_static_select": {"placeholder": 150},
    "users_select": {"placeholder": 150},
    "multi_users_select": {"placeholder": 150},
    "conversations_select": {"placeholder": 150},
    "channels_select": {"placeholder": 150},
    "plain_text_input": {"placeholder": 150},
}
# element type -> {field: longest string}
ELEMENT_STRINGS = {"button": {"value": 2000, "url": 3000}}
OPTION_LISTS = {
    "static_select": 100,
    "multi_static_select": 100,
    "overflow": 5,
    "radio_buttons": 10,
    "checkboxes": 10,
}
OPTION_TEXT = 75
OPTION_VALUE = 150
ID_LENGTH = 255  # block_id, action_id


def view_problems(view: dict[str, Any]) -> list[tuple[str, str]]:
    """(Slack's message, JSON pointer) for each limit a view breaks."""
    found = [
        problem
        for field, longest in VIEW_TEXT.items()
        if field in view
        for problem in _text(view[field], f"/view/{field}", longest)
    ]
    if len(str(view.get("private_metadata", ""))) > PRIVATE_METADATA:
        found.append(_too_long(PRIVATE_METADATA, "/view/private_metadata"))
    return found + block_problems(view.get("blocks") or [], "/view/blocks", BLOCKS_IN_A_VIEW)


def block_problems(
    blocks: list[dict[str, Any]], pointer: str, most: int = BLOCKS_IN_A_MESSAGE
) -> list[tuple[str, str]]:
    """(Slack's message, JSON pointer) for each limit ``blocks`` break, and each block_id
    used twice."""
    found = [] if len(blocks) <= most else [_too_many(most, pointer)]
    for n, block in enumerate(blocks):
        found += _block(block, f"{pointer}/{n}")
    found += _repeated([block.get("block_id") for block in blocks], "block_id", pointer)
    return found


def _block(block: dict[str, Any], at: str) -> Iterator[tuple[str, str]]:
    kind = block.get("type", "")
    yield from _id_and_texts(block, "block_id", BLOCK_TEXTS, at)
    if kind in BLOCK_LISTS:
        field, most = BLOCK_LISTS[kind]
        items = block.get(field) or []
        if len(items) > most:
            yield _too_many(most, f"{at}/{field}")
        for n, item in enumerate(items):
            where = f"{at}/{field}/{n}"
            if kind == "section":
                yield from _text(item, where, FIELD_TEXT)
            elif item.get("type") in ("mrkdwn", "plain_text"):
                yield from _text(item, where, 3000)
            else:
                yield from _element(item, where)
        if kind == "actions":  # its elements' action_ids, each used once
            action_ids = [item.get("action_id") for item in items]
            yield from _repeated(action_ids, "action_id", f"{at}/{field}")
    for field in ("accessory", "element"):
        if field in block:
            yield from _element(block[field], f"{at}/{field}")


def _element(element: dict[str, Any], at: str) -> Iterator[tuple[str, str]]:
    kind = element.get("type", "")
    yield from _id_and_texts(element, "action_id", ELEMENT_TEXTS, at)
    for field, longest in ELEMENT_STRINGS.get(kind, {}).items():
        if len(str(element.get(field, ""))) > longest:
            yield _too_long(longest, f"{at}/{field}")
    if kind in OPTION_LISTS:
        options = element.get("options") or []
        if len(options) > OPTION_LISTS[kind]:
            yield _too_many(OPTION_LISTS[kind], f"{at}/options")
        for n, option in enumerate(options):
            yield from _option(option, f"{at}/options/{n}")
        for n, group in enumerate(element.get("option_groups") or []):
            for m, option in enumerate(group.get("options") or []):
                yield from _option(option, f"{at}/option_groups/{n}/options/{m}")
    if "initial_option" in element:
        yield from _option(element["initial_option"], f"{at}/initial_option")


def _option(option: dict[str, Any], at: str) -> Iterator[tuple[str, str]]:
    yield from _text(option.get("text", {}), f"{at}/text", OPTION_TEXT)
    if len(str(option.get("value", ""))) > OPTION_VALUE:
        yield _too_long(OPTION_VALUE, f"{at}/value")


def _text(text: Any, at: str, longest: int) -> Iterator[tuple[str, str]]:
    """A text object's text: 1 to ``longest`` characters."""
    content = text.get("text", "") if isinstance(text, dict) else str(text)
    if not content:
        yield "must be more than 0 characters", f"{at}/text"
    elif len(content) > longest:
        yield _too_long(longest, f"{at}/text")


def _id_and_texts(
    item: dict[str, Any], id_field: str, texts: dict[str, dict[str, int]], at: str
) -> Iterator[tuple[str, str]]:
    """A block's or element's id, then its text objects, each as long as its kind allows."""
    if len(str(item.get(id_field, ""))) > ID_LENGTH:
        yield _too_long(ID_LENGTH, f"{at}/{id_field}")
    for field, longest in texts.get(item.get("type", ""), {}).items():
        if field in item:
            yield from _text(item[field], f"{at}/{field}", longest)


def _repeated(ids: list[str | None], field: str, at: str) -> list[tuple[str, str]]:
    """A problem for each ``field`` given that an earlier item already had."""
    return [
        (f"{field} must be unique", f"{at}/{n}/{field}")
        for n, given in enumerate(ids)
        if given is not None and given in ids[:n]
    ]


def _too_long(longest: int, at: str) -> tuple[str, str]:
    return f"must be less than {longest + 1} characters", at


def _too_many(most: int, at: str) -> tuple[str, str]:
    return f"no more than {most} items allowed", at
