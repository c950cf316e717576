"""Intro rounds end to end: invitations, pairing across time zones, group DMs at each
group's morning, opting out, uneven sides, no repeats, the fallback to one DM each, and a
side with nobody in."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from bot.intros.models import Route
from tests.support.helpers import make_relationship
from tests.support.intro_helpers import (
    button_value,
    group_rows,
    groups,
    intros,
    intros_command,
    invitations,
    posts,
    tick,
)
from tests.support.pulse_helpers import job_context

ZONES = {
    "UALICE": "Europe/London",
    "UCARL": "America/New_York",
    "UPAT": "Asia/Kolkata",
    "UPRIYA": "Europe/London",
}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def start(rapport, clients=("UCARL",), owners=("UPAT",), providers=("UPRIYA",), zones=ZONES):
    for user in ("UALICE", *clients, *owners, *providers):
        rapport.fake.add_user(user, tz=zones.get(user, "Europe/London"))
    make_relationship(
        rapport.db,
        rapport.clock,
        client_members=clients,
        provider_owners=owners,
        provider_members=providers,
    )
    assert "Tuesday 10 March" in intros_command(rapport, "on")


def test_everyone_is_invited_then_paired_across_zones_and_introduced_at_their_morning(rapport):
    start(rapport)
    with job_context(rapport) as services:
        tick(services)
        assert sorted(c.args["channel"] for c in invitations(rapport.fake)) == sorted(ZONES)
        rapport.clock.current = at(9, 11)
        tick(services)
        assert groups(rapport.db) == []  # the round opens at noon UTC the day before
        rapport.clock.current = at(9, 12)
        tick(services)
        # New York and Kolkata share no working hour: each is paired with a Londoner
        assert groups(rapport.db) == [{"UALICE", "UPAT"}, {"UCARL", "UPRIYA"}]
        assert intros(rapport.fake) == []
        rapport.clock.current = at(10, 9)  # 09:00 in London, 14:30 in Kolkata
        tick(services)
        tick(services)
        (first,) = intros(rapport.fake)
        (opened,) = rapport.fake.done("conversations.open")
        assert sorted(opened.args["users"].split(",")) == ["UALICE", "UPAT"]
        assert first.args["channel"].startswith("G")
        text = str(first.args["blocks"])
        assert "<@UPAT>, owner at Stellar (Tue 14:30 for them)" in text
        assert "<@UALICE>, owner at Acme (Tue 09:00 for them)" in text
        assert "To break the ice" in text
        assert "Suggest Wed 09:00 UTC" in text and "14:30 for <@UPAT>" in text
        rapport.clock.current = at(10, 12, 59)
        tick(services)
        assert len(intros(rapport.fake)) == 1
        rapport.clock.current = at(10, 13)  # 09:00 in New York (daylight time since Sunday)
        tick(services)
        assert len(intros(rapport.fake)) == 2
        assert "<@UCARL>, front-line at Acme (Tue 09:00 for them)" in str(
            intros(rapport.fake)[1].args["blocks"]
        )
    assert [g.route for g in group_rows(rapport.db)] == [Route.GROUP_DM, Route.GROUP_DM]


def test_not_for_me_and_a_pause_keep_people_out_and_uneven_sides_make_a_trio(rapport):
    start(rapport, providers=("UPRIYA", "UPETE"))
    with job_context(rapport) as services:
        tick(services)
        carl = next(c for c in invitations(rapport.fake) if c.args["channel"] == "UCARL")
        rapport.slack.block_action(
            "intro_not_for_me", value=button_value(carl, "intro_not_for_me"), user="UCARL"
        )
        rapport.fake.wait_for("response_url", lambda c: "out of intros" in c.args["text"])
        assert "Paused" in intros_command(rapport, "me pause 1", user="UPETE")
        rapport.clock.current = at(9, 12)
        tick(services)
    (group,) = groups(rapport.db)
    assert group == {"UALICE", "UPAT", "UPRIYA"}  # one client, two providers: a trio


def test_a_person_outside_the_relationship_cannot_use_its_buttons(rapport):
    start(rapport)
    with job_context(rapport) as services:
        tick(services)
    carl = next(c for c in invitations(rapport.fake) if c.args["channel"] == "UCARL")
    value = button_value(carl, "intro_not_for_me")
    rapport.slack.block_action("intro_not_for_me", value=value, user="UOUTSIDER")
    rapport.fake.wait_for("response_url", lambda c: "not part of it" in c.args["text"])


def test_uneven_sides_rotate_who_sits_out_and_nobody_meets_twice(rapport):
    start(rapport, clients=(), owners=("UPAT",), providers=("UP1", "UP2"))
    intros_command(rapport, "every 1 weeks on tuesday")
    intros_command(rapport, "size 2")
    seen, sat_out = [], []
    with job_context(rapport) as services:
        for day in (9, 16, 23):
            rapport.clock.current = at(day, 12)
            tick(services)
            made = groups(rapport.db)[len(seen) :]
            seen.extend(made)
            people = {"UPAT", "UP1", "UP2"}
            (group,) = made  # one client: a trio of her and two of the three providers
            assert "UALICE" in group and len(group) == 3
            sat_out.append((people - group).pop())
    assert len(set(sat_out)) == 3, sat_out  # everyone sat out once, in turn


def test_no_pair_repeats_over_rounds_until_everyone_has_met(rapport):
    start(rapport, clients=("UC1", "UC2"), owners=("UPAT",), providers=("UP1", "UP2"))
    intros_command(rapport, "every 1 weeks on tuesday")
    met = set()
    with job_context(rapport) as services:
        for day in (9, 16, 23):
            rapport.clock.current = at(day, 12)
            tick(services)
            made = groups(rapport.db)[len(met) :]
            assert len(made) == 3
            for group in made:
                pair = frozenset(group)
                assert pair not in met, f"{sorted(pair)} met twice"
                met.add(pair)
    assert len(met) == 9  # every client has met every provider


def test_refused_group_dm_falls_back_to_one_dm_each_naming_the_others(rapport):
    start(rapport)
    rapport.fake.refuse_group_dms("restricted_action")
    with job_context(rapport) as services:
        rapport.clock.current = at(9, 12)
        tick(services)
        rapport.clock.current = at(10, 9)
        tick(services)
        tick(services)
    sent = intros(rapport.fake)
    assert sorted(c.args["channel"] for c in sent) == ["UALICE", "UPAT"]
    to_alice = next(c for c in sent if c.args["channel"] == "UALICE")
    assert "<@UPAT>, owner at Stellar" in str(to_alice.args["blocks"])
    assert "<@UALICE>, owner" not in str(to_alice.args["blocks"])
    assert "couldn't put you in one conversation" in str(to_alice.args["blocks"])
    assert group_rows(rapport.db)[0].route is Route.SEPARATE_DMS
    rapport.slack.block_action(
        "intro_suggest_time_0", value=button_value(to_alice, "intro_suggest_time_0"), user="UALICE"
    )
    told = rapport.fake.wait_for(
        "chat.postMessage", lambda c: "suggests" in c.args.get("text", ""), count=2
    )
    assert sorted(c.args["channel"] for c in told) == ["UALICE", "UPAT"]


def test_a_side_with_nobody_in_skips_the_round_and_owners_are_told_once(rapport):
    start(rapport, clients=())
    intros_command(rapport, "every 1 weeks on tuesday")
    intros_command(rapport, "me off")  # the only client
    with job_context(rapport) as services:
        for day in (9, 16):
            rapport.clock.current = at(day, 12)
            tick(services)
    notices = posts(rapport.fake, lambda c: "was skipped" in c.args.get("text", ""))
    assert sorted(c.args["channel"] for c in notices) == ["UALICE", "UPAT"]
    assert "nobody on the client side" in notices[0].args["text"]
    assert groups(rapport.db) == []
    figures = intros_command(rapport, "")
    assert "skipped, nobody on the client side" in figures


def test_someone_who_left_slack_gets_no_group_dm_and_is_never_paired_again(rapport):
    start(rapport, clients=("UCARL",), providers=("UPRIYA",), zones={})
    intros_command(rapport, "every 1 weeks on tuesday")
    with job_context(rapport) as services:
        tick(services)  # invitations, while she is still there
        rapport.fake.users["UPRIYA"]["deleted"] = True
        rapport.clock.current = at(9, 12)
        tick(services)
        first_round = groups(rapport.db)
        (hers,) = [i for i, group in enumerate(first_round) if "UPRIYA" in group]
        rapport.clock.current = at(10, 10)
        tick(services)
        tick(services)
        assert group_rows(rapport.db)[hers].route is Route.SEPARATE_DMS
        partners = first_round[hers] - {"UPRIYA"}
        told = [c.args["channel"] for c in intros(rapport.fake) if c.args["channel"] in partners]
        assert sorted(told) == sorted(partners)  # her partners still hear, once each
        rapport.clock.current = at(16, 12)
        tick(services)
    (second_round,) = groups(rapport.db)[len(first_round) :]
    assert second_round == {"UALICE", "UCARL", "UPAT"}


def test_a_deactivated_person_is_not_paired_once_their_invitation_bounced(rapport):
    start(rapport, clients=("UCARL",), providers=("UPRIYA",), zones={})
    rapport.fake.users["UPRIYA"]["deleted"] = True
    with job_context(rapport) as services:
        tick(services)
        rapport.clock.current = at(9, 12)
        tick(services)
    assert all("UPRIYA" not in group for group in groups(rapport.db))


def test_with_default_out_only_those_who_said_count_me_in_are_paired(rapport):
    start(rapport, clients=("UCARL",), providers=("UPRIYA",), zones={})
    intros_command(rapport, "default out")
    with job_context(rapport) as services:
        tick(services)
        for user in ("UCARL", "UPRIYA"):
            invitation = next(c for c in invitations(rapport.fake) if c.args["channel"] == user)
            assert "only be paired if you say yes" in str(invitation.args["blocks"])
            value = button_value(invitation, "intro_count_me_in")
            rapport.slack.block_action("intro_count_me_in", value=value, user=user)
        rapport.fake.wait_for("response_url", lambda c: "You're in" in c.args["text"], count=2)
        rapport.clock.current = at(9, 12)
        tick(services)
    assert groups(rapport.db) == [{"UCARL", "UPRIYA"}]


def test_two_schedulers_at_once_open_the_round_and_introduce_each_group_once(rapport):
    start(rapport)
    rapport.clock.current = at(10, 13)  # the round is due and every group's intro too
    with job_context(rapport) as one, job_context(rapport) as other:
        threads = [threading.Thread(target=tick, args=(services,)) for services in (one, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        tick(one)
    assert len(groups(rapport.db)) == 2
    keys = [c.args["metadata"]["event_payload"]["key"] for c in intros(rapport.fake)]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 2
    assert len(invitations(rapport.fake)) == 4
