"""PostgreSQL restarting under traffic: every request still gets a polite answer, nothing is
half-written, and the app and the scheduler recover on their own once it is back.

The app reaches PostgreSQL through a TCP proxy (``tests/support/tcp_proxy.py``) that drops every
connection and refuses new ones, as a server restart looks from the app's side.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from bot.core.db import Database, create_db_engine
from bot.drift.models import DriftSignal
from bot.relationships.models import Member, Relationship
from bot.services import DATABASE_DOWN
from scheduler.leader import LeaderElection, PostgresAdvisoryLock
from scheduler.runner import create_scheduler
from tests.conftest import POSTGRES_URL
from tests.relationships.test_setup import setup_values
from tests.support.due_work import scheduled_sends, seed_due_work, wait_until
from tests.support.helpers import make_relationship, scheduler_services
from tests.support.pulse_helpers import pulse
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="a database server to restart")


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def db(database_url: str, proxy: TcpProxy) -> Iterator[Database]:
    """The app's database (this overrides conftest's), reached through the proxy."""
    url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    engine = create_db_engine(url.render_as_string(hide_password=False))
    yield Database(engine)
    engine.dispose()


@pytest.fixture
def direct_db(database_url: str) -> Iterator[Database]:
    """The same database, not through the proxy: to look at it while the app can't."""
    engine = create_db_engine(database_url)
    yield Database(engine)
    engine.dispose()


def health(rapport) -> int:
    try:
        with urllib.request.urlopen(f"{rapport.url}/healthz", timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def requests(rapport) -> list:
    """One of each kind of request Slack sends, each needing the database."""
    slack = rapport.slack
    message = {"type": "message", "channel": "CSHARED", "user": "UCARL", "text": "Per clause 4.2"}
    message["ts"] = "1700000000.000200"
    return [
        lambda: slack.command("show"),
        lambda: pulse(rapport, "results"),
        lambda: slack.command("list", command="/checkin"),
        lambda: slack.block_action("pulse_answer_3", value="1:0", user="UCARL"),
        lambda: slack.event(message),
        lambda: slack.view_submission("relationship_setup", setup_values(name="Beta Ops")),
    ]


def polite(response) -> bool:
    """HTTP 200, and any text is either a real answer or the "try again" one; or, for an
    event, 503 with nothing in it, so that Slack delivers it again."""
    if response.status == 503:
        return response.body == ""
    return response.status == 200 and "Traceback" not in response.body


def test_requests_while_the_database_restarts_get_a_polite_answer_then_work_again(rapport, proxy):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    assert "Acme ⇄ Stellar" in rapport.slack.command("show").text

    proxy.cut()
    answers = [send() for send in requests(rapport)]
    assert all(polite(answer) for answer in answers)
    show, results, checkins, _click, event, setup = answers
    assert show.text == results.text == checkins.text == DATABASE_DOWN
    assert event.status == 503  # Slack will deliver it again
    rapport.fake.wait_for("response_url", lambda call: call.args.get("text") == DATABASE_DOWN)
    pushed = setup.json()
    assert pushed["response_action"] == "push"  # the filled-in form stays behind it
    assert DATABASE_DOWN in json.dumps(pushed["view"])
    assert health(rapport) == 503

    proxy.restore()  # no restart of the app: pre-ping replaces the dead connections
    assert health(rapport) == 200
    assert "Acme ⇄ Stellar" in rapport.slack.command("show").text
    saved = rapport.slack.view_submission("relationship_setup", setup_values(name="Beta Ops"))
    assert saved.body == ""  # the modal closes


def test_a_message_event_lost_to_the_outage_is_stored_once_when_slack_delivers_it_again(
    rapport, proxy, direct_db
):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    message = {"type": "message", "channel": "CSHARED", "user": "UCARL", "text": "Per clause 4.2"}
    message["ts"] = "1700000000.000300"
    proxy.cut()
    assert rapport.slack.event(message, event_id="EvOUTAGE1").status == 503
    proxy.restore()
    for retry in (1, 2):  # Slack's redeliveries, the second one needless
        assert rapport.slack.event(message, event_id="EvOUTAGE1", retry_num=retry).status == 200
    with direct_db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(DriftSignal)) == 1


def test_a_cut_in_the_middle_of_traffic_never_gives_an_error(rapport, proxy):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    answers: list = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            answers.extend(send() for send in requests(rapport)[:5])

    senders = [threading.Thread(target=traffic) for _ in range(4)]
    for sender in senders:
        sender.start()
    try:
        wait_until(lambda: len(answers) > 20, "traffic before the cut")
        proxy.cut()
        cut_at = len(answers)
        wait_until(lambda: len(answers) > cut_at + 20, "traffic during the cut")
        proxy.restore()
        restored_at = len(answers)
        wait_until(lambda: len(answers) > restored_at + 40, "traffic after the restore")
    finally:
        stop.set()
        for sender in senders:
            sender.join(timeout=30)
    assert all(polite(answer) for answer in answers)
    texts = {answer.text for answer in answers if answer.body.startswith("{")}
    assert DATABASE_DOWN in texts
    last_shows = [a.text for a in answers[-20:] if "Acme ⇄ Stellar" in a.text]
    assert last_shows, "requests succeed again once the database is back"


def test_setup_cut_off_mid_transaction_leaves_no_half_written_relationship(
    rapport, proxy, direct_db
):
    statements: list[str] = []

    def cut_before_members(_conn, _cursor, statement: str, *_args) -> None:
        statements.append(statement.split("(")[0].strip())
        if statement.startswith("INSERT INTO members"):
            proxy.cut()  # the relationship row is written, its people are not yet

    event.listen(rapport.db.engine, "before_cursor_execute", cut_before_members)
    values = setup_values(client_members=["UCARL"], provider_members=["UPRIYA"])
    refused = rapport.slack.view_submission("relationship_setup", values)
    event.remove(rapport.db.engine, "before_cursor_execute", cut_before_members)
    assert "INSERT INTO relationships" in statements  # the cut came mid-transaction
    assert refused.status == 200 and DATABASE_DOWN in refused.body
    with direct_db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Relationship)) == 0
        assert session.scalar(select(func.count()).select_from(Member)) == 0

    proxy.restore()
    assert rapport.slack.view_submission("relationship_setup", values).body == ""
    with direct_db.transaction() as session:
        members = set(session.scalars(select(Member.user_id)))
    assert members == {"UALICE", "UCARL", "UPAT", "UPRIYA"}


def test_the_scheduler_steps_down_while_the_database_is_gone_and_resumes_after(
    rapport, proxy, direct_db
):
    services = scheduler_services(rapport)  # through the proxy, like the app
    election = LeaderElection(
        PostgresAdvisoryLock(rapport.db.engine),
        lambda: create_scheduler(services),
        poll_seconds=0.1,
    )
    runner = threading.Thread(target=election.run)
    runner.start()
    try:
        wait_until(lambda: election.leading, "the scheduler to start")
        proxy.cut()
        wait_until(lambda: not election.leading, "the scheduler to step down")
        work = seed_due_work(direct_db, rapport.clock, 6, rapport.fake)  # due meanwhile
        proxy.restore()
        wait_until(lambda: election.leading, "the scheduler to take over again")
        wait_until(lambda: scheduled_sends(rapport.fake) == work.expected(), "the catch-up")
    finally:
        election.stop()
        runner.join(timeout=30)
        services.close()
