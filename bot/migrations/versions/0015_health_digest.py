"""weekly health digest settings

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 05:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "health_digest_settings",
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("send_at", sa.Time(), nullable=False),
        sa.Column("to_channel", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("relationship_id"),
    )


def downgrade() -> None:
    op.drop_table("health_digest_settings")
