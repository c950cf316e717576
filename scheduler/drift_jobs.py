"""Drift's time-driven work: unanswered formal messages, and retention of signals."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.drift.delivery import send_alerts
from bot.drift.retention import purge_excerpts, purge_signals
from bot.drift.watch import review_unanswered
from bot.services import Services
from scheduler.jobs import Job

logger = logging.getLogger(__name__)

RETENTION = timedelta(days=180)


def alert_unanswered(services: Services) -> int:
    """Alert owners about formal messages still unanswered past the limit; returns alerts."""
    now = services.clock.now()
    with services.db.transaction() as session:
        notices = review_unanswered(session, now)
    send_alerts(services, notices, now)
    if notices:
        logger.info("drift: %d unanswered-request alert(s)", len(notices))
    return len(notices)


def purge_old_signals(services: Services) -> int:
    """Signals older than the retention period are deleted, and excerpts past their
    relationship's limit cleared; returns how many rows changed."""
    now = services.clock.now()
    with services.db.transaction() as session:
        changed = purge_signals(session, now - RETENTION) + purge_excerpts(session, now)
    if changed:
        logger.info("drift retention: %d signal(s) deleted or excerpt(s) cleared", changed)
    return changed


DRIFT_JOBS = [
    Job("drift-unanswered", every_seconds=60, run=alert_unanswered),
    Job("drift-retention", every_seconds=3600, run=purge_old_signals),
]
