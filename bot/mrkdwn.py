"""Safe echoing of user text into Slack mrkdwn.

Slack turns ``<!channel>``, ``<@U…>`` and ``<#C…>`` into notifications and mentions, so any
text a person typed is escaped before it is shown back. ``@channel`` typed as plain words is
defused too, in case a message is ever sent with ``link_names``.
"""

from __future__ import annotations

import re

_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_ZERO_WIDTH_SPACE = "\u200b"


def escape(text: str) -> str:
    """Escape ``text`` so it shows literally in a mrkdwn field.

    >>> escape("<!channel> & <@U123>")
    '&lt;!channel&gt; &amp; &lt;@U123&gt;'
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda match: "@" + _ZERO_WIDTH_SPACE + match.group(1), escaped)


def user(user_id: str) -> str:
    return f"<@{user_id}>"


def channel(channel_id: str) -> str:
    return f"<#{channel_id}>"


def people(user_ids: list[str] | tuple[str, ...]) -> str:
    return ", ".join(user(user_id) for user_id in user_ids) if user_ids else "nobody yet"
