"""App Home views: who opened Home, and a stamp of what it last showed

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 05:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "home_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("stamp", sa.String(length=64), nullable=False),
        sa.Column("opened_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "user_id", name="uq_home_view_person"),
    )


def downgrade() -> None:
    op.drop_table("home_views")
