"""relationships, members, channels

Revision ID: 0001
Revises:
Create Date: 2026-11-25 04:48:48.484857
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "relationships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("name_key", sa.String(length=80), nullable=False),
        sa.Column("client_org", sa.String(length=80), nullable=False),
        sa.Column("provider_org", sa.String(length=80), nullable=False),
        sa.Column("alerts_channel_id", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "name_key", name="uq_relationship_name"),
    )
    with op.batch_alter_table("relationships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relationships_team_id"), ["team_id"], unique=False)

    op.create_table(
        "current_relationships",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "user_id"),
    )
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column(
            "side",
            sa.Enum(
                "client",
                "provider",
                name="side",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "role",
            sa.Enum(
                "frontline",
                "manager",
                "owner",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("added_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("relationship_id", "user_id", name="uq_member_person"),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_members_relationship_id"), ["relationship_id"], unique=False
        )
        batch_op.create_index("ix_members_team_user", ["team_id", "user_id"], unique=False)

    op.create_table(
        "organisation_sides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("org_team_id", sa.String(length=32), nullable=False),
        sa.Column("org_name", sa.String(length=120), nullable=False),
        sa.Column(
            "side",
            sa.Enum(
                "client",
                "provider",
                name="side",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("relationship_id", "org_team_id", name="uq_organisation_side"),
    )
    with op.batch_alter_table("organisation_sides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organisation_sides_relationship_id"), ["relationship_id"], unique=False
        )

    op.create_table(
        "watched_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("added_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "channel_id", name="uq_watched_channel"),
    )
    with op.batch_alter_table("watched_channels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_watched_channels_relationship_id"), ["relationship_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("watched_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watched_channels_relationship_id"))

    op.drop_table("watched_channels")
    with op.batch_alter_table("organisation_sides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_sides_relationship_id"))

    op.drop_table("organisation_sides")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_team_user")
        batch_op.drop_index(batch_op.f("ix_members_relationship_id"))

    op.drop_table("members")
    op.drop_table("current_relationships")
    with op.batch_alter_table("relationships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relationships_team_id"))

    op.drop_table("relationships")
