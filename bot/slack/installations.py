"""Installing Rapport in several workspaces through Slack's OAuth flow.

Installations, bot tokens and OAuth state live in Rapport's database, in slack-sdk's own
SQLAlchemy stores (tables: ``bot.slack.installation_models``); the tokens are encrypted there
(``bot.slack.token_cipher``).
"""

from __future__ import annotations

import copy
import logging
from datetime import datetime
from typing import TypeVar

from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, func, select, update

from bot.core.clock import Clock
from bot.core.db import Database
from bot.core.settings import Settings
from bot.slack import workspaces
from bot.slack.installation_models import BOTS, INSTALLATIONS, SECRET_COLUMNS
from bot.slack.token_cipher import PREFIX, TokenCipher

STATE_EXPIRES_SECONDS = 600
ROTATE_MINUTES_BEFORE_EXPIRY = 120

Stored = TypeVar("Stored", Bot, Installation)


class InstallationStore(SQLAlchemyInstallationStore):
    """slack-sdk's store, with every token encrypted on save and decrypted on find; saving
    an installation also (re)activates its workspace."""

    def __init__(self, settings: Settings, db: Database, clock: Clock):
        assert settings.slack_client_id is not None and settings.token_cipher is not None
        super().__init__(client_id=settings.slack_client_id, engine=db.engine)
        self._db, self._clock, self._cipher = db, clock, settings.token_cipher

    def save(self, installation: Installation) -> None:
        super().save(self._sealed(installation))
        if installation.team_id:
            with self._db.transaction() as session:
                workspaces.mark_installed(session, installation.team_id, self._clock.now())

    def save_bot(self, bot: Bot) -> None:
        super().save_bot(self._sealed(bot))

    def find_bot(self, **where: object) -> Bot | None:
        return self._opened(super().find_bot(**where))

    def find_installation(self, **where: object) -> Installation | None:
        return self._opened(super().find_installation(**where))

    def _sealed(self, stored: Stored) -> Stored:
        """A copy with its tokens encrypted: the caller goes on using its own."""
        sealed = copy.copy(stored)
        for name in _token_fields(stored):
            setattr(sealed, name, self._cipher.encrypt(getattr(stored, name)))
        return sealed

    def _opened(self, stored: Stored | None) -> Stored | None:
        for name in _token_fields(stored):
            setattr(stored, name, self._cipher.decrypt(getattr(stored, name)))
        return stored


def _token_fields(stored: Bot | Installation | None) -> tuple[str, ...]:
    if stored is None:
        return ()
    return SECRET_COLUMNS[INSTALLATIONS if isinstance(stored, Installation) else BOTS]


def count_clear_tokens(engine: Engine) -> int:
    """How many stored tokens are not encrypted (kept by a Rapport run without a key)."""
    with engine.connect() as connection:
        return sum(
            connection.scalar(
                select(func.count()).where(
                    table.c[name].is_not(None), table.c[name].not_like(f"{PREFIX}%")
                )
            )
            for table, columns in SECRET_COLUMNS.items()
            for name in columns
        )


def seal_stored_tokens(engine: Engine, cipher: TokenCipher) -> int:
    """Encrypt every token still stored in clear, and re-encrypt with the first key each one
    an older key sealed; returns how many were rewritten. All or nothing: raises
    ``UnreadableToken`` (and changes nothing) when no key opens one of them.

    Each row is only rewritten if it still holds the value read, so a token refreshed by
    another process meanwhile is never overwritten with its predecessor.
    """
    rewritten = 0
    with engine.begin() as connection:
        for table, columns in SECRET_COLUMNS.items():
            for name in columns:
                column = table.c[name]
                stored = connection.execute(select(table.c.id, column).where(column.is_not(None)))
                for row_id, value in stored.all():
                    if cipher.is_sealed_with_current_key(value):
                        continue
                    resealed = cipher.encrypt(cipher.decrypt(value))
                    connection.execute(
                        update(table)
                        .where(table.c.id == row_id, column == value)
                        .values({name: resealed})
                    )
                    rewritten += 1
    return rewritten


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
