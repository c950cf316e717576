"""``/rapport health [relationship]``, ``/rapport health formula`` and ``/rapport digest …``.

The index is computed in the request's read-only session (no write lock before the ack),
and the ack answers with the figures in text. Just after it, this week's snapshot is stored,
as the weekly job would store it, and the reply is replaced by one showing the index chart
(uploaded, or the file uploaded before for the same figures); if the upload fails, the
reply stays as it was.
The reply's buttons (catch-up, check-in, pulse) belong to the features that do the work.
"""

from __future__ import annotations

import functools
import logging
from datetime import time

from slack_bolt import Respond
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.health import blocks as health_blocks
from bot.health import digest, digest_blocks, snapshots
from bot.health.chart_uploads import chart_block
from bot.health.figures import HealthIndex
from bot.health.report import HealthReport, health_report
from bot.relationships import domain as rel
from bot.relationships.models import Role
from bot.relationships.parser import RapportCommand
from bot.services import Services
from handlers.routing import Call, Reply, Router

logger = logging.getLogger(__name__)


def register(rapport: Router[RapportCommand]) -> None:
    rapport.add("health", show_health, reads_only=True)
    rapport.add("health formula", show_formula, reads_only=True)
    rapport.add("digest settings", show_digest, reads_only=True)
    for switch in ("on", "off", "channel", "dm", "day"):
        rapport.add(f"digest {switch}", change_digest)


def show_health(session: Session, call: Call[RapportCommand]) -> Reply:
    relationship = call.relationship(session)
    report = health_report(session, relationship, call.user_id, call.now)
    return Reply(
        text=health_blocks.health_title(report.name),
        blocks=health_blocks.health_blocks(report),
        follow_up=functools.partial(after_reply, call.services, call.team_id, report),
    )


def show_formula(session: Session, call: Call[RapportCommand]) -> Reply:
    return Reply(text=health_blocks.FORMULA_TITLE, blocks=health_blocks.formula_blocks())


def show_digest(session: Session, call: Call[RapportCommand]) -> Reply:
    """Members see the settings; owners also when their next digest comes (in the channel:
    the first owner's time), shown in the zone Rapport last heard from Slack for them."""
    relationship = call.relationship(session)
    is_owner = rel.require_member(session, relationship, call.user_id).role is Role.OWNER
    settings = digest.settings_for(session, relationship.id)
    tz = digest.stored_zone(session, call.team_id, call.user_id)
    if settings.to_channel and relationship.alerts_channel_id:
        zones = [
            digest.stored_zone(session, call.team_id, owner)
            for owner in rel.owners(session, relationship)
        ]
        next_at = min(digest.next_send(settings, zone, call.now) for zone in zones)
    else:
        next_at = digest.next_send(settings, tz, call.now) if is_owner else None
    text = digest_blocks.settings_text(
        relationship.name, settings, relationship.alerts_channel_id, next_at, tz
    )
    return Reply(text=text)


def change_digest(session: Session, call: Call[RapportCommand]) -> Reply:
    relationship = call.relationship(session)
    operation, *operands = call.command.args
    changes: dict[str, object] = {
        "on": {"enabled": True},
        "off": {"enabled": False},
        "channel": {"to_channel": True},
        "dm": {"to_channel": False},
    }.get(operation, {})
    if operation == "day":
        weekday, at = operands
        changes = {"weekday": int(weekday), "send_at": time.fromisoformat(at)}
    settings = digest.change_settings(session, relationship, call.user_id, call.now, **changes)
    return Reply(text=digest_blocks.changed_text(relationship.name, settings))


def after_reply(
    services: Services, team_id: str, report: HealthReport, client: WebClient, respond: Respond
) -> None:
    store_snapshot(services, report.index)
    show_index_chart(services, team_id, report, client, respond)


def store_snapshot(services: Services, index: HealthIndex) -> None:
    """Keep what was just shown as this week's snapshot. The person has their answer
    already, so a failure is logged, not told: the weekly job stores it later."""
    try:
        with services.db.transaction() as session:
            snapshots.store(session, index)
    except SQLAlchemyError as error:
        logger.warning("health snapshot not stored: %s", type(error).__name__)


def show_index_chart(
    services: Services, team_id: str, report: HealthReport, client: WebClient, respond: Respond
) -> None:
    """Replace the reply with the same one showing the index chart. A file deleted from
    Slack is found when it is next checked (``bot.slack.files.RECHECK_AFTER``); until then
    Slack refuses the new reply and the text one stays, as it does when anything fails."""
    if report.index.value is None:
        return
    try:
        chart = chart_block(
            services.db,
            client,
            team_id,
            report.relationship_id,
            report.charts.index,
            services.clock.now(),
        )
    except SQLAlchemyError as error:  # the reply is there already, with its figures
        logger.warning("health chart not shown: %s", type(error).__name__)
        return
    if chart is not None:
        respond(
            text=health_blocks.health_title(report.name),
            blocks=health_blocks.health_blocks(report, chart),
            replace_original=True,
        )
