"""The weekly health digest tick: each owner's digest at their own day and time, or one in
the alerts channel. Safe to run twice, concurrently or after a crash: every digest is
claimed in the send ledger under a key naming relationship, recipient and local week.

Each digest shows the index chart (``bot.health.chart_uploads``), uploaded once per
relationship and week and shared by its owners' digests. Slack is asked whether the file is
still there before the digests go (one deleted is uploaded again), since a digest Slack
refuses is recorded as failed for good; one refused all the same (the file deleted in
between) goes again without the chart under a second key, so it still goes exactly once.
An upload that fails leaves the chart's figures in words in its place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from bot.health import digest, digest_blocks, snapshots
from bot.health.chart_uploads import chart_block
from bot.health.digest import DigestPlan
from bot.health.report import HealthReport, health_report
from bot.relationships.models import Relationship
from bot.services import Services
from bot.slack import message_keys, outbox
from bot.slack.files import forget_file
from bot.slack.models import SendStatus
from bot.slack.outbox import Outgoing, send_once
from bot.slack.pacing import PROMPTS_PER_SECOND, Pacer
from bot.slack.timezones import cached_timezones, known_timezone
from scheduler.jobs import Job

logger = logging.getLogger(__name__)

DIGEST_EVERY_SECONDS = 60
WITHOUT_PICTURE = ":text"  # appended to the key of a digest sent again without its chart


@dataclass
class DigestTick:
    """What one tick did, for logs, tests and the benchmark."""

    sent: dict[str, int] = field(default_factory=dict)  # delivery status -> count
    without_index: list[int] = field(default_factory=list)  # relationships with no data
    charts: dict[str, int] = field(default_factory=dict)  # "shown" / "in words" -> count

    def count(self, status: str) -> None:
        self.sent[status] = self.sent.get(status, 0) + 1

    def count_chart(self, shown: bool) -> None:
        kind = "shown" if shown else "in words"
        self.charts[kind] = self.charts.get(kind, 0) + 1


def run_digests(services: Services, pacer: Pacer | None = None) -> DigestTick:
    now = services.clock.now()
    pacer = pacer or Pacer(PROMPTS_PER_SECOND)
    tick = DigestTick()
    with services.db.read() as session:
        plans = digest.planned_digests(session, now)
    for plan in plans:
        try:
            send_digest(services, plan, now, tick, pacer)
        except DBAPIError:  # the database itself: the next tick starts over
            raise
        except Exception:  # one relationship's failure holds up no other's digest
            logger.exception("health digest of relationship %d failed", plan.relationship_id)
    if tick.sent:
        logger.info("health digest tick: %s", tick.sent)
    return tick


def send_digest(
    services: Services, plan: DigestPlan, now: datetime, tick: DigestTick, pacer: Pacer
) -> None:
    """Send ``plan``'s digest to whoever's time has come and hasn't had it this week."""
    client = services.slack.for_team(plan.team_id)
    if client is None:  # uninstalled: nobody there gets one
        return
    due = _due_keys(services, client, plan, now, pacer)
    if not due:
        return
    ledger = outbox.outcomes(services.db, [*due, *(key + WITHOUT_PICTURE for key in due)])
    todo = {key: due[key] for key in due if _left_to_send(ledger, key)}
    if not todo:
        return
    report, upcoming = _report(services, plan, now)
    if report.index.value is None:
        tick.without_index.append(plan.relationship_id)
        return
    chart = chart_block(
        services.db,
        client,
        plan.team_id,
        plan.relationship_id,
        report.charts.index,
        now,
        recheck_after=timedelta(0),  # a refused digest can't be sent again: ask Slack first
    )
    tick.count_chart(chart is not None)
    text = digest_blocks.digest_text(report)
    with_chart = digest_blocks.digest_blocks(report, chart, upcoming)
    without_chart = digest_blocks.digest_blocks(report, None, upcoming)
    for key, recipient in todo.items():
        pacer.wait()
        row = ledger.get(key)
        delivery = None
        if row is None or row.status is not SendStatus.FAILED:
            delivery = send_once(
                services.db, services.slack, _digest(plan, key, recipient, text, with_chart), now
            )
        if delivery is None or delivery.error == "invalid_blocks":  # the chart's file went
            if chart is not None:
                forget_file(services.db, plan.team_id, chart["slack_file"]["id"])
            fallback = _digest(plan, key + WITHOUT_PICTURE, recipient, text, without_chart)
            delivery = send_once(services.db, services.slack, fallback, now)
        tick.count(delivery.status)


def _digest(plan: DigestPlan, key: str, recipient: str, text: str, blocks: list) -> Outgoing:
    return Outgoing(
        plan.team_id, key, recipient, text, blocks, relationship_id=plan.relationship_id
    )


def _left_to_send(ledger: dict, key: str) -> bool:
    """Not yet sent, nor refused for good (a refused picture: nor sent without it)."""
    row = ledger.get(key)
    if row is None or row.status is SendStatus.PENDING:
        return True  # a pending claim: send_once takes it over once stale
    if row.status is SendStatus.SENT:
        return False
    fallback = ledger.get(key + WITHOUT_PICTURE)
    return row.error == "invalid_blocks" and (
        fallback is None or fallback.status is SendStatus.PENDING
    )


def _due_keys(
    services: Services, client: WebClient, plan: DigestPlan, now: datetime, pacer: Pacer
) -> dict[str, str]:
    """Ledger key -> recipient, for each digest whose local time has come: each owner's, or
    the alerts channel's once the first owner's time has. An owner whose zone Slack can't
    give right now (and never gave) waits for a later tick."""
    db, team_id = services.db, plan.team_id
    zones = cached_timezones(db, team_id, list(plan.owners), now)
    weeks: dict[str, date] = {}
    for owner in plan.owners:
        tz = zones.get(owner)
        if tz is None:
            pacer.wait()
            tz = known_timezone(db, client, team_id, owner, now)
        week = None if tz is None else digest.due_week(plan.settings, tz, now)
        if week is not None:
            weeks[owner] = week
    if plan.channel is not None:
        if not weeks:
            return {}
        week = max(weeks.values())
        return {message_keys.health_digest(plan.relationship_id, plan.channel, week): plan.channel}
    return {
        message_keys.health_digest(plan.relationship_id, owner, week): owner
        for owner, week in weeks.items()
    }


def _report(
    services: Services, plan: DigestPlan, now: datetime
) -> tuple[HealthReport, list[digest.UpcomingCheckIn]]:
    """The index as owners see it, stored as this week's snapshot (so a relationship
    without one isn't computed again for a while), and the check-ins coming up."""
    with services.db.read() as session:
        relationship = session.get(Relationship, plan.relationship_id)
        assert relationship is not None
        report = health_report(session, relationship, plan.owners[0], now)
        upcoming = digest.upcoming_checkins(session, plan.relationship_id, now)
    with services.db.transaction() as session:
        snapshots.store(session, report.index)
    return report, upcoming


DIGEST_JOBS = [Job("health-digest", DIGEST_EVERY_SECONDS, run_digests)]
