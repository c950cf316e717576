"""Publishing someone's Home to Slack: when they open it, and again when what it shows
changes (``scheduler.home_jobs``).

The cards are read in one read-only session; the owners' index charts are then uploaded,
or reused while their figures stay (``bot.health.chart_uploads``), and the view published
with ``views.publish``. A chart that can't be uploaded is left out; a chart whose file
Slack lost is uploaded again and the view published once more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from slack_sdk import WebClient

from bot.core.db import Database
from bot.health.chart_uploads import ChartBlock, send_with_charts
from bot.health.charts import Chart
from bot.home import published
from bot.home.blocks import cards_that_fit, home_view
from bot.home.dashboard import Home, home
from bot.home.stamps import person_stamps
from bot.services import Services

Publish = Callable[[list[ChartBlock]], Any]


def show_home(
    services: Services,
    client: WebClient,
    team_id: str,
    user_id: str,
    stale: published.StaleHome | None = None,
) -> bool:
    """Publish ``user_id``'s Home as it is now and store its stamp. With ``stale`` (a
    refresh), only if no other process claimed it first, and the stamp is forgotten if Slack
    refuses the view, so the next refresh tries again; returns whether it was published."""
    now = services.clock.now()
    with services.db.read() as session:
        stamp = person_stamps(session, [(team_id, user_id)], now)[(team_id, user_id)]
        found = home(session, team_id, user_id, now)
    if stale is not None:
        with services.db.transaction() as session:
            if not published.claim(session, stale, stamp, now):
                return False
    try:
        publish_view(services.db, client, team_id, user_id, found, now)
    except Exception:
        if stale is not None:
            with services.db.transaction() as session:
                published.forget_stamp(session, team_id, user_id, stamp)
        raise
    if stale is None:  # written after: opening Home never waits behind a writer
        with services.db.transaction() as session:
            published.opened(session, team_id, user_id, stamp, now)
    return True


def publish_view(
    db: Database, client: WebClient, team_id: str, user_id: str, found: Home, now: datetime
) -> None:
    """``views.publish`` the Home of ``found``, with the index chart of each owner's card
    that fits."""
    charted = [
        (card.relationship_id, card.report.charts.index)
        for card in cards_that_fit(found)
        if card.is_owner and card.report.index.value is not None
    ]

    def publish(shown: list[ChartBlock]) -> Any:
        charts = {
            relationship_id: block
            for (relationship_id, _), block in zip(charted, shown, strict=True)
        }
        return client.views_publish(user_id=user_id, view=home_view(found, charts))

    _with_charts(db, client, team_id, charted, now, publish)


def _with_charts(
    db: Database,
    client: WebClient,
    team_id: str,
    charts: Sequence[tuple[int, Chart]],
    now: datetime,
    send: Publish,
) -> Any:
    """``send`` with one chart block per relationship's chart, each through
    ``send_with_charts`` (nested, one relationship at a time), so a file Slack lost is
    uploaded again whichever relationship it belongs to."""
    if not charts:
        return send([])
    (relationship_id, chart), rest = charts[0], charts[1:]
    return send_with_charts(
        db,
        client,
        team_id,
        relationship_id,
        [chart],
        now,
        lambda first: _with_charts(db, client, team_id, rest, now, lambda more: send(first + more)),
    )
