"""Every few minutes, owners hear once about messages Slack refused for good.

``bot.delivery.failures`` batches the refusals into notices; this job sends each notice
through the send ledger (key ``delivery-notice:{notice}:{recipient}``) to the alerts
channel, or to the owners by DM when there is none or it is the channel that failed.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.core.db import Database
from bot.delivery.blocks import failure_message
from bot.delivery.failures import (
    FailureNotice,
    batch_failures,
    is_person,
    mark_notified,
    pending_notices,
)
from bot.services import Services
from bot.slack import message_keys, outbox
from bot.slack.client import SlackClients
from bot.slack.models import SendStatus
from bot.slack.outbox import Outgoing, send_once
from scheduler.jobs import Job

logger = logging.getLogger(__name__)

REPORT_EVERY_SECONDS = 300


def report_delivery_failures(services: Services) -> int:
    """Batch new refusals and send every notice not yet delivered; returns notices done."""
    db, now = services.db, services.clock.now()
    with db.transaction() as session:
        batch_failures(session, now)
        notices = pending_notices(session)
    done = 0
    for notice in notices:
        if send_notice(db, services.slack, notice, now):
            with db.transaction() as session:
                mark_notified(session, notice.notice_id, now)
            done += 1
    if done:
        logger.info("delivery failures: told owners in %d notice(s)", done)
    return done


def send_notice(db: Database, slack: SlackClients, notice: FailureNotice, now: datetime) -> bool:
    """Post to the recipients, then DM the owners if the alerts channel refused the notice
    as well; False when Slack should be tried again next time."""
    text, blocks = failure_message(notice)

    def post(recipient: str) -> outbox.Delivery:
        # no relationship_id: a notice that can't be delivered is never itself reported
        key = message_keys.delivery_notice(notice.notice_id, recipient)
        message = Outgoing(notice.team_of(recipient), key, recipient, text, blocks)
        return send_once(db, slack, message, now)

    deliveries = [post(recipient) for recipient in notice.recipients]
    if any(_refused(db, notice.notice_id, r) for r in notice.recipients if not is_person(r)):
        deliveries += [post(owner) for owner in notice.owners]
    if all(delivery.status == "failed" for delivery in deliveries):
        logger.warning("delivery notice %s reached none of the owners", notice.notice_id)
    return all(delivery.status != "retry" for delivery in deliveries)


def _refused(db: Database, notice_id: int, recipient: str) -> bool:
    """Whether Slack refused this notice to ``recipient``, now or before a crash."""
    row = outbox.sent(db, message_keys.delivery_notice(notice_id, recipient))
    return row is not None and row.status is SendStatus.FAILED


DELIVERY_JOBS = [Job("delivery-failures", REPORT_EVERY_SECONDS, report_delivery_failures)]
