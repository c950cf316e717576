"""Sending to many workspaces at once: each at its own pace within Slack's per-workspace
limits, none delayed by another that is slow or rate-limited, and on PostgreSQL several
senders sharing the workspaces with every prompt sent once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.core.db import Database, create_db_engine
from bot.pulse.models import PulseRecipient, RecipientStatus
from bot.pulse.rounds import open_round_now
from bot.relationships import domain as rel
from bot.slack import client as client_module
from bot.slack.fan_out import IN_FLIGHT, SENDING_THREADS, WorkspaceFanOut, locks_for
from bot.slack.installations import uninstall
from bot.slack.models import SendStatus, SentMessage
from bot.slack.outbox import STALE_CLAIM
from bot.slack.pacing import (
    OPENS,
    OPENS_PER_SECOND,
    POSTS,
    PROMPTS_PER_SECOND,
    WorkspacePacers,
)
from scheduler.pulse_jobs import PulseTick, run_pulse, run_pulse_sends
from tests.app.test_process_roles import Process, slack_env
from tests.conftest import POSTGRES_URL
from tests.slack.test_exactly_once import active_scheduler
from tests.slack.test_installs import install
from tests.support.due_work import ledger, scheduled_sends, wait_until
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship, run_as_scheduler, scheduler_services
from tests.support.pulse_helpers import prompts, pulse

BETA = "T0BETA"
PEOPLE = ("UALICE", "UCARL", "UPAT", "UPRIYA")  # make_relationship's


def open_rounds(running, *teams: str) -> None:
    """Each workspace installs Rapport, sets up a relationship and opens a pulse round."""
    for serial, team in enumerate(teams):
        install(running, team, team, f"code-{serial}")
        for user in PEOPLE:
            running.fake.add_user(user, team=team)
        make_relationship(running.db, running.clock, f"Rel {team}", team=team)
        assert "open" in pulse(running, "send", team=team).text


def prompts_to(fake, team: str) -> list:
    """The prompts Slack posted in ``team`` (not those it refused)."""
    return [
        call
        for call in prompts(fake)
        if call.token.startswith(f"xoxb-{team}-") and call.fault is None
    ]


def in_a_thread(work, *args) -> None:
    """``work(*args)``, failing the test if it hasn't returned within 30 s (a tick that
    slept through a long Retry-After would hang here)."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work(*args)
        except BaseException as error:  # reported below
            failures.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), f"{work.__name__} didn't return"
    assert failures == []


def test_each_workspace_has_its_own_pacer_for_each_kind_of_call():
    pacers = WorkspacePacers()
    posts = pacers.pacer(TEAM_ID, POSTS)
    assert pacers.pacer(TEAM_ID, POSTS) is posts  # shared by every job of the process
    assert pacers.pacer(BETA, POSTS) is not posts
    assert posts.interval == 1 / PROMPTS_PER_SECOND
    assert pacers.pacer(TEAM_ID, OPENS).interval == 1 / OPENS_PER_SECOND


def test_two_workspaces_are_prompted_at_once_each_at_its_own_pace(multi):
    open_rounds(multi, TEAM_ID, BETA)
    limit = multi.fake.limit_rate("chat.postMessage", per_minute=PROMPTS_PER_SECOND * 60, burst=2)
    multi.fake.slow("chat.postMessage", 3.0, team=TEAM_ID)  # Acme's first post takes 3 s
    in_a_thread(run_pulse, multi.services, WorkspacePacers())  # production pace
    acme, beta = prompts_to(multi.fake, TEAM_ID), prompts_to(multi.fake, BETA)
    assert len(acme) == len(beta) == len(PEOPLE)
    # Acme comes first, yet Beta was prompted in full while Acme's first post still waited
    assert max(call.at for call in beta) < min(call.at for call in acme) + 3.0
    assert limit.limited == 0  # each workspace within its own limit


def test_a_rate_limited_workspace_is_held_back_and_delays_no_other(multi):
    open_rounds(multi, TEAM_ID, BETA)
    multi.fake.rate_limit("chat.postMessage", retry_after=600, times=None, team=TEAM_ID)
    in_a_thread(run_pulse, multi.services, WorkspacePacers.unpaced())
    assert len(prompts_to(multi.fake, BETA)) == len(PEOPLE)
    asked = [c for c in multi.fake.calls_to("chat.postMessage") if c.fault == "ratelimited"]
    # Acme said "wait ten minutes" to the sends already in flight, and was left alone
    assert 1 <= len(asked) <= IN_FLIGHT

    multi.clock.advance(minutes=1)  # the next tick: Acme is still held back
    in_a_thread(run_pulse, multi.services, WorkspacePacers.unpaced())
    assert len(multi.fake.calls_to("chat.postMessage")) == len(PEOPLE) + len(asked)

    multi.fake.clear_faults()
    multi.clock.advance(minutes=10)  # Retry-After has passed
    in_a_thread(run_pulse, multi.services, WorkspacePacers.unpaced())
    assert len(prompts_to(multi.fake, TEAM_ID)) == len(PEOPLE)
    posted = prompts_to(multi.fake, TEAM_ID) + prompts_to(multi.fake, BETA)
    assert Counter(call.args["channel"] for call in posted) == Counter(
        {user: 2 for user in PEOPLE}  # once in each workspace
    )


def test_an_uninstalled_workspace_is_skipped_and_the_others_are_prompted(multi):
    open_rounds(multi, TEAM_ID, BETA)
    assert multi.slack.event({"type": "app_uninstalled"}, team=TEAM_ID).status == 200
    in_a_thread(run_pulse, multi.services, WorkspacePacers.unpaced())
    assert prompts_to(multi.fake, TEAM_ID) == []
    assert len(prompts_to(multi.fake, BETA)) == len(PEOPLE)


def test_a_workspace_uninstalled_by_another_process_is_given_up_once_its_client_is_stale(
    multi, monkeypatch
):
    # long enough that the first tick below finds its client still fresh on a busy machine
    monkeypatch.setattr(client_module, "CLIENT_FRESH_SECONDS", 2.0)
    open_rounds(multi, TEAM_ID)
    assert multi.services.slack.for_team(TEAM_ID) is not None  # fresh in this process
    # the web process hears of the uninstall; Slack refuses the workspace's token from then on
    uninstall(multi.db, multi.services.installations, TEAM_ID, multi.clock.now())
    multi.fake.fail("chat.postMessage", "token_revoked", times=None, team=TEAM_ID)
    in_a_thread(run_pulse, multi.services, WorkspacePacers.unpaced())
    refused = [c for c in multi.fake.calls_to("chat.postMessage") if c.fault]
    assert 1 <= len(refused) <= IN_FLIGHT  # those in flight before it was held back
    with multi.db.transaction() as session:  # refused, not failed: kept for a reinstall
        statuses = set(session.scalars(select(PulseRecipient.status)))
        claims = set(session.scalars(select(SentMessage.status)))
    assert statuses <= {RecipientStatus.PENDING} and claims == {SendStatus.PENDING}

    time.sleep(2.1)  # the client is stale: the next tick asks the database, and stops there
    multi.clock.advance(minutes=2)  # and the workspace is held back no more
    in_a_thread(run_pulse, multi.services, WorkspacePacers.unpaced())
    assert len(multi.fake.calls_to("chat.postMessage")) == len(refused)


WORKSPACES = 8


@pytest.mark.skipif(not POSTGRES_URL, reason="several senders need PostgreSQL")
def test_two_senders_with_their_own_engines_split_the_workspaces_and_send_each_once(
    rapport, database_url
):
    with rapport.db.transaction() as session:
        for n in range(WORKSPACES):
            team = f"T0WS{n:03d}"
            found = make_relationship(rapport.db, rapport.clock, f"Rel {n}", team=team)
            relationship = rel.get_relationship(session, team, found)
            open_round_now(session, relationship, "UALICE", rapport.clock.now())
    rapport.fake.delay = 0.02  # so both senders are at work at once
    ticks: list[PulseTick] = []
    start = threading.Barrier(2)

    def sender(job) -> None:
        db = Database(create_db_engine(database_url))  # as another process would
        services = scheduler_services(
            SimpleNamespace(fake=rapport.fake, db=db, clock=rapport.clock)
        )
        services.fan_out.close()  # fewer threads than workspaces, as with many workspaces
        services = replace(
            services, fan_out=WorkspaceFanOut(rapport.clock, locks_for(db.engine), 2)
        )
        try:
            start.wait()
            ticks.append(job(services, WorkspacePacers.unpaced()))
        finally:
            services.close()
            db.engine.dispose()

    racers = [threading.Thread(target=sender, args=(job,)) for job in (run_pulse, run_pulse_sends)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=60)
    sent = [tick.prompts.get("sent", 0) for tick in ticks]
    assert sum(sent) == WORKSPACES * len(PEOPLE) and all(sent)  # both sent a share
    assert len(prompts(rapport.fake)) == WORKSPACES * len(PEOPLE)
    assert ledger(rapport.db) == Counter(sent=WORKSPACES * len(PEOPLE))


def seed_workspaces(running, count: int) -> Counter[str]:
    """``count`` workspaces, each with a relationship of four people of its own and a round
    open; the prompts due, named as ``scheduled_sends`` names them."""
    expected: Counter[str] = Counter()
    with running.db.transaction() as session:
        for n in range(count):
            team, people = f"T0WS{n:03d}", [f"U{side}{n:04d}" for side in "ACPR"]
            found = make_relationship(
                running.db,
                running.clock,
                f"Rel {n}",
                team=team,
                creator=people[0],
                client_members=(people[1],),
                provider_owners=(people[2],),
                provider_members=(people[3],),
            )
            relationship = rel.get_relationship(session, team, found)
            open_round_now(session, relationship, people[0], running.clock.now())
            expected.update(f"prompt:{user}" for user in people)
    return expected


@pytest.mark.skipif(not POSTGRES_URL, reason="several senders need PostgreSQL")
def test_a_standby_helps_send_and_the_active_scheduler_killed_mid_send_loses_nothing(
    tmp_path, rapport, database_url
):
    fake, db = rapport.fake, rapport.db
    rapport.clock.current = datetime.now(UTC)  # the processes run on the system clock
    expected = seed_workspaces(rapport, 80)
    env = slack_env(fake, database_url)
    total = sum(expected.values())
    arrived, go, victim, killed = [], threading.Event(), [], []

    def kill_half_way(method: str) -> None:
        """Posts wait until both processes are sending; half-way, the active one dies."""
        if method != "chat.postMessage":
            return
        arrived.append(method)
        go.wait(timeout=60)
        if killed or len(fake.calls) < total / 2:
            return
        killed.append(victim[0])
        victim[0].popen.kill()
        victim[0].popen.wait()

    fake.before_answer = kill_half_way
    first, second = Process("scheduler", tmp_path, **env), Process("scheduler", tmp_path, **env)
    try:
        leader = active_scheduler(first, second)
        standby = second if leader is first else first
        victim.append(leader)
        # posts wait until both processes send: more than one process's threads can have in
        # flight at once (each thread a workspace, up to IN_FLIGHT of its posts)
        wait_until(lambda: len(arrived) > SENDING_THREADS * IN_FLIGHT, "both processes sending")
        go.set()
        standby.wait_for("now the active scheduler", timeout=60)
        wait_until(lambda: sum(ledger(db).values()) == total, "every prompt claimed", 60)
        assert standby.stop() == 0
    finally:
        go.set()
        first.popen.kill()
        second.popen.kill()
    assert killed
    lines = standby.seen + list(standby.lines.queue)
    assert any("now the active scheduler" in line for line in lines)
    # it sent as a standby too (that tick may end before its takeover or after: it is
    # logged once all it took is sent)
    assert any("standby pulse tick" in line and "'sent'" in line for line in lines)
    # ten minutes on, a tick takes over the claims the killed scheduler left in flight
    rapport.clock.current = datetime.now(UTC) + STALE_CLAIM + timedelta(minutes=1)
    run_as_scheduler(rapport, run_pulse, WorkspacePacers.unpaced())
    assert scheduled_sends(fake) == expected
    assert ledger(db) == Counter(sent=sum(expected.values()))
