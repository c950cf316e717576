"""The health formula, the sentences of what changed and the choice of next step, as pure
functions (the end-to-end tests drive them through Slack)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.health import formula
from bot.health.changes import changes
from bot.health.figures import Component, HealthIndex, left_out
from bot.health.next_step import next_step

NOW = datetime(2026, 3, 13, 12, 0, tzinfo=UTC)


def _index(**components: Component) -> HealthIndex:
    """An index where the named components count and the others are left out."""
    every = {
        spec.key: components.get(spec.key, left_out(spec.key, "no_round"))
        for spec in formula.COMPONENTS
    }
    return HealthIndex("T1", 1, NOW, every)


def _pulse(key: str, average: float, round_id: int = 2, min_group: int = 3) -> Component:
    detail = {"round_id": round_id, "min_group": min_group}
    return Component(key, average, formula.average_score(average), detail=detail)


def test_weights_add_up_to_100_in_three_pillars():
    assert sum(spec.weight for spec in formula.COMPONENTS) == 100
    weights = {pillar: formula.pillar_weight(pillar) for pillar in formula.PILLARS}
    assert weights == {"pulse": 45, "checkins": 30, "tone": 25}


@pytest.mark.parametrize(
    ("index", "band"),
    [
        (100, "thriving"),
        (80, "thriving"),
        (79.9, "healthy"),
        (65, "healthy"),
        (64.9, "watch"),
        (50, "watch"),
        (49.9, "strained"),
        (35, "strained"),
        (34.9, "at risk"),
        (0, "at risk"),
    ],
)
def test_band_cut_offs(index, band):
    assert formula.band(index) == band


def test_each_figure_maps_to_0_100_and_stays_within_it():
    assert [formula.average_score(a) for a in (1, 3, 5)] == [0, 50, 100]
    assert [formula.response_score(r) for r in (0, 0.4, 0.8, 1.0)] == [0, 50, 100, 100]
    assert [formula.gap_score(g) for g in (0, 1, -1, 2.5)] == [100, 50, 50, 0]
    assert formula.adherence_score(6, 8) == 75
    assert [formula.lapses_score(n) for n in (0, 1, 2, 3)] == [100, 50, 0, 0]
    assert [formula.formal_share_score(s, 0.35) for s in (0, 0.35, 0.7, 0.9)] == [100, 50, 0, 0]
    assert [formula.unanswered_score(n, 2) for n in (0, 2, 4, 9)] == [100, 50, 0, 0]
    assert formula.one_way_score(1, 2) == 50
    assert [formula.formal_trend_score(r, 3) for r in (-4, 0, 3, 6)] == [100, 100, 50, 0]


def test_missing_components_share_their_weight_and_too_little_data_gives_no_index():
    index, weights = formula.combine({"client_pulse": 50.0, "adherence": 100.0})
    assert weights == pytest.approx({"client_pulse": 1400 / 29, "adherence": 1500 / 29})
    assert index == pytest.approx((14 * 50 + 15 * 100) / 29)
    assert sum(weights.values()) == pytest.approx(100)
    assert formula.combine({"client_pulse": 90.0, "client_response": 100.0}) == (None, {})
    full, _ = formula.combine(dict.fromkeys(formula.SPECS, 60.0))
    assert full == pytest.approx(60)


def test_index_contributions_add_up_and_survive_a_snapshot():
    index = _index(
        client_pulse=_pulse("client_pulse", 3.5),
        adherence=Component("adherence", 0.75, 75.0, detail={"held": 6, "scheduled": 8}),
    )
    assert index.contribution("client_pulse") + index.contribution("adherence") == (
        pytest.approx(index.value)
    )
    assert index.pillar_score("tone") is None and index.band == formula.band(index.value)
    again = HealthIndex.from_json("T1", 1, NOW, index.to_json())
    assert again.components == index.components and again.value == index.value


def _role_gap(gap: float, round_id: int) -> Component:
    detail = {"round_id": round_id, "min_group": 3, "side": "provider"}
    return Component("role_gap", gap, formula.gap_score(gap), detail=detail)


def _formal_share(messages: int, formal: int) -> Component:
    share = formal / messages
    detail = {"channels": {"C1": [messages, formal]}}
    return Component("formal_share", share, formula.formal_share_score(share, 0.35), detail=detail)


def test_changes_say_what_moved_and_owners_alone_hear_the_role_gap():
    before = _index(
        client_pulse=_pulse("client_pulse", 3.5, round_id=1),
        role_gap=_role_gap(0.2, round_id=1),
        formal_share=_formal_share(20, 1),
    )
    now = _index(
        client_pulse=_pulse("client_pulse", 2.9),
        role_gap=_role_gap(1.2, round_id=2),
        formal_share=_formal_share(18, 4),
    )
    owner = changes(now, before, is_owner=True, min_group=3)
    assert "Client pulse fell 0.6 to 2.9." in owner
    assert "The front-line–manager gap (provider side) widened from 0.2 to 1.2." in owner
    assert "Formal share up from 5% to 22% in <#C1>." in owner
    member = changes(now, before, is_owner=False, min_group=3)
    assert not any("front-line" in line for line in member)
    assert changes(now, None, is_owner=True, min_group=3) == []


def test_changes_skip_the_same_round_and_figures_shown_under_a_lower_threshold():
    before = _index(client_pulse=_pulse("client_pulse", 3.5, round_id=1, min_group=2))
    now = _index(client_pulse=_pulse("client_pulse", 2.9))
    assert not any("pulse" in line for line in changes(now, before, True, min_group=3))
    same_round = _index(client_pulse=_pulse("client_pulse", 3.5, round_id=2))
    assert not any("pulse" in line for line in changes(now, same_round, True, min_group=3))


def test_next_step_comes_from_the_weakest_part():
    assert next_step(_index()).action == "send_pulse"  # no data: the pulse pillar weighs most
    pulse_only = _index(
        client_pulse=_pulse("client_pulse", 5), provider_pulse=_pulse("provider_pulse", 5)
    )
    assert (next_step(pulse_only).action, next_step(pulse_only).about) == ("catch_up", "checkins")
    waiting = Component("unanswered", 3, 25.0, detail={"channels": {"C1": 1, "C2": 2}})
    meeting = Component("adherence", 1.0, 100.0, detail={"held": 8, "scheduled": 8})
    step = next_step(
        _index(client_pulse=_pulse("client_pulse", 4.8), adherence=meeting, unanswered=waiting)
    )
    assert step.action == "answer_requests" and step.detail == {"channel": "C2", "waiting": 2}
