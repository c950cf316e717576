"""encrypt installation tokens

Room for encrypted tokens in slack-sdk's tables (``SEALED_LENGTH``). The tokens themselves
are encrypted after the migrations, with the key from the settings, which a migration never
sees: ``rapport migrate`` and every start call ``bot.slack.installations.seal_stored_tokens``.
Sealed values carry the ``enc:v1:`` prefix, so clear ones left by an older Rapport are
told apart (and still read) until then.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-03 16:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SEALED_LENGTH = 1000  # bot.slack.installation_models.SEALED_LENGTH when this was written
SLACK_SDK_LENGTH = 200
TOKEN_COLUMNS = {
    "slack_bots": ("bot_token", "bot_refresh_token"),
    "slack_installations": (
        "bot_token",
        "bot_refresh_token",
        "user_token",
        "user_refresh_token",
        "incoming_webhook_url",
    ),
}


def upgrade() -> None:
    _resize(SLACK_SDK_LENGTH, SEALED_LENGTH)


def downgrade() -> None:
    """An older Rapport can't read encrypted tokens: reinstall in each workspace after."""
    _resize(SEALED_LENGTH, SLACK_SDK_LENGTH)


def _resize(old: int, new: int) -> None:
    for table, columns in TOKEN_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(
                    column, existing_type=sa.String(length=old), type_=sa.String(length=new)
                )
