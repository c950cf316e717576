"""slack-sdk's installation, bot-token and OAuth-state tables, as part of Rapport's schema,
so Alembic creates them and a departed workspace's rows go with the rest of its data.

The columns holding a credential are encrypted (``bot.slack.installations.InstallationStore``) and
so wider than slack-sdk makes them: sealed, a token takes 4/3 of its length plus about 100
characters (a 150-character rotating token, 300)."""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import String, Table

from bot.core.models import Base

BOTS = SQLAlchemyInstallationStore.build_bots_table(
    Base.metadata, SQLAlchemyInstallationStore.default_bots_table_name
)
INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, SQLAlchemyInstallationStore.default_installations_table_name
)
OAUTH_STATES = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    Base.metadata, SQLAlchemyOAuthStateStore.default_table_name
)

SEALED_LENGTH = 1000
SECRET_COLUMNS: dict[Table, tuple[str, ...]] = {
    BOTS: ("bot_token", "bot_refresh_token"),
    INSTALLATIONS: (
        "bot_token",
        "bot_refresh_token",
        "user_token",
        "user_refresh_token",
        "incoming_webhook_url",  # anyone holding it can post in that channel
    ),
}
for _table, _names in SECRET_COLUMNS.items():
    for _name in _names:
        _table.c[_name].type = String(SEALED_LENGTH)
