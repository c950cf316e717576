"""App Home refresh: publish again the Home of everyone who opened it, once what it shows
has changed (``bot.home.stamps``).

Every run compares stamps in SQL and publishes only the Homes out of date, each claimed
first (``bot.home.published.claim``), so a repeated or overlapping run publishes nothing
twice and a burst of changes between two runs makes one publish per person. Publishes are
paced under ``views.publish``'s rate limit; one person's failure holds up nobody else's,
and their Home is tried again on the next run.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

from bot.home import published
from bot.home.publish import show_home
from bot.services import Services
from bot.slack.pacing import Pacer
from scheduler.jobs import Job

logger = logging.getLogger(__name__)

PUBLISHES_PER_SECOND = 1.5  # views.publish is Tier 4: about 100 a minute per workspace


def refresh_homes(services: Services, pacer: Pacer | None = None) -> int:
    """Publish every out-of-date Home; returns how many were published."""
    pacer = pacer or Pacer(PUBLISHES_PER_SECOND)
    with services.db.read() as session:
        stale = published.out_of_date(session, services.clock.now())
    done = 0
    for home in stale:
        client = services.slack.for_team(home.team_id)
        if client is None:  # uninstalled or revoked: nothing to publish to
            continue
        pacer.wait()
        try:
            done += show_home(services, client, home.team_id, home.user_id, home)
        except DBAPIError:  # the database itself: the next run starts over
            raise
        except Exception:
            logger.exception("Home of %s not refreshed", home.user_id)
    if done:
        logger.info("home: %d Home tab(s) refreshed", done)
    return done


HOME_JOBS = [Job("home-refresh", every_seconds=10, run=refresh_homes)]
