"""The send ledger: each scheduled message reaches Slack once, whatever happens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import SendStatus, SentMessage
from bot.outbox import STALE_CLAIM, Outgoing, claim, send_once
from bot.settings import Settings
from bot.slack_client import SlackClients


def clients_for(fake, db) -> SlackClients:
    settings = Settings(
        slack_bot_token="xoxb-test", slack_signing_secret="s", slack_api_url=fake.api_url
    )
    return SlackClients(settings, db)


def message(key: str = "pulse-prompt:1:UCARL", channel: str = "UCARL") -> Outgoing:
    return Outgoing(team_id="T0ACME", key=key, channel=channel, text="How is it going?")


def test_a_key_is_sent_once_however_often_it_is_tried(db, fake_slack, clock):
    client = clients_for(fake_slack, db)
    first = send_once(db, client, message(), clock.now())
    again = send_once(db, client, message(), clock.now())
    assert first.status == "sent" and first.ts and first.channel == "DCARL"
    assert again.status == "duplicate"
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_rate_limited_send_is_retried_by_the_client_after_retry_after(db, fake_slack, clock):
    fake_slack.rate_limit("chat.postMessage", retry_after=1)
    delivery = send_once(db, clients_for(fake_slack, db), message(), clock.now())
    calls = fake_slack.calls_to("chat.postMessage")
    assert delivery.status == "sent"
    assert len(calls) == 2
    assert calls[1].at - calls[0].at >= 0.9  # honoured Retry-After


def test_server_errors_are_retried(db, fake_slack, clock):
    fake_slack.server_error("chat.postMessage", status=503)
    assert send_once(db, clients_for(fake_slack, db), message(), clock.now()).status == "sent"
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_permanent_error_is_recorded_and_not_retried(db, fake_slack, clock):
    fake_slack.fail("chat.postMessage", "account_inactive")
    client = clients_for(fake_slack, db)
    delivery = send_once(db, client, message(), clock.now())
    assert (delivery.status, delivery.error) == ("failed", "account_inactive")
    clock.advance(hours=1)
    assert send_once(db, client, message(), clock.now()).status == "duplicate"
    with db.transaction() as session:
        row = session.scalars(select(SentMessage)).one()
    assert (row.status, row.error) == (SendStatus.FAILED, "account_inactive")
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_a_claim_abandoned_by_a_crashed_sender_is_taken_over_once_stale(db, fake_slack, clock):
    assert claim(db, message(), clock.now())  # the "crashed" process claimed, never sent
    client = clients_for(fake_slack, db)
    assert send_once(db, client, message(), clock.now()).status == "duplicate"
    clock.advance(seconds=STALE_CLAIM.total_seconds() + 1)
    assert send_once(db, client, message(), clock.now()).status == "sent"
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_transient_failure_after_retries_is_left_for_the_next_tick(db, fake_slack, clock):
    fake_slack.server_error("chat.postMessage", times=10)
    client = clients_for(fake_slack, db)
    assert send_once(db, client, message(), clock.now()).status == "retry"
    fake_slack.clear_faults()
    clock.advance(seconds=1)
    assert send_once(db, client, message(), clock.now() + timedelta(seconds=1)).status == "sent"
