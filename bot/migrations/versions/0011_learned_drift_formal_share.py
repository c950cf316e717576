"""formal-share default 35% for the learned drift score

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 19:50:00.000000

Drift scores now come from the learned model, which hears curt, sarcastic and indirect
messages that the cue words missed, so more messages count as formal in every channel; the
channel simulations (bench/drift_channels.py) put the alerting share at 35% where the cues
had 25%. Relationships still on the old default move with it; other values stay.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_settings = sa.table("drift_settings", sa.column("formal_share", sa.Float()))


def _move(old: float, new: float) -> None:
    op.execute(_settings.update().where(_settings.c.formal_share == old).values(formal_share=new))


def upgrade() -> None:
    _move(0.25, 0.35)


def downgrade() -> None:
    _move(0.35, 0.25)
