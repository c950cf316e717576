"""One shape for every slash command, and the router each feature fills with its subcommands.

A command runs in four steps: parse the text; answer in one database session, where the
domain checks who may do this; ack with the answer or the refusal; then make the Slack calls
that can wait (a modal, a reply after a slow check) once the ack has gone. For example::

    rapport = Router(parse_rapport_command, refusals=(UsageError, rel.RapportError))
    rapport.add("show", show, reads_only=True)
    app.command("/rapport")(rapport.command)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.relationships import domain as rel
from bot.relationships.blocks import choice_blocks
from bot.services import Services

FollowUp = Callable[[WebClient, Respond], None]


class Parsed(Protocol):
    @property
    def action(self) -> str: ...


Command = TypeVar("Command", bound=Parsed)


@dataclass
class Reply:
    """What the ack answers, and what to do with Slack after it."""

    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    modal: dict[str, Any] | None = None  # opened after the ack, with the command's trigger
    follow_up: FollowUp | None = None  # Slack calls to make after the ack


@dataclass(frozen=True)
class Call(Generic[Command]):
    """One slash command, parsed: who typed it, where, and when."""

    team_id: str
    user_id: str
    channel_id: str | None
    trigger_id: str
    command: Command
    now: datetime
    services: Services

    def relationship(self, session: Session) -> rel.Relationship:
        """The relationship the command names, else the channel's or the person's current one
        (a ``ChoiceNeeded`` asks them to pick)."""
        name = getattr(self.command, "name", None)  # /checkin never names one
        return rel.resolve(session, self.team_id, self.user_id, self.channel_id, name)


Subcommand = Callable[[Session, Call[Any]], Reply]


@dataclass(frozen=True)
class _Route:
    run: Subcommand
    reads_only: bool


class Router(Generic[Command]):
    """Dispatches a slash command's subcommands, which each feature adds with ``add``.

    ``refusals`` are the errors whose message is the answer (bad input, not allowed, not
    found); anything else is Rapport's own failure, which the app's error handler apologises
    for. ``route`` names a parsed command's subcommand, by default its action.
    """

    def __init__(
        self,
        parse: Callable[[str], Command],
        refusals: tuple[type[Exception], ...],
        route: Callable[[Command], str] = lambda command: command.action,
        apologise_after_ack: bool = True,
    ) -> None:
        self._parse = parse
        self._refusals = refusals
        self._route = route
        self._apologise_after_ack = apologise_after_ack
        self._routes: dict[str, _Route] = {}

    def add(self, name: str, run: Subcommand, reads_only: bool = False) -> None:
        """Route subcommand ``name`` to ``run``. ``reads_only`` ones skip the write lock, so
        their ack never waits behind a writer."""
        if name in self._routes:
            raise ValueError(f"subcommand {name!r} is routed twice")
        self._routes[name] = _Route(run, reads_only)

    def command(
        self, ack: Ack, command: dict, client: WebClient, respond: Respond, services: Services
    ) -> None:
        """The Bolt listener for the slash command."""
        try:
            parsed = self._parse(command.get("text") or "")
            route = self._routes[self._route(parsed)]
            call = Call(
                team_id=command["team_id"],
                user_id=command["user_id"],
                channel_id=command.get("channel_id"),
                trigger_id=command.get("trigger_id", ""),
                command=parsed,
                now=services.clock.now(),
                services=services,
            )
            with services.db.read() if route.reads_only else services.db.transaction() as session:
                reply = route.run(session, call)
        except rel.ChoiceNeeded as choice:
            ack(text=str(choice), blocks=choice_blocks(str(choice), choice.choices))
            return
        except self._refusals as error:
            ack(text=str(error))
            return
        ack(text=reply.text, blocks=reply.blocks)
        if reply.modal is not None:
            services.defer(client.views_open, trigger_id=call.trigger_id, view=reply.modal)
        if reply.follow_up is not None:
            apologise = respond if self._apologise_after_ack else None
            services.defer(reply.follow_up, client, respond, apologise=apologise)
