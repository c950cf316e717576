"""The send ledger: each scheduled message reaches Slack once, whatever happens, even when
its sender dies or times out after Slack took it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.settings import Settings
from bot.slack import outbox
from bot.slack.client import SlackClients
from bot.slack.models import SendStatus, SentMessage
from bot.slack.outbox import STALE_CLAIM, Outgoing, claim, send_once
from tests.support.due_work import wait_until


def clients_for(fake, db, **overrides) -> SlackClients:
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret="s",
        slack_api_url=fake.api_url,
        **overrides,
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
    clock.current = datetime.now(UTC)  # our clock and Slack's agree, as in production
    assert claim(db, message(), clock.now())  # the "crashed" process claimed, never sent
    client = clients_for(fake_slack, db)
    assert send_once(db, client, message(), clock.now()).status == "duplicate"
    clock.advance(seconds=STALE_CLAIM.total_seconds() + 1)
    assert send_once(db, client, message(), clock.now()).status == "sent"
    (looked,) = fake_slack.calls_to("conversations.history")
    assert looked.args["channel"] == "DCARL" and looked.args["include_all_metadata"] in (1, "1")
    (posted,) = fake_slack.calls_to("chat.postMessage")
    assert posted.args["metadata"] == {
        "event_type": "rapport_send",
        "event_payload": {"key": "pulse-prompt:1:UCARL"},
    }


class Died(BaseException):
    """The sending process dies here: nothing after it runs."""


def _dies(*args, **kwargs):
    raise Died


def _ledger_row(db) -> SentMessage:
    with db.transaction() as session:
        return session.scalars(select(SentMessage)).one()


def test_a_message_slack_took_before_its_sender_died_is_recorded_not_resent(
    db, fake_slack, clock, monkeypatch
):
    clock.current = datetime.now(UTC)
    client = clients_for(fake_slack, db)
    with monkeypatch.context() as dying:
        dying.setattr(outbox, "_record", _dies)  # after Slack answered, before the ledger
        with pytest.raises(Died):
            send_once(db, client, message(), clock.now())
    (posted,) = fake_slack.done("chat.postMessage")
    assert _ledger_row(db).status is SendStatus.PENDING
    clock.advance(seconds=STALE_CLAIM.total_seconds() + 1)
    delivery = send_once(db, client, message(), clock.now())
    assert (delivery.status, delivery.channel) == ("sent", "DCARL")
    assert delivery.ts == fake_slack.messages["DCARL"][0]["ts"]
    assert fake_slack.calls_to("chat.postMessage") == [posted]  # not posted again
    row = _ledger_row(db)
    assert (row.status, row.ts, row.sent_channel, row.attempts) == (
        SendStatus.SENT,
        delivery.ts,
        "DCARL",
        2,
    )


def test_a_reply_slack_took_before_a_timeout_is_found_in_its_thread(db, fake_slack, clock):
    clock.current = datetime.now(UTC)
    client = clients_for(fake_slack, db, slack_timeout_seconds=0.3)
    prompt = send_once(db, client, message(), clock.now())
    reply = Outgoing("T0ACME", "pulse-reminder:1:UCARL", "DCARL", "Nudge", thread_ts=prompt.ts)
    fake_slack.slow("chat.postMessage", seconds=0.6)  # posted after the sender gave up
    assert send_once(db, client, reply, clock.now()).status == "retry"
    wait_until(lambda: len(fake_slack.messages["DCARL"]) == 2, "Slack to post the reply")
    clock.advance(minutes=1)  # the next tick
    delivery = send_once(db, client, reply, clock.now())
    assert delivery.status == "sent"
    (looked,) = fake_slack.calls_to("conversations.replies")
    assert looked.args["ts"] == prompt.ts
    assert len(fake_slack.calls_to("chat.postMessage")) == 2  # the prompt, and the reply once
    assert [m["text"] for m in fake_slack.messages["DCARL"]] == ["How is it going?", "Nudge"]


def test_a_claim_is_retried_later_when_slack_cannot_be_searched_now(db, fake_slack, clock):
    clock.current = datetime.now(UTC)
    assert claim(db, message(), clock.now())
    client = clients_for(fake_slack, db)
    clock.advance(seconds=STALE_CLAIM.total_seconds() + 1)
    fake_slack.fail("conversations.history", "internal_error")
    delivery = send_once(db, client, message(), clock.now())
    assert (delivery.status, delivery.error) == ("retry", "internal_error")
    assert fake_slack.calls_to("chat.postMessage") == []
    clock.advance(minutes=1)
    fake_slack.fail("conversations.history", "missing_scope")  # not granted: send anyway
    assert send_once(db, client, message(), clock.now()).status == "sent"
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_transient_failure_after_retries_is_left_for_the_next_tick(db, fake_slack, clock):
    fake_slack.server_error("chat.postMessage", times=10)
    client = clients_for(fake_slack, db)
    assert send_once(db, client, message(), clock.now()).status == "retry"
    fake_slack.clear_faults()
    clock.advance(seconds=1)
    assert send_once(db, client, message(), clock.now() + timedelta(seconds=1)).status == "sent"


def test_a_post_whose_answer_was_lost_is_found_not_posted_again(db, fake_slack, clock):
    clock.current = datetime.now(UTC)
    client = clients_for(fake_slack, db)
    fake_slack.drop_answer("chat.postMessage")  # Slack posts, the connection drops
    assert send_once(db, client, message(), clock.now()).status == "retry"
    clock.advance(minutes=1)  # the next tick looks before it posts
    assert send_once(db, client, message(), clock.now()).status == "sent"
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert [m["text"] for m in fake_slack.messages["DCARL"]] == ["How is it going?"]
    assert len(fake_slack.calls_to("conversations.history")) == 1


def test_outcomes_reads_many_keys_a_query_at_a_time(db, fake_slack, clock, monkeypatch):
    monkeypatch.setattr(outbox, "KEYS_A_QUERY", 2)  # 5 keys: three queries
    client = clients_for(fake_slack, db)
    keys = [f"pulse-prompt:1:U{n}" for n in range(4)]
    for key in keys:
        send_once(db, client, message(key, channel=key.rsplit(":", 1)[1]), clock.now())
    found = outbox.outcomes(db, [*keys, "pulse-prompt:1:UNEVER"])
    assert sorted(found) == keys  # the one never claimed is left out
    assert all(row.status is SendStatus.SENT for row in found.values())
