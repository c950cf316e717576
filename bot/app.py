"""The app factory: reading ``create_app`` tells you every way Slack reaches Rapport."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse, Respond
from slack_bolt.middleware import Middleware
from sqlalchemy.exc import DBAPIError, OperationalError

import handlers.checkins
import handlers.drift
import handlers.health
import handlers.home
import handlers.installs
import handlers.intros
import handlers.privacy
import handlers.pulse
import handlers.relationships
from bot.core.settings import Settings
from bot.services import Services, apology
from bot.slack.client import create_web_client
from bot.slack.connections import keep_alive, respond_keeping_alive
from bot.slack.installations import oauth_settings, request_authorize

logger = logging.getLogger(__name__)

NOT_INSTALLED_HERE = (
    "Rapport isn't installed in this workspace, or it was removed. Ask a workspace admin to "
    "install it (the *Add to Slack* page of your Rapport), then try again."
)


def create_app(settings: Settings, services: Services) -> App:
    client, store = create_web_client(settings), services.installations
    app = App(
        signing_secret=settings.slack_signing_secret,
        # RapportWsgi (bot/web.py) checks every request's signature before anything parses
        # it; Bolt's own check would parse first, and logs the body of every request it refuses
        request_verification_enabled=False,
        client=client,
        # Installed in several workspaces: /slack/install and /slack/oauth_redirect, and each
        # request's bot token from the installation store. Otherwise SLACK_BOT_TOKEN.
        oauth_settings=oauth_settings(settings, store) if store else None,
        authorize=request_authorize(settings, store, client) if store else None,
        # what a person hears from a workspace where Rapport isn't (or no longer) installed
        user_facing_authorize_error_message=NOT_INSTALLED_HERE,
        # Listeners only parse, touch the database and ack; they hand Slack calls to
        # services.defer(). So they run in the request thread and the response leaves as soon
        # as they return, instead of Bolt polling every 10 ms for an ack from another thread.
        process_before_response=True,
        # Bolt copies this logger's level into its own: configure_logging keeps it at INFO+
        logger=logging.getLogger("slack_bolt"),
    )

    app.use(ProvideServices(services))
    # Bolt tries listeners in this order, each costing a request about 10 µs of CPU to pass
    # over: message events, by far the most frequent requests, are matched first, then the
    # slash commands, then buttons, modals and the other events.
    # /rapport's subcommands are added by the features they belong to.
    rapport = handlers.relationships.rapport_router()
    app.event("message")(handlers.drift.on_message)
    app.command("/rapport")(rapport.command)
    app.command("/checkin")(handlers.checkins.checkin_router().command)
    app.command("/pulse")(handlers.pulse.pulse_router().command)
    handlers.drift.register(app, rapport)
    handlers.relationships.register(app, rapport)
    handlers.privacy.register(app, rapport)
    handlers.health.register(rapport)
    handlers.intros.register(app, rapport)
    handlers.home.register(app)
    handlers.checkins.register(app)
    handlers.installs.register(app)
    handlers.pulse.register(app)

    def friendly_error(error: Exception, body: dict[str, Any], respond: Respond) -> BoltResponse:
        return _friendly_error(error, body, respond, services)

    app.error(friendly_error)
    return app


class ProvideServices(Middleware):
    """Listeners name ``services`` as an argument, as they name Bolt's ``client`` and
    ``respond``, which Bolt makes anew for each request: these keep the process's
    connections alive.

    A middleware of Bolt's own class, which Bolt calls as it is: a middleware function costs
    every request a build of every argument Bolt could hand it (``build_required_kwargs``)."""

    def __init__(self, services: Services):
        self._services = services

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],  # Bolt calls it by this name
    ) -> BoltResponse | None:
        req.context["services"] = self._services
        req.context["client"] = keep_alive(req.context.client)
        if req.context.response_url:
            req.context["respond"] = respond_keeping_alive(req.context.respond)
        return next()


def _friendly_error(
    error: Exception, body: dict[str, Any], respond: Respond | None, services: Services
) -> BoltResponse:
    """Log the failure and answer with a polite message, never a 500 or a traceback.

    A message event that couldn't be stored for want of the database is answered 503, so
    Slack delivers it again later (its ``event_id`` keeps the redelivery from counting twice).
    """
    is_database = isinstance(error, OperationalError | DBAPIError)
    logger.error(
        "listener failed (%s): %s",
        body.get("command") or body.get("type"),
        type(error).__name__,
        exc_info=not is_database,
    )
    if is_database and body.get("type") == "event_callback":
        return BoltResponse(status=503, body="")
    message = apology(error)
    if body.get("command"):  # slash command: the reply is the HTTP body, shown only to them
        payload = {"response_type": "ephemeral", "text": message}
        return BoltResponse(
            status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
        )
    if body.get("type") == "view_submission":
        # push a small modal on top, so the person's filled-in form is still there behind it
        notice = {
            "type": "modal",
            "title": {"type": "plain_text", "text": "Not saved"},
            "close": {"type": "plain_text", "text": "Back"},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": message}}],
        }
        return BoltResponse(
            status=200,
            body=json.dumps({"response_action": "push", "view": notice}),
            headers={"content-type": "application/json"},
        )
    if body.get("type") == "block_actions" and respond is not None:
        # a click's answer has no text: say it where they clicked, once Slack has its 200
        services.defer(respond, text=message, replace_original=False)
    return BoltResponse(status=200, body="")
