"""Parsing the text after ``/rapport`` into a ``RapportCommand``.

The slash commands are registered with ``should_escape``, so people and channels picked
from Slack's autocomplete arrive as ``<@U123|name>`` and ``<#C123|name>``, and a typed ``&``,
``<`` or ``>`` as ``&amp;``, ``&lt;`` or ``&gt;`` (names are decoded). Anything that
doesn't parse raises ``UsageError`` with a message written for the person who typed it.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from bot.core.cadence import CadenceError
from bot.core.time_input import parse_time, parse_weekday
from bot.relationships.models import Role, Side
from bot.slack import mrkdwn

_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
_TRY = re.compile(r"^\s*drift\s+try(?:\s|$)", re.IGNORECASE)
_PAGE = re.compile(r"[1-9][0-9]{0,3}")
_SIDES = {side.value: side for side in Side}
_ROLES = {role.value: role for role in Role} | {"front-line": Role.FRONTLINE}


class UsageError(ValueError):
    """Input that can't be understood; the message (safe mrkdwn) says how to fix it."""


@dataclass(frozen=True)
class RapportCommand:
    action: str
    users: tuple[str, ...] = ()
    channel: str | None = None
    side: Side | None = None
    role: Role | None = None
    name: str | None = None  # relationship name typed by the person, if any
    # drift: (operation, *operands), e.g. ("words-add", kind, phrase); health: ("formula",)
    args: tuple[str, ...] = ()


USAGE = {
    "help": "`/rapport help`",
    "setup": "`/rapport setup`",
    "list": "`/rapport list`",
    "show": "`/rapport show [relationship]`",
    "use": "`/rapport use <relationship>`",
    "add": "`/rapport add @person client|provider [frontline|manager|owner] [relationship]`",
    "remove": "`/rapport remove @person [relationship]`",
    "watch": "`/rapport watch #channel [relationship]`",
    "unwatch": "`/rapport unwatch #channel [relationship]`",
    "alerts": "`/rapport alerts #channel [relationship]`",
    "invite": "`/rapport invite @owner-of-the-other-side [relationship]`",
    "join": "`/rapport join <code>`",
    "leave": "`/rapport leave [relationship]`",
    "drift": (
        "`/rapport drift settings`, `/rapport drift words list [kind] [page]`, "
        "`/rapport drift words add|remove <kind> <words>`, `/rapport drift nudge on|off`, "
        "`/rapport drift try <message>`, `/rapport drift bots on|off`, `/rapport drift excerpts`, "
        "`/rapport drift set <setting> <value>`"
    ),
    "health": "`/rapport health [relationship]`, `/rapport health formula`",
    "intros": (
        "`/rapport intros [relationship]`, `/rapport intros on|off`, "
        "`/rapport intros every 1|2|4 weeks [on <day>]`, `/rapport intros size 2|3`, "
        "`/rapport intros me on|off|pause <weeks>`, `/rapport intros default in|out`, "
        "`/rapport intros history <months>`"
    ),
    "digest": (
        "`/rapport digest`, `/rapport digest on|off`, `/rapport digest day <day> <time>` "
        "(e.g. `day tuesday 08:30`), `/rapport digest channel|dm`"
    ),
    "export": "`/rapport export [relationship]`",
    "forget-me": "`/rapport forget-me`",
}


def _tokens(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # an unmatched quote: fall back to plain words
        return text.split()


def _usage(action: str, problem: str) -> UsageError:
    return UsageError(f"{problem}\nUsage: {USAGE[action]}")


def _take_users(action: str, words: list[str]) -> tuple[str, ...]:
    users: list[str] = []
    while words and (match := _USER.match(words[0])):
        users.append(match.group(1))
        words.pop(0)
    if users:
        return tuple(users)
    if words and words[0].startswith("@"):
        raise _usage(
            action,
            f"I couldn't find a person called {mrkdwn.escape(words[0])}. Pick them from "
            "Slack's autocomplete so the name turns into a mention.",
        )
    raise _usage(action, "Who do you mean? Mention the person with @.")


def _take_channel(action: str, words: list[str]) -> str:
    if words and (match := _CHANNEL.match(words[0])):
        words.pop(0)
        return match.group(1)
    if words and words[0].startswith("#"):
        raise _usage(
            action,
            f"I couldn't find the channel {mrkdwn.escape(words[0])}. Pick it from Slack's "
            "autocomplete so it turns into a link (for a private channel, invite me first).",
        )
    raise _usage(action, "Which channel? Mention it with #.")


def _rest_as_name(words: list[str]) -> str | None:
    name = mrkdwn.unescape(" ".join(words).strip())
    return name or None


def parse_rapport_command(text: str) -> RapportCommand:
    words = _tokens(text.strip())
    if not words:
        return RapportCommand("help")
    action, words = words[0].lower(), words[1:]
    if action in ("help", "setup", "list"):
        return RapportCommand(action)
    if action == "show":
        return RapportCommand(action, name=_rest_as_name(words))
    if action == "use":
        name = _rest_as_name(words)
        if name is None:
            raise _usage(action, "Which relationship? Give its name.")
        return RapportCommand(action, name=name)
    if action == "add":
        users = _take_users(action, words)
        if not words or words[0].lower() not in _SIDES:
            raise _usage(action, "Say which side they're on: `client` or `provider`.")
        side = _SIDES[words.pop(0).lower()]
        role = Role.FRONTLINE
        if words and words[0].lower() in _ROLES:
            role = _ROLES[words.pop(0).lower()]
        return RapportCommand(action, users=users, side=side, role=role, name=_rest_as_name(words))
    if action == "remove":
        users = _take_users(action, words)
        return RapportCommand(action, users=users, name=_rest_as_name(words))
    if action == "invite":
        users = _take_users(action, words)
        if len(users) > 1:
            raise _usage(action, "Invite one person: the other company's owner.")
        return RapportCommand(action, users=users, name=_rest_as_name(words))
    if action == "join":
        if not words:
            raise _usage(action, "Paste the code you were given, e.g. `RAP-ABCD-EFGH-JKMN`.")
        return RapportCommand(action, args=(" ".join(words),))
    if action == "leave":
        return RapportCommand(action, name=_rest_as_name(words))
    if action in ("watch", "unwatch", "alerts"):
        channel = _take_channel(action, words)
        return RapportCommand(action, channel=channel, name=_rest_as_name(words))
    if action == "drift":
        return RapportCommand(action, args=_drift_args(words, text))
    if action == "health":
        if [word.lower() for word in words] == ["formula"]:
            return RapportCommand(action, args=("formula",))
        return RapportCommand(action, name=_rest_as_name(words))
    if action == "intros":
        from bot.intros.parser import parse_intros  # it imports UsageError from here

        args = parse_intros(words)
        if args[0] == "show":
            return RapportCommand(action, args=("show",), name=args[1] or None)
        return RapportCommand(action, args=args)
    if action == "digest":
        return _digest_command(words)
    if action == "export":
        return RapportCommand(action, name=_rest_as_name(words))
    if action == "forget-me":
        if words:
            raise _usage(
                action,
                "`forget-me` takes nothing after it: it forgets you in every relationship "
                "of this workspace.",
            )
        return RapportCommand(action)
    raise UsageError(
        f"I don't know the command `{mrkdwn.echo(action)}`. Try `/rapport help` "
        "to see everything I can do."
    )


def _drift_args(words: list[str], text: str) -> tuple[str, ...]:
    operation = [word.lower() for word in words[:2]]
    if not words or operation[0] == "settings":
        return ("settings",)
    if operation[0] == "try":  # the message as typed, quotes and all (Slack-escaped)
        message = _TRY.sub("", text, count=1).strip()
        if not message:
            raise _usage("drift", "Which message? e.g. `/rapport drift try Please raise a CR`.")
        return ("try", message)
    if operation[0] == "words":
        verb = operation[1] if len(words) > 1 else "list"
        if verb == "list":
            if len(words) > 3 and not _PAGE.fullmatch(words[3]):
                raise _usage("drift", "Which page? e.g. `/rapport drift words list escalation 2`.")
            return ("words-list", *words[2:4])
        if verb in ("add", "remove") and len(words) >= 4:
            return (f"words-{verb}", words[2], mrkdwn.unescape(" ".join(words[3:])))
        raise _usage(
            "drift",
            "Say which kind of cue and which words, e.g. "
            "`/rapport drift words add scope_dispute not in the SOW`.",
        )
    if operation[0] in ("nudge", "bots") and len(words) == 2 and operation[1] in ("on", "off"):
        return (operation[0], operation[1])
    if operation[0] == "excerpts" and len(words) == 1:
        return ("excerpts",)
    if operation[0] == "set" and len(words) == 3:
        return ("set", words[1], words[2])
    raise _usage("drift", f"I don't know `drift {mrkdwn.escape(' '.join(words))}`.")


_DIGEST_SWITCHES = ("on", "off", "channel", "dm")


def _digest_command(words: list[str]) -> RapportCommand:
    """``digest [relationship]`` (the settings), ``digest on|off|channel|dm``, ``digest day
    <day> <time>``; args ``("settings",)``, ``("on",)``, …, ``("day", "1", "08:30")``."""
    operation = words[0].lower() if words else ""
    if operation in _DIGEST_SWITCHES:
        return RapportCommand("digest", args=(operation,), name=_rest_as_name(words[1:]))
    if operation != "day":
        return RapportCommand("digest", args=("settings",), name=_rest_as_name(words))
    if len(words) < 3:
        raise _usage("digest", "Say which day and time, e.g. `/rapport digest day tuesday 08:30`.")
    try:
        weekday, at = parse_weekday(words[1]), parse_time(words[2])
    except CadenceError as error:
        raise _usage("digest", mrkdwn.echo(str(error))) from None
    return RapportCommand(
        "digest", args=("day", str(weekday), f"{at:%H:%M}"), name=_rest_as_name(words[3:])
    )
