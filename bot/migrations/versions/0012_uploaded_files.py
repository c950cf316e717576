"""uploaded files: pictures reused until what they show changes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uploaded_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("file_id", sa.String(length=32), nullable=False),
        sa.Column("uploaded_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checked_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "purpose", "content_hash", name="uq_uploaded_file_content"),
    )


def downgrade() -> None:
    op.drop_table("uploaded_files")
