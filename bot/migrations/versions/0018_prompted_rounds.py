"""pulse rounds note when every member had their prompt, relationships count added members

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 17:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE … ADD COLUMN: batch mode's copy of relationships would, on SQLite,
    # cascade-delete every relationship's members, channels and rounds when it drops the old
    op.add_column(
        "relationships",
        sa.Column("member_generation", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("pulse_rounds", sa.Column("prompted_generation", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("pulse_rounds", "prompted_generation")
    op.drop_column("relationships", "member_generation")
