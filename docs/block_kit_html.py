"""Block Kit as HTML that looks like Slack, for the README's pictures.

Slack's own look, redrawn with plain CSS (no Slack assets): messages in a conversation, with
the app's name and "Only visible to you" on ephemeral replies, and modals with their title,
Cancel and Submit. Mentions, channels and files are shown by the names in a ``Directory``.
A block or element this module can't draw becomes a visible ``UNSUPPORTED`` placeholder, so
a test can tell when the app starts sending something new.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

UNSUPPORTED = "unsupported block"
APP_NAME = "Rapport"

# the emoji Rapport writes as :codes: (Slack draws them from its own set)
EMOJI = {
    "handshake": "🤝",
    "warning": "⚠️",
    "wave": "👋",
    "tada": "🎉",
    "slightly_smiling_face": "🙂",
    "joy": "😂",
}


@dataclass(frozen=True)
class Directory:
    """What Slack knows and the blocks only name: people, channels, uploaded files."""

    users: Mapping[str, str] = field(default_factory=dict)  # id -> display name
    channels: Mapping[str, str] = field(default_factory=dict)  # id -> name without #
    files: Mapping[str, bytes] = field(default_factory=dict)  # file id -> PNG bytes


@dataclass(frozen=True)
class Message:
    """A message from the app; ``command`` is the slash command an ephemeral reply answers."""

    blocks: tuple[dict[str, Any], ...]
    text: str = ""
    only_you: bool = False
    command: str = ""


@dataclass(frozen=True)
class Conversation:
    """A channel (``#name``) or the app's DM, with the app's messages in it."""

    name: str
    messages: tuple[Message, ...]


@dataclass(frozen=True)
class Modal:
    view: dict[str, Any]


@dataclass(frozen=True)
class Home:
    view: dict[str, Any]


Pane = Conversation | Modal | Home

# -- mrkdwn ------------------------------------------------------------------------------

_TOKEN = re.compile(r"```(.+?)```|`([^`\n]+)`|<([^<>\n]+)>", re.S)
_STYLES = (
    (re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])"), "b"),
    (re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])"), "i"),
    (re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])"), "s"),
)
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_PLACEHOLDER = "\ue000{}\ue001"
_PLACEHOLDERS = re.compile("\ue000(\\d+)\ue001")


def _unescape(text: str) -> str:
    """Slack's three escapes (``&amp;``, ``&lt;``, ``&gt;``), and no other entity."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mrkdwn(text: str, directory: Directory) -> str:
    """Slack mrkdwn as HTML: *bold*, _italic_, ~strike~, `code`, ```blocks```, ``&gt;``
    quotes, <links|label>, <@U…> people, <#C…> channels, <!date…|fallback>, :emoji:."""
    pieces: list[str] = []

    def hold(match: re.Match[str]) -> str:
        block, code, token = match.groups()
        if block is not None:
            pieces.append(f"<pre>{html.escape(_unescape(block.strip(chr(10))))}</pre>")
        elif code is not None:
            pieces.append(f"<code>{html.escape(_unescape(code))}</code>")
        else:
            pieces.append(_token(token, directory))
        return _PLACEHOLDER.format(len(pieces) - 1)

    held = _TOKEN.sub(hold, text)
    lines = []
    for line in html.escape(_unescape(held), quote=False).split("\n"):
        quoted = line.startswith("&gt; ")
        for pattern, tag in _STYLES:
            line = pattern.sub(rf"<{tag}>\1</{tag}>", line)
        line = _EMOJI.sub(lambda m: EMOJI.get(m[1], m[0]), line)
        lines.append(f'<span class="quote">{line[5:]}</span>' if quoted else line)
    joined = "<br>".join(lines)
    return _PLACEHOLDERS.sub(lambda m: pieces[int(m[1])], joined)


def _token(token: str, directory: Directory) -> str:
    """One ``<…>`` of mrkdwn: a person, a channel, a special mention, a date, or a link."""
    target, _, label = token.partition("|")
    if target.startswith("@"):
        name = directory.users.get(target[1:], label or target[1:])
        return f'<span class="mention">@{html.escape(name)}</span>'
    if target.startswith("#"):
        name = directory.channels.get(target[1:], label or target[1:])
        return f'<span class="mention">#{html.escape(name)}</span>'
    if target.startswith("!date^"):
        return html.escape(_unescape(label))
    if target.startswith("!"):
        return f'<span class="mention">@{html.escape(target[1:].split("^")[0])}</span>'
    shown = html.escape(_unescape(label or target))
    return f'<a href="{html.escape(_unescape(target))}">{shown}</a>'


def _text(obj: Mapping[str, Any] | None, directory: Directory) -> str:
    """A text object: mrkdwn, or plain text (with :emoji: when it asks for them)."""
    if not obj:
        return ""
    if obj.get("type") == "mrkdwn":
        return mrkdwn(obj["text"], directory)
    plain = html.escape(obj.get("text", ""), quote=False)
    return _EMOJI.sub(lambda m: EMOJI.get(m[1], m[0]), plain).replace("\n", "<br>")


def _unsupported(kind: str) -> str:
    return f'<div class="unsupported">{UNSUPPORTED}: {html.escape(kind)}</div>'


# -- elements ------------------------------------------------------------------------------


def _button(element: Mapping[str, Any], directory: Directory) -> str:
    style = element.get("style", "")
    return f'<span class="button {style}">{_text(element["text"], directory)}</span>'


def _chosen_options(element: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    chosen = element.get("initial_options") or []
    return [element["initial_option"], *chosen] if element.get("initial_option") else chosen


def _select(element: Mapping[str, Any], directory: Directory) -> str:
    """A select menu as Slack draws it closed: what is chosen, or the placeholder."""
    kind = element["type"]
    chosen: list[str] = []
    if kind in ("static_select", "multi_static_select"):
        chosen = [_text(option["text"], directory) for option in _chosen_options(element)]
    people = element.get("initial_users") or (
        [element["initial_user"]] if element.get("initial_user") else []
    )
    chosen += [f"@{html.escape(directory.users.get(p, p))}" for p in people]
    rooms = element.get("initial_conversations") or element.get("initial_channels") or []
    rooms += [element[k] for k in ("initial_conversation", "initial_channel") if element.get(k)]
    chosen += [f"#{html.escape(directory.channels.get(c, c))}" for c in rooms]
    if chosen and kind.startswith("multi_"):
        shown = "".join(f'<span class="pill">{c}</span>' for c in chosen)
    elif chosen:
        shown = chosen[0]
    else:
        default = "Select options" if kind.startswith("multi_") else "Select an item"
        placeholder = element.get("placeholder") or {"text": default}
        shown = f'<span class="placeholder">{html.escape(placeholder["text"])}</span>'
    return f'<div class="field select">{shown}<span class="chevron">⌄</span></div>'


def _text_input(element: Mapping[str, Any], directory: Directory) -> str:
    value = element.get("initial_value") or element.get("initial_time") or ""
    if value:
        shown = html.escape(str(value))
    else:
        placeholder = (element.get("placeholder") or {}).get("text", "")
        shown = f'<span class="placeholder">{html.escape(placeholder)}</span>'
    tall = " tall" if element.get("multiline") else ""
    return f'<div class="field{tall}">{shown}</div>'


def _date(element: Mapping[str, Any], directory: Directory) -> str:
    value = element.get("initial_date")
    shown = html.escape(value) if value else '<span class="placeholder">Select a date</span>'
    return f'<div class="field select">{shown}<span class="chevron">📅</span></div>'


def _choices(element: Mapping[str, Any], directory: Directory) -> str:
    """Radio buttons and checkboxes: every option, the chosen ones filled in."""
    chosen = {option["value"] for option in _chosen_options(element)}
    shape = "radio" if element["type"] == "radio_buttons" else "checkbox"
    rows = []
    for option in element.get("options", []):
        on = " on" if option["value"] in chosen else ""
        description = option.get("description")
        below = f'<div class="context">{_text(description, directory)}</div>' if description else ""
        rows.append(
            f'<div class="choice"><span class="{shape}{on}"></span>'
            f"<div>{_text(option['text'], directory)}{below}</div></div>"
        )
    return "".join(rows)


def _image_src(obj: Mapping[str, Any], directory: Directory) -> str | None:
    if "image_url" in obj:
        return html.escape(obj["image_url"])
    file_id = (obj.get("slack_file") or {}).get("id")
    data = directory.files.get(file_id) if file_id else None
    return "data:image/png;base64," + base64.b64encode(data).decode() if data else None


def _small_image(element: Mapping[str, Any], directory: Directory) -> str:
    src = _image_src(element, directory)
    if src is None:
        return _unsupported("image without a file")
    return f'<img class="thumb" src="{src}" alt="{html.escape(element.get("alt_text", ""))}">'


def _overflow(element: Mapping[str, Any], directory: Directory) -> str:
    return '<span class="button">⋯</span>'


ELEMENTS: dict[str, Callable[[Mapping[str, Any], Directory], str]] = {
    "button": _button,
    "overflow": _overflow,
    "image": _small_image,
    "plain_text_input": _text_input,
    "number_input": _text_input,
    "email_text_input": _text_input,
    "url_text_input": _text_input,
    "timepicker": _text_input,
    "datepicker": _date,
    "radio_buttons": _choices,
    "checkboxes": _choices,
    **{
        kind: _select
        for kind in (
            "static_select",
            "users_select",
            "conversations_select",
            "channels_select",
            "external_select",
            "multi_static_select",
            "multi_users_select",
            "multi_conversations_select",
            "multi_channels_select",
            "multi_external_select",
        )
    },
}


def element(obj: Mapping[str, Any], directory: Directory) -> str:
    draw = ELEMENTS.get(obj.get("type", ""))
    return draw(obj, directory) if draw else _unsupported(f"element {obj.get('type')}")


# -- blocks --------------------------------------------------------------------------------


def _section(block: Mapping[str, Any], directory: Directory) -> str:
    parts = [f'<div class="text">{_text(block.get("text"), directory)}</div>']
    if block.get("fields"):
        fields = "".join(f"<div>{_text(f, directory)}</div>" for f in block["fields"])
        parts.append(f'<div class="fields">{fields}</div>')
    accessory = block.get("accessory")
    side = f'<div class="accessory">{element(accessory, directory)}</div>' if accessory else ""
    return f'<div class="block section"><div>{"".join(parts)}</div>{side}</div>'


def _header(block: Mapping[str, Any], directory: Directory) -> str:
    return f'<div class="block header">{_text(block["text"], directory)}</div>'


def _context(block: Mapping[str, Any], directory: Directory) -> str:
    items = [
        _small_image(e, directory) if e.get("type") == "image" else _text(e, directory)
        for e in block["elements"]
    ]
    return f'<div class="block context">{" ".join(items)}</div>'


def _divider(block: Mapping[str, Any], directory: Directory) -> str:
    return '<hr class="block divider">'


def _actions(block: Mapping[str, Any], directory: Directory) -> str:
    items = "".join(element(e, directory) for e in block["elements"])
    return f'<div class="block actions">{items}</div>'


def _image(block: Mapping[str, Any], directory: Directory) -> str:
    src = _image_src(block, directory)
    if src is None:
        return _unsupported("image without a file")
    title = block.get("title")
    caption = f'<div class="image-title">{_text(title, directory)}</div>' if title else ""
    alt = html.escape(block.get("alt_text", ""))
    return f'<div class="block image">{caption}<img src="{src}" alt="{alt}"></div>'


def _input(block: Mapping[str, Any], directory: Directory) -> str:
    optional = ' <span class="optional">(optional)</span>' if block.get("optional") else ""
    hint = block.get("hint")
    below = f'<div class="hint">{_text(hint, directory)}</div>' if hint else ""
    return (
        f'<div class="block input"><label>{_text(block["label"], directory)}{optional}</label>'
        f"{element(block['element'], directory)}{below}</div>"
    )


BLOCKS: dict[str, Callable[[Mapping[str, Any], Directory], str]] = {
    "section": _section,
    "header": _header,
    "context": _context,
    "divider": _divider,
    "actions": _actions,
    "image": _image,
    "input": _input,
}


def blocks_html(
    blocks: list[dict[str, Any]] | tuple[dict[str, Any], ...], directory: Directory
) -> str:
    """Every block of a message, modal or Home, in order."""
    drawn = []
    for block in blocks:
        draw = BLOCKS.get(block.get("type", ""))
        drawn.append(draw(block, directory) if draw else _unsupported(block.get("type", "?")))
    return "".join(drawn)


# -- surfaces ------------------------------------------------------------------------------


def _message(message: Message, directory: Directory) -> str:
    blocks = message.blocks or (
        {"type": "section", "text": {"type": "mrkdwn", "text": message.text}},
    )
    note = ""
    if message.only_you:
        typed = (
            f" · in reply to <code>{html.escape(message.command)}</code>" if message.command else ""
        )
        note = f'<div class="only-you">👁 Only visible to you{typed}</div>'
    return (
        f'<div class="message"><div class="avatar">R</div><div class="body">{note}'
        f'<div class="sender">{APP_NAME} <span class="badge">APP</span></div>'
        f"{blocks_html(blocks, directory)}</div></div>"
    )


def _conversation(pane: Conversation, directory: Directory) -> str:
    messages = "".join(_message(message, directory) for message in pane.messages)
    return (
        f'<div class="pane conversation"><div class="title">{html.escape(pane.name)}</div>'
        f"{messages}</div>"
    )


def _modal(pane: Modal, directory: Directory) -> str:
    view = pane.view
    buttons = []
    if view.get("close"):
        buttons.append(f'<span class="button">{_text(view["close"], directory)}</span>')
    if view.get("submit"):
        buttons.append(f'<span class="button primary">{_text(view["submit"], directory)}</span>')
    return (
        f'<div class="pane modal"><div class="title"><span class="app-icon">R</span>'
        f'{_text(view["title"], directory)}<span class="close">✕</span></div>'
        f'<div class="content">{blocks_html(view["blocks"], directory)}</div>'
        f'<div class="footer">{"".join(buttons)}</div></div>'
    )


def _home(pane: Home, directory: Directory) -> str:
    return (
        f'<div class="pane home"><div class="title"><span class="app-icon">R</span>'
        f'{APP_NAME}<span class="tabs"><b>Home</b> Messages About</span></div>'
        f'<div class="content">{blocks_html(pane.view["blocks"], directory)}</div></div>'
    )


PANES: dict[type, Callable[[Any, Directory], str]] = {
    Conversation: _conversation,
    Modal: _modal,
    Home: _home,
}


def picture_html(panes: list[Pane] | tuple[Pane, ...], directory: Directory) -> str:
    """One picture: its panes one under the other, as a whole HTML page."""
    body = "".join(PANES[type(pane)](pane, directory) for pane in panes)
    head = f'<meta charset="utf-8"><style>{CSS}</style>'
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


CSS = """
body { margin: 0; padding: 16px; background: #f8f8f8; width: 640px;
  font: 15px/1.45 Lato, 'DejaVu Sans', sans-serif; color: #1d1c1d; }
.pane { background: #fff; border: 1px solid #ddd; border-radius: 8px; margin-bottom: 14px;
  overflow: hidden; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.pane .title { font-weight: 900; font-size: 16px; padding: 10px 16px;
  border-bottom: 1px solid #e8e8e8; display: flex; align-items: center; gap: 8px; }
.message { display: flex; gap: 10px; padding: 10px 16px; }
.message + .message { border-top: 1px solid #f0f0f0; }
.avatar, .app-icon { flex: none; width: 36px; height: 36px; border-radius: 6px;
  background: #4a154b; color: #fff; font-weight: 900; font-size: 19px;
  display: flex; align-items: center; justify-content: center; }
.app-icon { width: 24px; height: 24px; font-size: 14px; border-radius: 5px; }
.body { flex: 1; min-width: 0; }
.sender { font-weight: 900; }
.badge { font-size: 10px; font-weight: 700; color: #616061; background: #e8e8e8;
  border-radius: 2px; padding: 1px 3px; vertical-align: 2px; }
.only-you { font-size: 13px; color: #616061; margin-bottom: 2px; }
.block { margin: 4px 0; }
.section { display: flex; gap: 12px; justify-content: space-between; }
.section .text, .context { white-space: pre-wrap; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 6px 16px; margin-top: 6px; }
.accessory { flex: none; }
.header { font-size: 18px; font-weight: 900; margin-top: 8px; }
.context { font-size: 13px; color: #616061; }
.divider { border: 0; border-top: 1px solid #ddd; margin: 12px 0; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; }
.button { display: inline-flex; align-items: center; height: 28px; padding: 0 12px;
  border: 1px solid rgba(29,28,29,.3); border-radius: 4px; font-size: 13px; font-weight: 700;
  background: #fff; white-space: nowrap; }
.button.primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.button.danger { background: #e01e5a; border-color: #e01e5a; color: #fff; }
.image img { max-width: 100%; border-radius: 6px; border: 1px solid #eee; }
.image-title { font-size: 13px; color: #616061; margin-bottom: 4px; }
img.thumb { width: 20px; height: 20px; vertical-align: middle; border-radius: 3px; }
a, .mention { color: #1264a3; text-decoration: none; }
.mention { background: rgba(29,155,209,.1); border-radius: 3px; padding: 0 2px; }
code { font: 12px 'DejaVu Sans Mono', monospace; color: #c01343; padding: 1px 3px;
  background: rgba(29,28,29,.04); border: 1px solid rgba(29,28,29,.13); border-radius: 3px; }
pre { font: 12px 'DejaVu Sans Mono', monospace; background: rgba(29,28,29,.04);
  border: 1px solid rgba(29,28,29,.13); border-radius: 4px; padding: 8px; margin: 4px 0;
  white-space: pre-wrap; }
.quote { display: inline-block; border-left: 4px solid #ddd; padding-left: 10px; }
.modal { width: 520px; border-radius: 10px; }
.modal .content, .home .content { padding: 4px 24px 12px; }
.modal .footer { display: flex; justify-content: flex-end; gap: 8px; padding: 12px 24px;
  border-top: 1px solid #e8e8e8; }
.modal .button { height: 36px; padding: 0 16px; font-size: 15px; }
.close { margin-left: auto; color: #616061; font-weight: 400; }
.tabs { margin-left: auto; font-weight: 400; font-size: 14px; color: #616061;
  word-spacing: 14px; }
.tabs b { color: #1d1c1d; border-bottom: 2px solid #1d1c1d; }
.input { margin: 14px 0; }
.input label { display: block; font-weight: 700; margin-bottom: 6px; }
.optional { font-weight: 400; color: #616061; }
.field { border: 1px solid rgba(29,28,29,.3); border-radius: 4px; padding: 7px 10px;
  min-height: 22px; display: flex; align-items: center; gap: 6px; flex-wrap: wrap; }
.field.tall { min-height: 66px; align-items: flex-start; }
.select .chevron { margin-left: auto; color: #616061; }
.placeholder { color: #868686; }
.pill { background: #f0f0f0; border-radius: 4px; padding: 0 6px; font-size: 14px; }
.hint { font-size: 13px; color: #616061; margin-top: 4px; }
.choice { display: flex; gap: 8px; align-items: flex-start; margin: 6px 0; }
.radio, .checkbox { flex: none; width: 14px; height: 14px; margin-top: 3px;
  border: 1px solid #868686; background: #fff; }
.radio { border-radius: 50%; }
.checkbox { border-radius: 3px; }
.radio.on { border: 5px solid #1264a3; width: 6px; height: 6px; }
.checkbox.on { background: #1264a3; border-color: #1264a3; }
.unsupported { color: #fff; background: #e01e5a; padding: 4px 8px; border-radius: 4px; }
"""
