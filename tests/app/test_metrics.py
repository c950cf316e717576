"""``GET /metrics``: what the bot is doing, in Prometheus' text format."""

from __future__ import annotations

from datetime import timedelta

from bot.core.settings import Settings
from bot.slack.client import SlackClients
from bot.slack.outbox import Outgoing, claim, send_once
from scheduler.leader import LeaderElection
from tests.app.test_cli import free_port, migrated_sqlite
from tests.app.test_process_roles import FakeLock, FakeScheduler, Process, slack_env
from tests.support.drift_helpers import say
from tests.support.due_work import wait_until
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship
from tests.support.metrics import METRICS, scrape, value


def test_metrics_are_served_in_prometheus_text_format_with_every_metric_named(rapport):
    content_type, samples = scrape(rapport.url)
    assert content_type.startswith("text/plain; version=0.0.4")
    names = {name for name, _ in samples}
    for metric in METRICS:
        assert any(name.startswith(metric) for name in names), metric


def test_each_slack_request_is_timed_by_kind_until_its_ack(rapport):
    _, before = scrape(rapport.url)
    for _ in range(3):
        assert rapport.slack.command("help").status == 200
    rapport.slack.block_action("show_help")
    _, after = scrape(rapport.url)

    def count(kind: str, samples: dict) -> float:
        return value(samples, "rapport_slack_ack_seconds_count", kind=kind)

    assert count("command:/rapport", after) - count("command:/rapport", before) == 3
    assert count("block_actions", after) - count("block_actions", before) == 1
    slack = "rapport_http_request_seconds_count"
    assert (
        value(after, slack, path="/slack/events") - value(before, slack, path="/slack/events") == 4
    )
    assert value(after, slack, path="/metrics") - value(before, slack, path="/metrics") == 1


def test_slack_calls_are_counted_by_method_and_outcome(rapport):
    _, before = scrape(rapport.url)

    def calls(outcome: str) -> float:
        _, now = scrape(rapport.url)
        counted = value(now, "rapport_slack_calls_total", method="views.open", outcome=outcome)
        return counted - value(
            before, "rapport_slack_calls_total", method="views.open", outcome=outcome
        )

    rapport.fake.rate_limit("views.open", retry_after=1)  # slack-sdk waits and tries again
    rapport.slack.command("setup")
    wait_until(lambda: calls("ok") == 1, "the retried views.open to be counted")
    assert calls("ratelimited") == 1
    rapport.fake.fail("views.open", "expired_trigger_id")
    rapport.slack.command("setup")
    wait_until(lambda: calls("error") == 1, "the refused views.open to be counted")
    assert (calls("ok"), calls("ratelimited")) == (1, 1)


def test_scheduled_sends_are_counted_by_kind_and_outcome_and_the_backlog_read_from_the_ledger(
    rapport, fake_slack
):
    slack = SlackClients(
        Settings(
            slack_bot_token="xoxb-test-token",
            slack_signing_secret="s",
            slack_api_url=fake_slack.api_url,
            database_url="",
        ),
        rapport.db,
    )
    now = rapport.clock.now()
    _, before = scrape(rapport.url)
    prompt = Outgoing(TEAM_ID, "pulse-prompt:7:UBOB", "UBOB", "How is it going?")
    assert send_once(rapport.db, slack, prompt, now).status == "sent"
    assert send_once(rapport.db, slack, prompt, now).status == "duplicate"
    fake_slack.refuse("UGONE", "user_not_found")
    gone = Outgoing(TEAM_ID, "pulse-prompt:7:UGONE", "UGONE", "How is it going?")
    assert send_once(rapport.db, slack, gone, now).status == "failed"
    for number in range(2):  # claimed by a sender that then stopped: not yet sent
        claim(rapport.db, Outgoing(TEAM_ID, f"drift-alert:{number}:C1", "C1", "…"), now)
    _, after = scrape(rapport.url)

    def sends(outcome: str, samples: dict) -> float:
        labels = {"kind": "pulse-prompt", "outcome": outcome}
        return value(samples, "rapport_scheduled_sends_total", **labels)

    for outcome in ("sent", "duplicate", "failed"):
        assert sends(outcome, after) - sends(outcome, before) == 1, outcome
    assert value(after, "rapport_ledger_backlog") - value(before, "rapport_ledger_backlog") == 2
    rapport.clock.advance(minutes=1)  # the backlog stays until the claims are sent
    assert value(scrape(rapport.url)[1], "rapport_ledger_backlog") == value(
        after, "rapport_ledger_backlog"
    )


def test_drift_scoring_is_timed_per_message(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    _, before = scrape(rapport.url)
    for text in ("morning! coffee later?", "As per clause 7.2 this is out of scope."):
        say(rapport, "UBOB", text)
    _, after = scrape(rapport.url)
    scored = "rapport_drift_scoring_seconds_count"
    assert value(after, scored) - value(before, scored) == 2
    assert value(after, "rapport_drift_scoring_seconds_sum") > value(
        before, "rapport_drift_scoring_seconds_sum"
    )


def test_the_scheduler_leadership_gauge_follows_the_lock(rapport):
    lock = FakeLock(free=True)
    election = LeaderElection(lock, FakeScheduler, poll_seconds=timedelta(0).total_seconds())
    election.step()
    assert value(scrape(rapport.url)[1], "rapport_scheduler_leading") == 1
    lock.mine = False  # lost with the database connection
    election.step()
    assert value(scrape(rapport.url)[1], "rapport_scheduler_leading") == 0


def test_a_scheduler_alone_serves_its_metrics_on_metrics_port(tmp_path, fake_slack):
    url = migrated_sqlite(tmp_path)
    port = free_port()
    scheduler = Process("scheduler", tmp_path, METRICS_PORT=str(port), **slack_env(fake_slack, url))
    try:
        scheduler.wait_for(f"scheduler metrics on port {port}")
        _, samples = scrape(f"http://127.0.0.1:{port}")
        assert value(samples, "rapport_scheduler_leading") == 1
        assert value(samples, "rapport_ledger_backlog") == 0
    finally:
        assert scheduler.stop() == 0
