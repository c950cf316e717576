"""Safe echoing of user text into Slack mrkdwn.

Slack turns ``<!channel>``, ``<@U…>`` and ``<#C…>`` into notifications and mentions, so any
text a person typed is escaped before it is shown back. ``@channel`` typed as plain words is
defused too, in case a message is ever sent with ``link_names``.
"""

from __future__ import annotations

import re

_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_ZERO_WIDTH_SPACE = "\u200b"
_BOLD = re.compile(r"\*(\S(?:[^*]*\S)?)\*")


def escape(text: str) -> str:
    """Escape ``text`` so it shows literally in a mrkdwn field.

    >>> escape("<!channel> & <@U123>")
    '&lt;!channel&gt; &amp; &lt;@U123&gt;'
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda match: "@" + _ZERO_WIDTH_SPACE + match.group(1), escaped)


def unescape(slack_text: str) -> str:
    """Undo Slack's escaping of ``&``, ``<`` and ``>`` in text a person typed.

    Slash commands registered with ``should_escape`` deliver ``R&D`` as ``R&amp;D``; names
    and titles taken from them are decoded before they are stored or compared (and escaped
    again, with ``escape``, when shown).

    >>> unescape("R&amp;D &lt;team&gt; &amp;lt;")
    'R&D <team> &lt;'
    """
    return slack_text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def echo(slack_text: str) -> str:
    """Words of a slash command (which Slack delivers escaped), made safe to show back once:
    decoded, then escaped, so they read as typed rather than as ``&lt;``.

    >>> echo("&lt;!channel&gt; R&amp;D")
    '&lt;!channel&gt; R&amp;D'
    """
    return escape(unescape(slack_text))


def plain(message: str) -> str:
    """A safe-mrkdwn message as plain text, for modal field errors (Slack shows those
    literally): ``*bold*`` loses its stars and entities are decoded. Write such messages
    without mentions, which plain text can't show.

    >>> plain("*R&amp;D* runs `cron 0 9 * * 1`")
    'R&D runs `cron 0 9 * * 1`'
    """
    return unescape(_BOLD.sub(r"\1", message))


def user(user_id: str) -> str:
    return f"<@{user_id}>"


def channel(channel_id: str) -> str:
    return f"<#{channel_id}>"


# Mentions named in one list at most: a relationship or check-in of hundreds of people
# must still fit a section (Slack takes 3,000 characters), and a long list says little.
PEOPLE_NAMED = 30


def people(user_ids: list[str] | tuple[str, ...], most: int = PEOPLE_NAMED) -> str:
    """The people mentioned, the first ``most`` of them, then how many more.

    >>> people(["U1", "U2", "U3"], most=2), people([])
    ('<@U1>, <@U2> and 1 more', 'nobody yet')
    """
    if not user_ids:
        return "nobody yet"
    named = ", ".join(user(user_id) for user_id in user_ids[:most])
    others = len(user_ids) - most
    return f"{named} and {others} more" if others > 0 else named
