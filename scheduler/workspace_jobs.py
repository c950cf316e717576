"""Deleting the data of workspaces that uninstalled Rapport, once the grace period is over."""

from __future__ import annotations

import logging

from bot.services import Services
from bot.slack import workspaces
from scheduler.jobs import Job

logger = logging.getLogger(__name__)


def delete_departed_workspaces(services: Services) -> list[str]:
    with services.db.transaction() as session:
        departed = workspaces.delete_departed(session, services.clock.now())
    if departed:
        logger.info("deleted the data of %d uninstalled workspace(s)", len(departed))
    return departed


WORKSPACE_JOBS = [Job("workspace-retention", every_seconds=3600, run=delete_departed_workspaces)]
