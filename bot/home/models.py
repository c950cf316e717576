"""Who has opened App Home, and what their Home showed when it was last published.

``stamp`` sums up everything the person's Home shows (``bot.home.stamps``): when it no
longer matches, their Home is published again. Unique per person, so two processes never
keep two rows for one Home.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.models import Base, UTCDateTime


class HomeView(Base):
    __tablename__ = "home_views"
    __table_args__ = (UniqueConstraint("team_id", "user_id", name="uq_home_view_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    stamp: Mapped[str] = mapped_column(String(64))  # of what was published; "" to publish again
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
