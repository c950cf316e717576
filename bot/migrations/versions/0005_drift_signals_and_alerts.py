"""drift signals and alerts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 05:28:20.189876
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

# the partial index's condition, as it stood in this revision
OPEN_FORMAL = "replied_at IS NULL AND score >= 0.5"

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drift_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("figure", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("cue_kinds", sa.String(length=200), nullable=False),
        sa.Column("sent_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=32), nullable=True),
        sa.Column("not_drift_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "relationship_id", "channel_id", "kind", "day", "figure", name="uq_drift_alert"
        ),
    )
    with op.batch_alter_table("drift_alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_drift_alerts_recent",
            ["relationship_id", "channel_id", "kind", "sent_at"],
            unique=False,
        )

    op.create_table(
        "drift_calmings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("presses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("relationship_id", "kind", name="uq_drift_calming"),
    )
    op.create_table(
        "drift_settings",
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("nudge", sa.Boolean(), nullable=False),
        sa.Column("formal_share", sa.Float(), nullable=False),
        sa.Column("min_formal", sa.Integer(), nullable=False),
        sa.Column("unanswered_hours", sa.Integer(), nullable=False),
        sa.Column("min_unanswered", sa.Integer(), nullable=False),
        sa.Column("one_way_messages", sa.Integer(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("relationship_id"),
    )
    op.create_table(
        "drift_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("cue_kinds", sa.String(length=200), nullable=False),
        sa.Column("posted_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("replied_at", bot.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "channel_id", "message_ts", name="uq_drift_signal_message"),
    )
    with op.batch_alter_table("drift_signals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_drift_signals_channel_time",
            ["relationship_id", "channel_id", "posted_at", "side", "score"],
            unique=False,
        )
        batch_op.create_index(
            "ix_drift_signals_open",
            ["relationship_id", "channel_id", "posted_at"],
            unique=False,
            sqlite_where=sa.text(OPEN_FORMAL),
            postgresql_where=sa.text(OPEN_FORMAL),
        )

    op.create_table(
        "drift_words",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("phrase", sa.String(length=100), nullable=False),
        sa.Column("added", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["relationship_id"], ["relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("relationship_id", "kind", "phrase", name="uq_drift_word"),
    )
    with op.batch_alter_table("drift_words", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_drift_words_relationship_id"), ["relationship_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("drift_words", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drift_words_relationship_id"))

    op.drop_table("drift_words")
    with op.batch_alter_table("drift_signals", schema=None) as batch_op:
        batch_op.drop_index("ix_drift_signals_open")
        batch_op.drop_index("ix_drift_signals_channel_time")

    op.drop_table("drift_signals")
    op.drop_table("drift_settings")
    op.drop_table("drift_calmings")
    with op.batch_alter_table("drift_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_drift_alerts_recent")

    op.drop_table("drift_alerts")
