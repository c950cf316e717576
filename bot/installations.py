"""Installing Rapport in several workspaces through Slack's OAuth flow.

Installations, bot tokens and OAuth state live in Rapport's database, in slack-sdk's own
SQLAlchemy stores (tables: ``bot.installation_models``).
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot import workspaces
from bot.clock import Clock
from bot.db import Database
from bot.settings import Settings

STATE_EXPIRES_SECONDS = 600
ROTATE_MINUTES_BEFORE_EXPIRY = 120


class InstallationStore(SQLAlchemyInstallationStore):
    """slack-sdk's store; saving an installation also (re)activates its workspace."""

    def __init__(self, settings: Settings, db: Database, clock: Clock):
        assert settings.slack_client_id is not None
        super().__init__(client_id=settings.slack_client_id, engine=db.engine)
        self._db, self._clock = db, clock

    def save(self, installation: Installation) -> None:
        super().save(installation)
        if installation.team_id:
            with self._db.transaction() as session:
                workspaces.mark_installed(session, installation.team_id, self._clock.now())


def uninstall(db: Database, store: InstallationStore | None, team_id: str, now: datetime) -> None:
    """Rapport was uninstalled, or its bot token revoked: stop sending there at once, drop
    the tokens, and let the workspace's data go after ``workspaces.DELETE_AFTER``."""
    with db.transaction() as session:
        workspaces.mark_uninstalled(session, team_id, now)
    if store is not None:
        store.delete_all(enterprise_id=None, team_id=team_id)


def request_authorize(
    settings: Settings, store: InstallationStore, client: WebClient
) -> InstallationStoreAuthorize:
    """Each request's bot token from the store, rotated near expiry through ``client`` (so
    through ``SLACK_API_URL``, which Bolt's default would not use)."""
    return InstallationStoreAuthorize(
        logger=logging.getLogger("slack_bolt"),
        installation_store=store,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
        bot_only=True,
        client=client,
    )


def oauth_settings(settings: Settings, store: InstallationStore) -> OAuthSettings:
    """``/slack/install`` and ``/slack/oauth_redirect``, with token rotation."""
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(settings.slack_scopes),
        installation_store=store,
        installation_store_bot_only=True,
        state_store=SQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_EXPIRES_SECONDS, engine=store.engine
        ),
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
    )
