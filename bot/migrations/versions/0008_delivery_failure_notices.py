"""delivery failure notices

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 09:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notified_at", bot.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("delivery_notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_delivery_notices_relationship_id", ["relationship_id"], unique=False
        )
        batch_op.create_index("ix_delivery_notices_notified_at", ["notified_at"], unique=False)

    with op.batch_alter_table("sent_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relationship_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("notice_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_sent_messages_relationship",
            "relationships",
            ["relationship_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_sent_messages_notice",
            "delivery_notices",
            ["notice_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            "ix_sent_messages_status_notice", ["status", "notice_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sent_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_sent_messages_status_notice")
        batch_op.drop_constraint("fk_sent_messages_notice", type_="foreignkey")
        batch_op.drop_constraint("fk_sent_messages_relationship", type_="foreignkey")
        batch_op.drop_column("notice_id")
        batch_op.drop_column("relationship_id")

    with op.batch_alter_table("delivery_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_notices_notified_at")
        batch_op.drop_index("ix_delivery_notices_relationship_id")

    op.drop_table("delivery_notices")
