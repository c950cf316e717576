"""Pulse surveys: settings, questions, rounds, recipients, anonymous answers and comments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 05:31:50.478819
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pulse_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("created_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pulse_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pulse_questions_relationship_id"), ["relationship_id"], unique=False
        )

    op.create_table(
        "pulse_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("prompt_at", sa.Time(), nullable=False),
        sa.Column("opens_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("reminder_before_hours", sa.Integer(), nullable=False),
        sa.Column("alerts_done", sa.Boolean(), nullable=False),
        sa.Column("created_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("relationship_id", "day", name="uq_pulse_round_day"),
    )
    with op.batch_alter_table("pulse_rounds", schema=None) as batch_op:
        batch_op.create_index("ix_pulse_rounds_closes_at", ["closes_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_pulse_rounds_relationship_id"), ["relationship_id"], unique=False
        )

    op.create_table(
        "pulse_settings",
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("cadence", sa.String(length=64), nullable=False),
        sa.Column("anchor", sa.Date(), nullable=False),
        sa.Column("not_before", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("min_group", sa.Integer(), nullable=False),
        sa.Column("drop_alert", sa.Float(), nullable=False),
        sa.Column("gap_alert", sa.Float(), nullable=False),
        sa.Column("response_alert", sa.Float(), nullable=False),
        sa.Column("reminder_hours", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("relationship_id"),
    )
    op.create_table(
        "pulse_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.Integer(), nullable=False),
        sa.Column("respondent", sa.String(length=64), nullable=False),
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
        sa.Column("score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_rounds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "question_key", "respondent", name="uq_pulse_answer"),
    )
    with op.batch_alter_table("pulse_answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pulse_answers_round_side_role", ["round_id", "side", "role"], unique=False
        )

    op.create_table(
        "pulse_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sa.String(length=64), nullable=False),
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
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_rounds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "respondent", name="uq_pulse_comment"),
    )
    with op.batch_alter_table("pulse_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pulse_comments_round_id"), ["round_id"], unique=False)

    op.create_table(
        "pulse_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
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
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_rounds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "user_id", name="uq_pulse_recipient"),
    )


def downgrade() -> None:
    op.drop_table("pulse_recipients")
    with op.batch_alter_table("pulse_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_comments_round_id"))

    op.drop_table("pulse_comments")
    with op.batch_alter_table("pulse_answers", schema=None) as batch_op:
        batch_op.drop_index("ix_pulse_answers_round_side_role")

    op.drop_table("pulse_answers")
    op.drop_table("pulse_settings")
    with op.batch_alter_table("pulse_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_rounds_relationship_id"))
        batch_op.drop_index("ix_pulse_rounds_closes_at")

    op.drop_table("pulse_rounds")
    with op.batch_alter_table("pulse_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_questions_relationship_id"))

    op.drop_table("pulse_questions")
