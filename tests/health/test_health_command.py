"""``/rapport health`` end to end: signed commands and clicks against the fake Slack, with the
figures made the way people make them (pulse answers clicked, messages posted)."""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import Future
from urllib.parse import urlsplit

import handlers.health as health_handlers
from bot.core import single_flight
from bot.health.recently_shown import FRESH_FOR
from tests.support.health_helpers import (
    buttons,
    chatter,
    health,
    health_relationship,
    pulse_round,
    shown,
    snapshots_stored,
)
from tests.support.helpers import make_relationship
from tests.support.slack_requests import Response

EVERYONE_ANSWERS = {"UALICE": 4, "UC1": 3, "UC2": 4, "UC3": 3, "UPAT": 5, "UP1": 4, "UP2": 4}


def _figure(text: str, pattern: str) -> int:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in {text!r}"
    return int(match.group(1))


def test_health_of_a_new_relationship_says_what_is_missing_and_offers_a_first_pulse(rapport):
    health_relationship(rapport, channels=())
    owner = health(rapport)
    assert "*Acme ⇄ Stellar* has no health index yet: no pulse round has closed yet; no " in (
        shown(owner)
    )
    assert "no check-ins yet; intros are off; no channel is watched yet" in shown(owner)
    assert buttons(owner) == [("Send a pulse now", "pulse_send_now", "1")]
    member = health(rapport, user="UC1")
    assert "Ask an owner to send a pulse" in shown(member)
    assert buttons(member) == [("Give feedback now", "pulse_give_feedback", "1")]


def test_owners_see_every_component_and_members_the_pillars(rapport):
    health_relationship(rapport)
    pulse_round(rapport, EVERYONE_ANSWERS)
    chatter(rapport, formal=3, messages=15)
    owner = shown(health(rapport))
    index = _figure(owner, r"\*Acme ⇄ Stellar\*: \*(\d+)\*/100 · \*healthy\*")
    assert "Client pulse: 3.5 of 5 → 63 × 21% = *13.3* points" in owner
    assert "Provider response rate: 75% (3 of 4) → 94" in owner
    assert "Formal share: 20% of 15 messages → 71" in owner
    assert "How it's computed: `/rapport health formula`" in owner
    assert "front-line–manager gap, as no side has front-line and manager groups" in owner
    member = shown(health(rapport, user="UP1"))
    assert _figure(member, r"\*Acme ⇄ Stellar\*: \*(\d+)\*/100") == index
    assert "*Pulse*: *76*/100 · client pulse 3.5 of 5 · provider pulse 4.3 of 5" in member
    assert "*Tone*: *81*/100 · formal share 20% of 15 messages" in member
    assert "points" not in member and "front-line" not in member
    assert "/rapport health formula" not in member


def test_components_without_data_are_left_out_and_the_rest_reweighted(rapport):
    health_relationship(rapport, channels=())
    pulse_round(rapport, EVERYONE_ANSWERS)
    owner = shown(health(rapport))
    index = _figure(owner, r"\*Acme ⇄ Stellar\*: \*(\d+)\*/100")
    assert index == _figure(owner, r"\*Pulse\*: \*(\d+)\*/100")  # the only pillar counted
    assert "*Check-ins*: not counted" in owner and "*Tone*: not counted" in owner
    assert "Client pulse: 3.5 of 5 → 63 × 34% = *21.3* points" in owner  # 14 of 41 points
    assert "check-in adherence, open lapses, as no check-ins yet" in owner
    assert "formal share, unanswered requests, one-way traffic, formal trend, as no " in owner
    assert "The rest share their weight: 41 of the formula's 100 points have data." in owner


def test_a_side_below_the_minimum_group_never_counts_nor_can_be_worked_out(rapport):
    """Two relationships alike but for what their hidden client side answered: every
    figure of the reply, for owners and members, is the same."""
    provider = {"UPAT": 4, "UP1": 3, "UP2": 5}
    for name, hidden in (("Acme ⇄ Stellar", 1), ("Beta ⇄ Stellar", 5)):
        health_relationship(rapport, name, channels=())
        pulse_round(rapport, {"UC1": hidden, "UC2": hidden} | provider, name=name.split()[0])
    for user in ("UALICE", "UC3"):
        acme = shown(health(rapport, "Acme", user=user))
        beta = shown(health(rapport, "Beta", user=user))
        assert acme == beta.replace("Beta", "Acme")
        assert "fewer than 3 client answers in the last round (hidden" in acme
        assert "client pulse" not in acme.split("Not counted")[0].lower()
        assert "1.0" not in acme and "5.0" not in beta
    owner = shown(health(rapport, "Acme"))
    assert "Client–provider gap" not in owner.split("Not counted")[0]
    assert "client response rate 50% (2 of 4)" in shown(health(rapport, "Acme", user="UC3"))


def test_one_side_without_members_is_said_and_its_components_left_out(rapport):
    make_relationship(
        rapport.db,
        rapport.clock,
        client_members=("UC1", "UC2", "UC3"),
        provider_members=(),
        channels=("CSHARED",),
    )
    rapport.slack.command("forget-me", user="UPAT")
    rapport.slack.block_action("forget_me_confirm", value="UPAT", user="UPAT")
    rapport.fake.wait_for("response_url", lambda c: "removed you from" in c.args.get("text", ""))
    pulse_round(rapport, {"UALICE": 4, "UC1": 4, "UC2": 5})
    chatter(rapport, formal=0, messages=12)
    owner = shown(health(rapport))
    assert "The provider side has nobody in it yet, so its voice can't count." in owner
    assert "`/rapport add @person provider` adds people." in owner
    assert "provider pulse, provider response rate, one-way traffic, as the provider side " in owner
    assert "*Pulse*: *" in owner and "Client pulse: 4.3 of 5" in owner
    member = shown(health(rapport, user="UC1"))
    assert "Ask an owner to add people" in member


def test_health_bad_input_gets_a_friendly_answer(rapport):
    health_relationship(rapport)
    health_relationship(rapport, "Beta ⇄ Stellar", channels=("COTHER",))
    outsider = health(rapport, user="UZED").text
    assert "You're not part of a relationship yet" in outsider
    unknown = health(rapport, "Nosuch").text
    assert "I can't find a relationship called “Nosuch”" in unknown
    several = health(rapport)
    assert "Which one do you mean?" in several.text
    assert health(rapport, "Beta").json()["text"] == "Health of Beta ⇄ Stellar"
    assert health(rapport, channel="COTHER").json()["text"] == "Health of Beta ⇄ Stellar"
    formula = shown(health(rapport, "formula", user="UZED"))
    assert "*Pulse* (45 points)" in formula and "Check-in adherence, 15:" in formula
    assert "80+ thriving · 65+ healthy · 50+ watch · 35+ strained · below 35 at risk" in formula


def test_a_flood_of_health_reports_is_asked_to_wait_and_none_is_lost(rapport, monkeypatch):
    health_relationship(rapport, channels=())
    computing = threading.BoundedSemaphore(1)
    monkeypatch.setattr(health_handlers, "_REPORTING", computing)
    monkeypatch.setattr(health_handlers, "_WAITING", threading.BoundedSemaphore(1))
    computing.acquire()  # the report asked for first can't be computed yet
    try:
        first_url = rapport.fake.response_url("first")
        first = rapport.slack.command("health", response_url=first_url)
        busy = health(rapport)  # the one waiting report is all that may wait
    finally:  # whatever happened, the waiting report may go on (or the app can't stop)
        computing.release()
    assert first.status == 200 and not first.body  # acknowledged; the report is on its way
    assert busy.text == (
        "Rapport is working out a lot of health reports just now. "
        "Try `/rapport health` again in a minute."
    )
    (reply,) = rapport.fake.wait_for("response_url", lambda c: c.path == urlsplit(first_url).path)
    assert reply.args["text"] == "Health of Acme ⇄ Stellar"
    assert health(rapport).json()["text"] == "Health of Acme ⇄ Stellar"  # room again


def test_people_asking_at_once_share_one_working_out_and_chart_each_as_their_role_allows(
    rapport, monkeypatch
):
    health_relationship(rapport)
    pulse_round(rapport, EVERYONE_ANSWERS)
    computing = threading.BoundedSemaphore(1)
    monkeypatch.setattr(health_handlers, "_REPORTING", computing)
    worked_out = []
    figures = health_handlers.health_figures
    monkeypatch.setattr(
        health_handlers, "health_figures", lambda *args: worked_out.append(1) or figures(*args)
    )
    charted = []
    chart_block = health_handlers.chart_block
    monkeypatch.setattr(
        health_handlers, "chart_block", lambda *args: charted.append(1) or chart_block(*args)
    )
    sharing = threading.Semaphore(0)

    class Shared(Future):  # a caller waiting for another's working out
        def result(self, timeout=None):
            sharing.release()
            return super().result(timeout)

    monkeypatch.setattr(single_flight, "Future", Shared)
    urls = {user: rapport.fake.response_url(user) for user in ("UALICE", "UP1", "UPAT")}
    computing.acquire()  # Alice's figures can't be worked out yet
    try:
        for user, url in urls.items():
            acked = rapport.slack.command("health", user=user, response_url=url)
            assert acked.status == 200 and not acked.body
        for _ in range(2):  # the member's and Pat's wait for Alice's
            assert sharing.acquire(timeout=10)
    finally:
        computing.release()
    replies, pictures = {}, set()
    for user, url in urls.items():
        path = urlsplit(url).path
        (reply,) = rapport.fake.wait_for("response_url", lambda call, path=path: call.path == path)
        replies[user] = shown(Response(200, json.dumps(reply.args)))
        pictures |= {b["slack_file"]["id"] for b in reply.args["blocks"] if b["type"] == "image"}
    assert worked_out == [1]
    assert charted == [1] and len(pictures) == 1  # the chart looked up once, shown to all
    for owner in ("UALICE", "UPAT"):
        assert "Client pulse: 3.5 of 5 → 63 × 34% = *21.3* points" in replies[owner]
    assert "*Pulse*: *76*/100 · client pulse 3.5 of 5" in replies["UP1"]
    assert "points" not in replies["UP1"]
    assert snapshots_stored(rapport) == 1  # by the one who worked it out, after its answer


def test_next_step_buttons_send_a_pulse_or_open_the_forms(rapport):
    health_relationship(rapport, channels=())
    (send,) = buttons(health(rapport))
    forged = rapport.slack.block_action(send[1], value=send[2], user="UC1")
    assert forged.status == 200
    rapport.fake.wait_for("response_url", lambda c: "Only owners" in c.args.get("text", ""))
    rapport.slack.block_action(send[1], value=send[2], user="UALICE")
    rapport.fake.wait_for("response_url", lambda c: "is open" in c.args.get("text", ""))
    rapport.clock.advance(seconds=FRESH_FOR.total_seconds())  # the figures shown are stale
    assert "A pulse round is open now" in shown(health(rapport, user="UC1"))
    (feedback,) = buttons(health(rapport, user="UC1"))
    rapport.slack.block_action(feedback[1], value=feedback[2], user="UC1")
    rapport.fake.wait_for("views.open", lambda c: c.args["view"]["callback_id"] == "pulse_feedback")


def test_next_step_for_missing_check_ins_opens_the_check_in_form(rapport):
    health_relationship(rapport, channels=())
    pulse_round(rapport, {user: 5 for user in EVERYONE_ANSWERS} | {"UP3": 5})
    assert "There are no regular check-ins yet" in shown(health(rapport))
    (catch_up,) = buttons(health(rapport))
    assert catch_up == ("Schedule an informal catch-up", "schedule_catch_up", "1")
    (add,) = buttons(health(rapport, user="UC1"))
    assert add == ("Add a check-in", "checkin_new", "1")
    rapport.slack.block_action(add[1], value=add[2], user="UC1")
    (opened,) = rapport.fake.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "checkin_save"
    rapport.slack.block_action(add[1], value=add[2], user="UZED")  # not in the relationship
    rapport.fake.wait_for("response_url", lambda c: "not part of it" in c.args.get("text", ""))
