"""Health snapshots: every relationship's index, stored for the week.

Each run computes the relationships whose snapshot for this week is missing or more than a
day old (``bot.health.snapshots.due``) and upserts it, so the week's row ends as the week
ended, a repeated or overlapping run stores the same row again, and a standby taking over
picks up where the leader stopped. Each relationship is computed in a read-only session
and stored in its own short transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import DBAPIError

from bot.health import snapshots
from bot.health.index import compute_health
from bot.relationships.models import Relationship
from bot.services import Services
from scheduler.jobs import Job

logger = logging.getLogger(__name__)


def refresh_snapshots(services: Services) -> int:
    """Store this week's snapshot for every relationship that needs one; returns how many."""
    now = services.clock.now()
    with services.db.read() as session:
        due = snapshots.due(session, now)
    stored = 0
    for relationship_id in due:
        try:
            stored += _store_one(services, relationship_id, now)
        except DBAPIError:  # the database itself: the next run starts over
            raise
        except Exception:  # one relationship's failure holds up no other's snapshot
            logger.exception("health snapshot of relationship %d failed", relationship_id)
    if stored:
        logger.info("health: %d weekly snapshot(s) stored", stored)
    return stored


def _store_one(services: Services, relationship_id: int, now: datetime) -> bool:
    with services.db.read() as session:
        relationship = session.get(Relationship, relationship_id)
        if relationship is None:  # deleted meanwhile
            return False
        index = compute_health(session, relationship, now)
    with services.db.transaction() as session:
        snapshots.store(session, index)
    return True


HEALTH_JOBS = [Job("health-snapshots", every_seconds=3600, run=refresh_snapshots)]
