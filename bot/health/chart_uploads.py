"""Showing health charts in Slack: each uploaded once (``bot.slack.files.upload_picture``),
reused while its figures don't change, and put in an ``image`` block with its alt text.

A chart whose upload fails gives ``None`` instead of a block, and the caller shows its
figures in text (``chart.alt_text()``, or its own words). For example, App Home::

    charts = relationship_charts(session, index)  # bot.health.chart_series
    send_with_charts(
        db, client, team_id, relationship_id, charts.all(), now,
        lambda shown: client.views_publish(user_id=user, view=home_view(shown)),
    )

``send_with_charts`` also copes with a chart's file deleted from Slack since it was
uploaded: when Slack refuses the blocks for it (``names_missing_file``), the charts' files
are checked, lost ones uploaded again, and the message sent once more. A reply through a
response URL (``respond_with_chart``) is made again without the chart instead.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookResponse

from bot.core.db import Database
from bot.health.charts import Chart, chart_picture
from bot.slack.blocks import picture
from bot.slack.files import (
    RECHECK_AFTER,
    forget_file,
    names_missing_file,
    refused_blocks,
    upload_picture,
)

Sent = TypeVar("Sent")
# Views asking at once for the same chart take turns, so the first draws and uploads it and
# the others reuse its file rather than each drawing it again (striped: bounded, and charts
# of different relationships rarely wait on each other).
_UPLOADING = tuple(threading.Lock() for _ in range(64))
ChartBlock = dict[str, Any] | None  # an image block, or None: show the figures in text


def chart_block(
    db: Database,
    client: WebClient,
    team_id: str,
    relationship_id: int,
    chart: Chart,
    now: datetime,
    recheck_after: timedelta = RECHECK_AFTER,
) -> ChartBlock:
    """The image block showing ``chart`` (uploaded now, or the file uploaded before for the
    same figures), or None when it couldn't be uploaded. ``recheck_after=timedelta(0)``
    asks Slack whether the file is still there."""
    picture_of = chart_picture(chart, relationship_id)
    with _UPLOADING[zlib.crc32(f"{team_id}:{picture_of.purpose}".encode()) % len(_UPLOADING)]:
        upload = upload_picture(db, client, team_id, picture_of, now, recheck_after)
    if upload.file_id is None:
        return None
    return picture(upload.file_id, chart.alt_text(), chart.title)


def send_with_charts(
    db: Database,
    client: WebClient,
    team_id: str,
    relationship_id: int,
    charts: Sequence[Chart],
    now: datetime,
    send: Callable[[list[ChartBlock]], Sent],
) -> Sent:
    """``send(blocks)``, one ``chart_block`` per chart in order, and what it returns.

    If Slack refuses them because a file is gone, every chart's file is checked with Slack
    (a lost one is uploaded again) and ``send`` called again; refused once more, it is sent
    with no picture at all (every block None). Other Slack errors are ``send``'s own and
    raised as they are.
    """

    for recheck_after in (RECHECK_AFTER, timedelta(0)):  # the second time, ask Slack
        shown = [
            chart_block(db, client, team_id, relationship_id, chart, now, recheck_after)
            for chart in charts
        ]
        try:
            return send(shown)
        except SlackApiError as error:
            if not names_missing_file(error):
                raise
    return send([None] * len(charts))


def respond_with_chart(
    db: Database,
    team_id: str,
    chart: ChartBlock,
    respond: Callable[[ChartBlock], WebhookResponse],
) -> WebhookResponse:
    """``respond(chart)``, a reply through a response URL showing ``chart`` (a
    ``chart_block``), and Slack's answer. Slack refuses the reply when the chart's file is
    gone without saying which block it refused, so the file is taken as gone: forgotten, to
    be uploaded again next time, and the reply made once more without it."""
    answer = respond(chart)
    if chart is None or not refused_blocks(answer):
        return answer
    forget_file(db, team_id, chart["slack_file"]["id"])
    return respond(None)
