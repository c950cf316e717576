"""Which workspaces Rapport may talk to, and deleting a workspace's data after it leaves.

An uninstall (``app_uninstalled``, or ``tokens_revoked`` for the bot) stops every send to
that workspace at once: ``bot.slack.client`` asks ``is_active`` before each scheduled
message. Its data stays for ``DELETE_AFTER`` in case it was a mistake and the app is
reinstalled; then ``delete_departed`` removes every row carrying its ``team_id``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.relationships.models import Relationship
from bot.schema import metadata
from bot.slack.models import Workspace

DELETE_AFTER = timedelta(days=30)


def is_active(session: Session, team_id: str) -> bool:
    workspace = session.get(Workspace, team_id)
    return workspace is None or workspace.uninstalled_at is None


def uninstalled_since(session: Session, team_id: str) -> datetime | None:
    workspace = session.get(Workspace, team_id)
    return workspace.uninstalled_at if workspace is not None else None


def mark_installed(session: Session, team_id: str, now: datetime) -> None:
    """A (re)install: sends resume, and a pending deletion is called off."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        session.add(Workspace(team_id=team_id, installed_at=now))
    else:
        workspace.installed_at, workspace.uninstalled_at = now, None


def mark_uninstalled(session: Session, team_id: str, now: datetime) -> None:
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        session.add(Workspace(team_id=team_id, uninstalled_at=now))
    elif workspace.uninstalled_at is None:
        workspace.uninstalled_at = now


def delete_departed(session: Session, now: datetime) -> list[str]:
    """Delete every row of workspaces uninstalled more than ``DELETE_AFTER`` ago; returns
    their team ids. Children go before parents, so foreign keys never object."""
    departed = list(
        session.scalars(
            select(Workspace.team_id).where(Workspace.uninstalled_at < now - DELETE_AFTER)
        )
    )
    if not departed:
        return []
    # a joint relationship the departed company had joined is one-sided again
    session.execute(
        update(Relationship)
        .where(Relationship.partner_team_id.in_(departed))
        .values(partner_team_id=None, partner_side=None)
    )
    for table in reversed(metadata.sorted_tables):
        if "team_id" in table.c:
            session.execute(delete(table).where(table.c.team_id.in_(departed)))
    return departed
