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


def _side(checked: bool = True) -> sa.Enum:
    return sa.Enum(
        "client", "provider", name="side", native_enum=False, create_constraint=checked, length=16
    )


def upgrade() -> None:
    # plain ALTER TABLE … ADD COLUMN (unchecked, so SQLite needn't copy the table: dropping
    # the old copy would cascade-delete every relationship's members, channels and rounds)
    op.add_column(
        "relationships", sa.Column("partner_team_id", sa.String(length=32), nullable=True)
    )
    op.add_column("relationships", sa.Column("partner_side", _side(checked=False), nullable=True))
    op.create_index("ix_relationships_partner_team_id", "relationships", ["partner_team_id"])
    # a Slack Connect channel's message is looked up by channel from either workspace
    op.create_index("ix_watched_channels_channel_id", "watched_channels", ["channel_id"])
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
    op.drop_index("ix_watched_channels_channel_id", table_name="watched_channels")
    # ALTER TABLE … DROP COLUMN, never batch mode's copy of the table: on SQLite dropping
    # the old table would cascade-delete every member, channel and round of every
    # relationship
    op.drop_index("ix_relationships_partner_team_id", table_name="relationships")
    op.drop_column("relationships", "partner_side")
    op.drop_column("relationships", "partner_team_id")
