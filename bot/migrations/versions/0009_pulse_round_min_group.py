"""pulse rounds keep the anonymity threshold they were answered under

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 16:40:00.000000

Existing rounds take the relationship's setting at migration time (3 where owners never
changed it): lowering ``min-group`` later can't reveal a split they hid.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

DEFAULT_MIN_GROUP = 3


def upgrade() -> None:
    with op.batch_alter_table("pulse_rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_group", sa.Integer(), nullable=True))
    rounds = sa.table(
        "pulse_rounds",
        sa.column("relationship_id", sa.Integer()),
        sa.column("min_group", sa.Integer()),
    )
    settings = sa.table(
        "pulse_settings",
        sa.column("relationship_id", sa.Integer()),
        sa.column("min_group", sa.Integer()),
    )
    current = (
        sa.select(settings.c.min_group)
        .where(settings.c.relationship_id == rounds.c.relationship_id)
        .scalar_subquery()
    )
    op.execute(rounds.update().values(min_group=sa.func.coalesce(current, DEFAULT_MIN_GROUP)))
    with op.batch_alter_table("pulse_rounds", schema=None) as batch_op:
        batch_op.alter_column("min_group", existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("pulse_rounds", schema=None) as batch_op:
        batch_op.drop_column("min_group")
