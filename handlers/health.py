"""``/rapport health [relationship]``, ``/rapport health formula`` and ``/rapport digest …``.

``/rapport health`` checks that the relationship exists and the person is in it (else it
answers with the refusal). When Slack showed that relationship's figures in the last few
seconds (``bot.health.recently_shown``), the ack answers with them. Otherwise it acks with
nothing to show, and just after it the index is computed in a read-only session and the
reply comes once, through the response URL, with the index chart (uploaded, or the file
uploaded before for the same figures) or, when the upload fails, with the figures in text
alone; then this week's snapshot is stored, as the weekly job would store it.
The reply's buttons (catch-up, check-in, pulse) belong to the features that do the work.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, time

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.core.single_flight import SingleFlight
from bot.health import blocks as health_blocks
from bot.health import digest, digest_blocks, snapshots
from bot.health.chart_uploads import ChartBlock, chart_block, respond_with_chart
from bot.health.figures import HealthIndex
from bot.health.recently_shown import RecentlyShown
from bot.health.report import HealthFigures, health_figures, report_of
from bot.relationships import domain as rel
from bot.relationships.models import Relationship, Role
from bot.relationships.parser import RapportCommand
from bot.services import Services
from handlers.routing import Call, Reply, Router

logger = logging.getLogger(__name__)
# Reports computed at once: each is mostly Python holding the GIL, so more at a time only
# make the acks wait longer for it, and the replies no sooner. One a process rather than two:
# replies alike at 40 commands a second (bench/health_index.py --ack: p50 9.0 against 9.3 ms),
# and under a flood 1,260-1,325 acks a second against 816-1,039 (bench/command_throughput.py).
_REPORTING = threading.BoundedSemaphore(1)
# Reports waiting to be computed or computing, at most; past it the ack asks the person to
# try again. Each one waiting holds a background thread, which other commands need right
# after their ack (a modal's trigger_id lasts 3 s): a flood of /rapport health mustn't take
# them all.
_WAITING = threading.BoundedSemaphore(16)


@dataclass(frozen=True)
class _Shown:
    """What everyone asking at once for one relationship's health in one workspace is shown
    alike: its figures, and the index chart as that workspace's installation uploaded it."""

    figures: HealthFigures
    chart: ChartBlock


_SHOWN: SingleFlight[tuple[int, str], _Shown] = SingleFlight()  # by relationship, workspace


def register(rapport: Router[RapportCommand]) -> None:
    recently: RecentlyShown[_Shown] = RecentlyShown()  # the app's own
    rapport.add("health", functools.partial(show_health, recently), reads_only=True)
    rapport.add("health formula", show_formula, reads_only=True)
    rapport.add("digest settings", show_digest, reads_only=True)
    for switch in ("on", "off", "channel", "dm", "day"):
        rapport.add(f"digest {switch}", change_digest)


def show_health(
    recently: RecentlyShown[_Shown], session: Session, call: Call[RapportCommand]
) -> Reply:
    relationship, role = call.relationship_and_role(session)
    shown = recently.get(relationship.id, call.team_id, call.now)
    if shown is not None:
        report = report_of(relationship, role is Role.OWNER, shown.figures)
        blocks = health_blocks.health_blocks(report, shown.chart)
        return Reply(text=health_blocks.health_title(report.name), blocks=blocks)
    if not _WAITING.acquire(blocking=False):
        return Reply(text=health_blocks.BUSY)
    return Reply(follow_up=functools.partial(answer_health, recently, call, relationship.id))


def show_formula(session: Session, call: Call[RapportCommand]) -> Reply:
    return Reply(text=health_blocks.FORMULA_TITLE, blocks=health_blocks.formula_blocks())


def show_digest(session: Session, call: Call[RapportCommand]) -> Reply:
    """Members see the settings; owners also when their next digest comes (in the channel:
    the first owner's time), shown in the zone Rapport last heard from Slack for them."""
    relationship, role = call.relationship_and_role(session)
    is_owner = role is Role.OWNER
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


def answer_health(
    recently: RecentlyShown[_Shown],
    call: Call[RapportCommand],
    relationship_id: int,
    client: WebClient,
    respond: Respond,
) -> None:
    """The reply, with the index chart, then this week's snapshot. A database failure
    while computing is apologised for by the router (``Services.defer``). Only computing
    waits its turn: the Slack calls after it don't keep the next report waiting. People who
    ask for the same relationship's health while its figures and chart are being worked out
    share them (``_SHOWN``), each seeing them as their role allows; once Slack has shown
    them with their chart, they are ``recently`` shown."""
    services = call.services
    try:
        with services.db.read() as session:
            relationship, role = rel.member_of(session, call.team_id, relationship_id, call.user_id)
        shown, worked_out = _SHOWN.run(
            (relationship_id, call.team_id),
            functools.partial(_work_out, services, client, call.team_id, relationship, call.now),
        )
    except rel.RapportError as error:  # removed from it since the ack
        respond(text=str(error))
        return
    finally:
        _WAITING.release()
    report = report_of(relationship, role is Role.OWNER, shown.figures)
    title = health_blocks.health_title(report.name)

    def reply(chart: ChartBlock) -> WebhookResponse:
        answer = respond(text=title, blocks=health_blocks.health_blocks(report, chart))
        whole = chart is not None or shown.figures.index.value is None  # no chart left out
        if answer.status_code == 200 and whole:
            computed_at = shown.figures.index.computed_at
            recently.put(relationship_id, call.team_id, shown, computed_at)
        return answer

    answer = respond_with_chart(services.db, call.team_id, shown.chart, reply)
    if answer.status_code != 200:
        logger.warning("health reply refused: %s %s", answer.status_code, answer.body[:100])
    if worked_out:  # the one who shared them has nothing new to store
        store_snapshot(services, report.index)


def _work_out(
    services: Services,
    client: WebClient,
    team_id: str,
    relationship: Relationship,
    now: datetime,
) -> _Shown:
    """The figures (one working-out at a time), then their index chart."""
    with _REPORTING, services.db.read() as session:
        figures = health_figures(session, relationship, now)
    return _Shown(figures, index_chart(services, client, team_id, figures))


def index_chart(
    services: Services,
    client: WebClient,
    team_id: str,
    figures: HealthFigures,
) -> ChartBlock:
    """The index chart's image block; None when there is no index or it can't be shown
    (the reply shows the figures in text all the same)."""
    if figures.index.value is None:
        return None
    try:
        return chart_block(
            services.db,
            client,
            team_id,
            figures.index.relationship_id,
            figures.charts.index,
            services.clock.now(),
        )
    except SQLAlchemyError as error:
        logger.warning("health chart not shown: %s", type(error).__name__)
        return None


def store_snapshot(services: Services, index: HealthIndex) -> None:
    """Keep what was just shown as this week's snapshot. The person has their answer
    already, so a failure is logged, not told: the weekly job stores it later."""
    try:
        with services.db.transaction() as session:
            snapshots.store(session, index)
    except SQLAlchemyError as error:
        logger.warning("health snapshot not stored: %s", type(error).__name__)
