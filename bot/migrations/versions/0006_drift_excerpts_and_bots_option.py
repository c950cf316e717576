"""drift excerpts and bots option

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 06:16:15.921261
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("drift_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("excerpt_days", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("include_bots", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("drift_signals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("excerpt", sa.String(length=140), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drift_signals", schema=None) as batch_op:
        batch_op.drop_column("excerpt")

    with op.batch_alter_table("drift_settings", schema=None) as batch_op:
        batch_op.drop_column("include_bots")
        batch_op.drop_column("excerpt_days")
