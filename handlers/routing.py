"""One shape for every slash command, button and modal, and the router each feature fills
with its subcommands.

A request runs in four steps: parse what Slack sent; answer in one database session, where
the domain checks who may do this; ack with the answer or the refusal; then make the Slack
calls that can wait (a modal, a message, a reply after a slow check) once the ack has gone.
For example::

    rapport = Router(parse_rapport_command, refusals=(UsageError, rel.RapportError))
    rapport.add("show", show, reads_only=True)
    app.command("/rapport")(rapport.command)
    app.action("checkin_rsvp_yes")(button(rsvp, parse=number))
    app.view("checkin_note")(submission(save_note, error_field="note"))

Slack wants the ack within 3 seconds, so the rule for what runs before it is: database work
that decides the answer (who may do this, the refusal, the form's errors), which is quick;
nothing that waits on Slack. ``views.open`` goes out just after the ack, with the request's
trigger; ``chat.postMessage``, ``chat.update``, ``users.info``, ``conversations.*`` and
replies through ``respond`` go in ``Reply.follow_up`` or the deferred answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.relationships import domain as rel
from bot.relationships.blocks import choice_blocks
from bot.relationships.models import Role
from bot.services import Services
from bot.slack import mrkdwn
from bot.slack.blocks import FORM_BUSY, FORM_TOO_LATE, STALE_BUTTON

FollowUp = Callable[[WebClient, Respond], None]


class Parsed(Protocol):
    @property
    def action(self) -> str: ...


Command = TypeVar("Command", bound=Parsed)
Value = TypeVar("Value")


@dataclass
class Reply:
    """What the ack answers, and what to do with Slack after it.

    A command's ack shows ``text`` and ``blocks``; a click's are said after the ack, under the
    message clicked in, or in its place with ``replace_original``. ``modal`` is opened with
    the request's trigger after the ack; a modal's submission is answered with it instead.
    """

    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    modal: dict[str, Any] | None = None
    follow_up: FollowUp | None = None  # Slack calls to make after the ack
    replace_original: bool = False  # a click's answer replaces the message clicked in
    opens_form: bool = False  # follow_up opens a form with the request's trigger


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
        return self.relationship_and_role(session)[0]

    def relationship_and_role(self, session: Session) -> tuple[rel.Relationship, Role]:
        """``relationship``, with the person's role in it from the same statement."""
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
            with _session(services, route.reads_only) as session:
                reply = route.run(session, call)
        except rel.ChoiceNeeded as choice:
            ack(text=str(choice), blocks=choice_blocks(str(choice), choice.choices))
            return
        except self._refusals as error:
            ack(text=str(error))
            return
        reply = _unless_too_busy(services, reply)
        ack(text=reply.text, blocks=reply.blocks)
        _after_ack(services, client, respond, reply, call.trigger_id, self._apologise_after_ack)


# ---------------------------------------------------------------------------- buttons


@dataclass(frozen=True)
class Click(Generic[Value]):
    """One button press or menu pick, parsed: who clicked, in which workspace, on what."""

    team_id: str
    user_id: str
    action_id: str
    value: Value
    trigger_id: str
    channel_id: str | None  # where the message clicked in is, when it's a message
    message_ts: str | None
    message_blocks: list[dict[str, Any]]
    now: datetime
    services: Services


def number(action: dict) -> int:
    """A button's value that is an id; a ``ValueError`` when it's garbled."""
    value = action.get("value", "")
    if not value.isdigit():
        raise ValueError(value)
    return int(value)


def no_value(action: dict) -> None:
    """For buttons that carry nothing, such as "Open setup"."""
    return None


class _Button(Generic[Value]):
    """One kind of button: ``parse`` reads its value (a ``ValueError`` means the button is out
    of date, and the clicker is told ``stale``), ``run`` answers. Refusals (``RapportError``)
    are told to the clicker under the message; buttons can be replayed, so ``run`` checks who
    clicked."""

    def __init__(
        self,
        run: Callable[[Session, Click[Value]], Reply],
        parse: Callable[[dict], Value],
        stale: str,
        reads_only: bool,
        apologise_after_ack: bool,
    ) -> None:
        self._run = run
        self._parse = parse
        self._stale = stale
        self._reads_only = reads_only
        self._apologise_after_ack = apologise_after_ack

    def click(
        self,
        ack: Ack,
        body: dict,
        action: dict,
        client: WebClient,
        respond: Respond,
        services: Services,
    ) -> None:
        """The Bolt listener for the button."""
        try:
            value = self._parse(action)
        except ValueError:
            _answer_click(services, ack, respond, Reply(text=self._stale))
            return
        container = body.get("container") or {}
        message = body.get("message") or {}
        click = Click(
            team_id=body["team"]["id"],
            user_id=body["user"]["id"],
            action_id=action["action_id"],
            value=value,
            trigger_id=body.get("trigger_id", ""),
            channel_id=container.get("channel_id") or (body.get("channel") or {}).get("id"),
            message_ts=container.get("message_ts") or message.get("ts"),
            message_blocks=message.get("blocks") or [],
            now=services.clock.now(),
            services=services,
        )
        try:
            with _session(services, self._reads_only) as session:
                reply = self._run(session, click)
        except rel.RapportError as error:
            _answer_click(services, ack, respond, Reply(text=str(error)))
            return
        reply = _unless_too_busy(services, reply)
        _answer_click(services, ack, respond, reply)
        _after_ack(services, client, respond, reply, click.trigger_id, self._apologise_after_ack)


def button(
    run: Callable[[Session, Click[Value]], Reply],
    parse: Callable[[dict], Value],
    stale: str = STALE_BUTTON,
    reads_only: bool = False,
    apologise_after_ack: bool = True,
) -> Callable[..., None]:
    """The listener for a button whose clicks ``run`` answers; see ``_Button``."""
    return _Button(run, parse, stale, reads_only, apologise_after_ack).click


def open_modal(client: WebClient, respond: Respond, trigger_id: str, view: dict) -> None:
    """Open ``view``. When Slack refuses because its trigger expired (it lasts 3 s, and the
    form waited longer than that to be opened), the person would see nothing happen: tell
    them, under the message or command (a Home tab click has no response URL)."""
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        if error.response.get("error") == "expired_trigger_id" and respond.response_url:
            respond(text=FORM_TOO_LATE, replace_original=False)
        raise  # logged, and counted as the call's outcome


def _answer_click(services: Services, ack: Ack, respond: Respond, reply: Reply) -> None:
    """Acknowledge a click, then say ``reply``'s text to the clicker alone. A click in the
    Home tab has no message to answer under (no response URL): its Home shows the change
    when it is published again (``scheduler.home_jobs``)."""
    ack()
    if (reply.text or reply.blocks) and respond.response_url:
        services.defer(
            respond, text=reply.text, blocks=reply.blocks, replace_original=reply.replace_original
        )


# ----------------------------------------------------------------------------- modals


@dataclass(frozen=True)
class Submission:
    """A modal's form, submitted: who, in which workspace, its fields and its metadata."""

    team_id: str
    user_id: str
    values: dict[str, dict[str, Any]]
    metadata: str
    now: datetime
    services: Services

    def field(self, block_id: str) -> str | None:
        """What was typed or picked in the input ``block_id`` (its action named ``value``)."""
        state = self.values.get(block_id, {}).get("value", {})
        if state.get("selected_option"):
            return state["selected_option"].get("value")
        return state.get("value")


class FormErrors(Exception):
    """The fields of a submission that are refused, by block id; Slack shows each message
    under its field, as plain text."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


SubmissionHandler = Callable[[Session, Submission], Reply]


class _Form:
    """One kind of modal: ``run`` answers its submissions, raising ``FormErrors`` for fields
    to fix. A refusal's message shows under the field ``error_field``."""

    def __init__(
        self,
        run: SubmissionHandler,
        error_field: str,
        refusals: tuple[type[Exception], ...],
    ) -> None:
        self._run = run
        self._error_field = error_field
        self._refusals = refusals

    def submit(
        self,
        ack: Ack,
        body: dict,
        view: dict,
        client: WebClient,
        respond: Respond | None,
        services: Services,
    ) -> None:
        """The Bolt listener for the modal's submissions."""
        submission = Submission(
            team_id=body["team"]["id"],
            user_id=body["user"]["id"],
            values=view.get("state", {}).get("values", {}),
            metadata=view.get("private_metadata") or "",
            now=services.clock.now(),
            services=services,
        )
        try:
            with services.db.transaction() as session:
                reply = self._run(session, submission)
        except FormErrors as refused:
            ack(response_action="errors", errors=refused.errors)
            return
        except self._refusals as error:  # modal errors are plain text: no emphasis, no entities
            ack(response_action="errors", errors={self._error_field: mrkdwn.plain(str(error))})
            return
        if reply.modal is not None:
            ack(response_action="update", view=reply.modal)
        else:
            ack()
        if reply.follow_up is not None:  # respond: None, a modal has no message to answer under
            services.defer(reply.follow_up, client, respond)


def submission(
    run: SubmissionHandler,
    error_field: str,
    refusals: tuple[type[Exception], ...] = (rel.RapportError,),
) -> Callable[..., None]:
    """The listener for a modal whose submissions ``run`` answers; see ``_Form``."""
    return _Form(run, error_field, refusals).submit


# ------------------------------------------------------------------------------ shared


def _session(services: Services, reads_only: bool):
    return services.db.read() if reads_only else services.db.transaction()


def _unless_too_busy(services: Services, reply: Reply) -> Reply:
    """``reply``, or, when it opens a form that would open too late (``Services.
    too_busy_for_a_form``), the rest of it without the form; word that Rapport is busy when
    the form was all of it. What the request stored stays stored."""
    if (reply.modal is None and not reply.opens_form) or not services.too_busy_for_a_form():
        return reply
    if not reply.text and not reply.blocks:
        return Reply(text=FORM_BUSY)
    return replace(reply, modal=None, follow_up=None if reply.opens_form else reply.follow_up)


def _after_ack(
    services: Services,
    client: WebClient,
    respond: Respond,
    reply: Reply,
    trigger_id: str,
    apologise_after_ack: bool,
) -> None:
    if reply.modal is not None:
        services.defer(open_modal, client, respond, trigger_id, reply.modal)
    if reply.follow_up is not None:
        apologise = respond if apologise_after_ack else None
        services.defer(reply.follow_up, client, respond, apologise=apologise)
