"""Pulse results and alerts: anonymity thresholds, non-derivable breakdowns, trends,
owners-only figures, and alerts sent once per round and condition."""

from __future__ import annotations

import json
import re
from datetime import time, timedelta
from typing import Any

from bot.pulse.models import PulseRound
from bot.pulse.results import TREND_ROUNDS, _suppressed, results
from bot.relationships.models import Relationship, Role, Side
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship
from tests.support.pulse_helpers import (
    alerts,
    answer_value,
    click,
    job_context,
    prompts,
    pulse,
    rounds,
    tick,
)

CLIENT = ("UC1", "UC2", "UC3", "UC4")
PROVIDER = ("UP1", "UP2", "UP3", "UP4", "UP5", "UP6", "UP7")


def _relationship(rapport, **kwargs) -> int:
    return make_relationship(
        rapport.db,
        rapport.clock,
        client_members=CLIENT,
        provider_members=kwargs.pop("provider_members", PROVIDER),
        **kwargs,
    )


def _round(rapport, scores: dict[str, int | tuple[int, ...]]) -> int:
    """Open a round with /pulse send, prompt everyone, and have ``scores`` clicked: one
    score, or one per question."""
    pulse(rapport, "send")
    with job_context(rapport) as context:
        tick(context)
    round_id = rounds(rapport.db)[-1].id
    for user, given in scores.items():
        (prompt,) = _prompt(rapport, user, round_id)
        for question, score in enumerate(given if isinstance(given, tuple) else (given,)):
            assert click(rapport, user, score, answer_value(prompt, question)).status == 200
    return round_id


def _prompt(rapport, user: str, round_id: int) -> list:
    return [p for p in prompts(rapport.fake, user) if answer_value(p).startswith(f"{round_id}:")]


def _close(rapport) -> None:
    rapport.clock.advance(days=3, minutes=1)


def _comment(rapport, user: str, round_id: int, text: str) -> None:
    meta = json.dumps({"round": round_id, "channel": "", "ts": ""})
    answer = rapport.slack.view_submission(
        "pulse_comment",
        {"comment": {"value": {"type": "plain_text_input", "value": text}}},
        user=user,
        private_metadata=meta,
    )
    assert answer.status == 200 and answer.body == ""


def _results(rapport, user: str, **kwargs: Any) -> str:
    reply = pulse(rapport, "results", user=user, **kwargs)
    assert reply.status == 200
    texts = []
    for block in reply.json()["blocks"]:
        if block["type"] == "section":
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts.extend(element["text"] for element in block["elements"])
    return "\n".join(texts)


def test_pulse_results_hidden_below_minimum_group_size(rapport):
    _relationship(rapport)
    round_id = _round(rapport, {"UC1": 2, "UC2": 2, "UP1": 4, "UP2": 5, "UP3": 3})
    _comment(rapport, "UC1", round_id, "client secret")
    _comment(rapport, "UP1", round_id, "Daily stand-ups help")
    _close(rapport)
    shown = _results(rapport, "UALICE")
    assert "*Client*: _not enough answers yet_" in shown
    assert "*Provider*: *4.0*" in shown
    assert "*Client–provider gap*: _not enough answers yet_" in shown
    assert "Daily stand-ups help" in shown and "client secret" not in shown
    assert "2 of 5 answered (40%)" in shown and "3 of 8 answered" in shown


def test_long_comments_fill_five_sections_at_most_and_the_rest_are_counted(rapport):
    """A section holds 3,000 characters (every ack is checked as Slack checks it): owners
    see as many whole comments as five hold, each quoted on every line, then a count."""
    _relationship(rapport)
    people = CLIENT + PROVIDER
    round_id = _round(rapport, dict.fromkeys(people, 4))
    for n, user in enumerate(people):
        _comment(rapport, user, round_id, f"Comment {n:02d}\n" + "word " * 378)
    _close(rapport)
    shown = _results(rapport, "UALICE")
    assert len(re.findall(r"> Comment \d\d\n> word", shown)) == 5
    assert "… and 6 more comments" in shown


def test_pulse_min_group_is_configurable_but_never_below_two(rapport):
    _relationship(rapport)
    _round(rapport, {"UC1": 2, "UC2": 4, "UP1": 4, "UP2": 5, "UP3": 3})
    assert "Only owners" in pulse(rapport, "settings min-group 2", user="UC1").text
    assert "from 2 to 50" in pulse(rapport, "settings min-group 1").text
    assert "now 2 answers" in pulse(rapport, "settings min-group 2").text
    _close(rapport)
    assert "*Client*: *3.0*" in _results(rapport, "UC1")


def test_pulse_role_breakdown_is_not_derivable_by_subtraction(rapport):
    _relationship(rapport, provider_owners=("UPAT", "UPO2", "UPO3"), provider_members=PROVIDER[:3])
    # client: 3 front-line + 1 owner answer -> side shown, neither role group shown;
    # provider: 3 front-line + 3 owners -> both role groups shown
    _round(
        rapport,
        {"UALICE": 1, "UC1": 4, "UC2": 4, "UC3": 4}
        | {"UPAT": 2, "UPO2": 2, "UPO3": 2, "UP1": 5, "UP2": 5, "UP3": 5},
    )
    _close(rapport)
    owner = _results(rapport, "UALICE")
    assert "*Client*: *3.3*" in owner  # 3.25, rounded half up
    assert "front-line / managers: _not enough answers yet_" in owner
    assert "4.0" not in owner  # the client front-line average stays hidden
    assert "front-line *5.0* / managers *2.0* (gap +3.0)" in owner
    member = _results(rapport, "UC1")
    assert "front-line" not in member and "*Provider*: *3.5*" in member


def test_pulse_suppression_hides_both_role_groups_when_either_is_small():
    groups = {"frontline": (3, 12, 3), "managers": (1, 1, 1)}
    figures = _suppressed(Side.CLIENT, 5, groups, 3)
    assert figures.average == 13 / 4 and figures.frontline is None and figures.managers is None
    assert _suppressed(Side.CLIENT, 5, {"frontline": (2, 4, 2)}, 3).average is None
    both = _suppressed(Side.CLIENT, 6, {"frontline": (3, 9, 3), "managers": (3, 6, 3)}, 3)
    assert (both.frontline, both.managers, both.role_gap) == (3.0, 2.0, 1.0)
    assert Role.OWNER.value == "owner"


def test_pulse_open_round_counts_only_for_owners_and_only_as_totals(rapport):
    _relationship(rapport)
    _round(rapport, {"UC1": 2, "UP1": 4})
    owner = _results(rapport, "UALICE")
    assert "no round has closed yet" in owner
    assert "2 of 13 people answered so far" in owner
    assert "answered so far" not in _results(rapport, "UC1")


def test_pulse_results_show_trend_gap_and_alert_owners_once(rapport):
    relationship_id = _relationship(rapport, alerts="CALERTS")
    everyone = {u: 5 for u in ("UALICE", *CLIENT, "UPAT", *PROVIDER)}
    _round(rapport, everyone)
    _close(rapport)
    with job_context(rapport) as context:
        tick(context)
        assert alerts(rapport.fake) == []
        _round(rapport, {u: 3 for u in ("UALICE", *CLIENT)} | {"UP1": 5, "UP2": 5, "UP3": 5})
        _close(rapport)
        tick(context)
        tick(context)
    sent = alerts(rapport.fake)
    assert {c.args["channel"] for c in sent} == {"CALERTS"}
    texts = sorted(c.args["text"] for c in sent)
    assert len(texts) == 3
    assert any("client side's pulse dropped from *5.0* to *3.0* (-2.0)" in t for t in texts)
    assert any("provider side scores *2.0* points higher" in t for t in texts)
    assert any("only *38%* of the provider side answered" in t for t in texts)
    button = sent[0].args["blocks"][-1]["elements"][0]
    assert button["action_id"] == "schedule_catch_up" and button["value"] == str(relationship_id)

    member = _results(rapport, "UC1")
    assert "*Client*: *3.0*  `█▅` ↓ 2.0" in member
    assert "*Provider*: *5.0*  `██` → steady · 3 of 8 answered (38%)" in member
    assert "*Client–provider gap*: *2.0* (provider side happier)" in member


def test_pulse_alerts_go_to_owners_by_dm_without_an_alerts_channel(rapport):
    _relationship(rapport)
    _round(rapport, {u: 5 for u in ("UALICE", *CLIENT, "UPAT", *PROVIDER)})
    _close(rapport)
    _round(rapport, {u: 1 for u in ("UALICE", *CLIENT, "UPAT", *PROVIDER)})
    _close(rapport)
    with job_context(rapport) as context:
        tick(context)
        tick(context)
    sent = alerts(rapport.fake)
    assert sorted(c.args["channel"] for c in sent) == ["UALICE", "UALICE", "UPAT", "UPAT"]


def test_pulse_person_moved_mid_round_counts_once_in_the_group_of_their_first_answer(rapport):
    _relationship(rapport)
    pulse(rapport, "questions add How is communication?")
    round_id = _round(rapport, {"UC1": 1, "UC2": 1, "UP1": (4, 4), "UP2": (4, 4)})
    # between their two answers an owner makes UC1 a manager and moves UC2 to the provider
    assert "manager" in rapport.slack.command("add <@UC1> client manager", user="UALICE").text
    assert "provider" in rapport.slack.command("add <@UC2> provider", user="UALICE").text
    for user in ("UC1", "UC2"):
        (prompt,) = _prompt(rapport, user, round_id)
        assert click(rapport, user, 1, answer_value(prompt, 1)).status == 200
    _close(rapport)
    shown = _results(rapport, "UALICE")
    # two client people and two provider people answered: no group of three to show
    assert "*Client*: _not enough answers yet_ · 2 of 5 answered" in shown
    assert "*Provider*: _not enough answers yet_ · 2 of 8 answered" in shown
    assert "1.0" not in shown and "4.0" not in shown


def test_pulse_results_trend_response_rates_role_gaps_and_questions(rapport):
    _relationship(rapport, provider_owners=("UPAT", "UPO2", "UPO3"), provider_members=PROVIDER[:3])
    pulse(rapport, "questions add How is communication?")
    managers, frontline = ("UPAT", "UPO2", "UPO3"), PROVIDER[:3]
    _round(
        rapport,
        {u: (4, 4) for u in ("UALICE", *CLIENT)}
        | {u: (2, 2) for u in managers}
        | {u: (5, 5) for u in frontline},
    )
    _close(rapport)
    # round 2: three client people answer (one skips the second question); the provider's
    # front-line and managers come closer
    _round(
        rapport,
        {"UC1": (4, 5), "UC2": (4, 3), "UC3": 4}
        | {u: (3, 2) for u in managers}
        | {u: (4, 5) for u in frontline},
    )
    _close(rapport)
    owner = _results(rapport, "UALICE")
    assert "*Client*: *4.0*  `▆▆` → steady · 3 of 5 answered (60%)  `█▅` ↓ 40%" in owner
    assert "6 of 6 answered (100%)  `██` → steady" in owner
    assert "front-line *4.5* / managers *2.5* (gap +2.0)  `▆▅` narrower by 1.0" in owner
    assert "*By question* (client / provider)" in owner
    # the client's second question had two answers: neither client figure by question shows
    first = "1. How well is the partnership working for you this week?"
    assert f"{first}: _not enough answers yet_ / *3.5*" in owner
    assert "2. How is communication?: _not enough answers yet_ / *3.5*" in owner
    member = _results(rapport, "UC1")
    assert "*By question*" in member and "front-line" not in member


def test_pulse_results_trend_is_the_newest_closed_rounds_oldest_first_beside_the_open_one(
    rapport,
):
    relationship_id = _relationship(rapport)
    now = rapport.clock.now()

    def a_round(opens_days_ago: float, closes_days_ago: float) -> PulseRound:
        return PulseRound(
            team_id=TEAM_ID,
            relationship_id=relationship_id,
            day=None,
            prompt_at=time(10),
            opens_at=now - timedelta(days=opens_days_ago),
            closes_at=now - timedelta(days=closes_days_ago),
            questions="[]",
            secret="",
            min_group=3,
            created_at=now,
        )

    with rapport.db.transaction() as session:
        closed = [a_round(7 * weeks + 3, 7 * weeks) for weeks in range(TREND_ROUNDS + 2, 0, -1)]
        open_now, not_yet = a_round(1, -2), a_round(-1, -4)
        session.add_all([*closed, open_now, not_yet])
        session.flush()
        closed_ids, open_id = [r.id for r in closed], open_now.id
    with rapport.db.read() as session:
        relationship = session.get(Relationship, relationship_id)
        owner = results(session, relationship, is_owner=True, now=now)
        member = results(session, relationship, is_owner=False, now=now)
    expected = closed_ids[-TREND_ROUNDS:]  # the newest eight, oldest first
    assert [r.round_id for r in owner.trend] == expected == [r.round_id for r in member.trend]
    assert owner.latest.round_id == closed_ids[-1] == member.latest.round_id
    assert owner.open_round.closes_at == now + timedelta(days=2) and member.open_round is None
    assert open_id not in expected
