"""cross-organisation intros

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-11 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _team() -> sa.Column:
    return sa.Column("team_id", sa.String(length=32), nullable=False)


def _relationship() -> sa.Column:
    return sa.Column("relationship_id", sa.Integer(), nullable=False)


def _relationship_key() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE")


def upgrade() -> None:
    when = bot.core.models.UTCDateTime(timezone=True)
    op.create_table(
        "intro_settings",
        _relationship(),
        _team(),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("every_weeks", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("default_in", sa.Boolean(), nullable=False),
        sa.Column("history_months", sa.Integer(), nullable=False),
        sa.Column("anchor", sa.Date(), nullable=False),
        _relationship_key(),
        sa.PrimaryKeyConstraint("relationship_id"),
    )
    op.create_table(
        "intro_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        _team(),
        _relationship(),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("choice", _enum("intro_choice", "in", "out"), nullable=True),
        sa.Column("paused_until", sa.Date(), nullable=True),
        sa.Column("left_slack", sa.Boolean(), nullable=False),
        _relationship_key(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("relationship_id", "user_id", name="uq_intro_preference"),
    )
    op.create_index(
        "ix_intro_preferences_relationship_id", "intro_preferences", ["relationship_id"]
    )
    op.create_table(
        "intro_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        _team(),
        _relationship(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("opened_at", when, nullable=False),
        sa.Column("ends_at", when, nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.String(length=32), nullable=True),
        _relationship_key(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("relationship_id", "day", name="uq_intro_round_day"),
    )
    op.create_index("ix_intro_rounds_relationship_id", "intro_rounds", ["relationship_id"])
    op.create_index("ix_intro_rounds_ends_at", "intro_rounds", ["ends_at"])
    op.create_table(
        "intro_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        _team(),
        _relationship(),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("intro_at", when, nullable=False),
        sa.Column("nudge_at", when, nullable=False),
        sa.Column("ends_at", when, nullable=False),
        sa.Column("route", _enum("intro_route", "group_dm", "separate_dms"), nullable=True),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("clicked", sa.Boolean(), nullable=False),
        sa.Column("nudged", sa.Boolean(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        _relationship_key(),
        sa.ForeignKeyConstraint(["round_id"], ["intro_rounds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_intro_groups_relationship_id", "intro_groups", ["relationship_id"])
    op.create_index("ix_intro_groups_round_id", "intro_groups", ["round_id"])
    op.create_index("ix_intro_groups_intro_at", "intro_groups", ["intro_at"])
    op.create_table(
        "intro_group_members",
        sa.Column("id", sa.Integer(), nullable=False),
        _team(),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("side", _enum("side", "client", "provider"), nullable=False),
        sa.Column("role", _enum("role", "frontline", "manager", "owner"), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("answer", _enum("intro_answer", "met", "not_yet", "skipped"), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["intro_groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_id", "user_id", name="uq_intro_group_member"),
    )
    op.create_index("ix_intro_group_members_group_id", "intro_group_members", ["group_id"])
    op.create_index(
        "ix_intro_group_members_team_user", "intro_group_members", ["team_id", "user_id"]
    )
    op.create_table(
        "intro_sit_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        _team(),
        _relationship(),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        _relationship_key(),
        sa.ForeignKeyConstraint(["round_id"], ["intro_rounds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "user_id", name="uq_intro_sit_out"),
    )
    op.create_index("ix_intro_sit_outs_relationship_id", "intro_sit_outs", ["relationship_id"])
    op.create_index("ix_intro_sit_outs_team_user", "intro_sit_outs", ["team_id", "user_id"])


def downgrade() -> None:
    for table in (
        "intro_sit_outs",
        "intro_group_members",
        "intro_groups",
        "intro_rounds",
        "intro_preferences",
        "intro_settings",
    ):
        op.drop_table(table)
