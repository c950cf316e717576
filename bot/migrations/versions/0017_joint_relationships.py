"""joint relationships: a partner workspace, and one-time invite codes to join

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 09:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _side() -> sa.Enum:
    return sa.Enum(
        "client", "provider", name="side", native_enum=False, create_constraint=True, length=16
    )


def upgrade() -> None:
    with op.batch_alter_table("relationships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_team_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("partner_side", _side(), nullable=True))
        batch_op.create_index("ix_relationships_partner_team_id", ["partner_team_id"])
    op.create_table(
        "relationship_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("side", _side(), nullable=False),
        sa.Column("invitee_id", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", bot.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index(
        "ix_relationship_invites_relationship_id", "relationship_invites", ["relationship_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_relationship_invites_relationship_id", table_name="relationship_invites")
    op.drop_table("relationship_invites")
    with op.batch_alter_table("relationships", schema=None) as batch_op:
        batch_op.drop_index("ix_relationships_partner_team_id")
        batch_op.drop_column("partner_side")
        batch_op.drop_column("partner_team_id")
