"""Pure tests of pairing: sides, repeats, hours, roles, uneven sides, determinism."""

from __future__ import annotations

import itertools

from bot.intros.pairing import Candidate, history_from_groups, make_groups, overlap_minutes


def people(client: int, provider: int, offset: int = 0, senior: bool = False) -> list[Candidate]:
    return [Candidate(f"UC{i}", "client", senior, offset) for i in range(client)] + [
        Candidate(f"UP{i}", "provider", senior, offset) for i in range(provider)
    ]


def sides_of(group: tuple[str, ...]) -> set[str]:
    return {user[:2] for user in group}


def test_every_group_has_both_sides_and_everyone_once():
    pairing = make_groups(people(5, 5), {}, size=2, seed=1)
    assert len(pairing.groups) == 5
    assert all(sides_of(group) == {"UC", "UP"} for group in pairing.groups)
    assert sorted(itertools.chain(*pairing.groups)) == sorted(p.user_id for p in people(5, 5))
    assert pairing.sitting_out == []


def test_same_seed_and_history_give_the_same_groups_another_seed_may_not():
    everyone = people(20, 20)
    assert make_groups(everyone, {}, 2, seed=7) == make_groups(everyone, {}, 2, seed=7)
    assert make_groups(everyone, {}, 2, seed=7) != make_groups(everyone, {}, 2, seed=8)


def test_no_pair_repeats_until_every_combination_has_met():
    everyone = people(4, 4)
    met: list[tuple[int, tuple[str, ...]]] = []
    seen: set[frozenset[str]] = set()
    for when in range(4):
        pairing = make_groups(everyone, history_from_groups(met), 2, seed=when)
        for group in pairing.groups:
            pair = frozenset(group)
            assert pair not in seen, f"round {when} repeated {sorted(pair)}"
            seen.add(pair)
            met.append((when, group))
    assert len(seen) == 16
    fifth = make_groups(everyone, history_from_groups(met), 2, seed=9)
    assert {frozenset(g) for g in fifth.groups} == {frozenset(g) for _, g in met[:4]}


def test_working_hours_overlap_wins_over_role_when_anyone_allows_it():
    everyone = [
        Candidate("UC0", "client", False, 0),
        Candidate("UC1", "client", False, 600),  # UTC+10
        Candidate("UP0", "provider", False, 540),  # UTC+9
        Candidate("UP1", "provider", True, -60),
    ]
    pairing = make_groups(everyone, {}, 2, seed=3)
    assert {frozenset(g) for g in pairing.groups} == {
        frozenset({"UC0", "UP1"}),
        frozenset({"UC1", "UP0"}),
    }
    assert overlap_minutes([600, 540]) == 420


def test_similar_roles_are_preferred_with_some_mixing():
    everyone = [Candidate(f"UC{i}", "client", i % 2 == 0, 0) for i in range(200)] + [
        Candidate(f"UP{i}", "provider", i % 2 == 1, 0) for i in range(200)
    ]
    senior = {p.user_id: p.senior for p in everyone}
    pairing = make_groups(everyone, {}, 2, seed=5)
    same = sum(senior[a] == senior[b] for a, b in pairing.groups)
    assert 0.65 * 200 < same < 200


def test_uneven_sides_make_trios_then_rotate_who_sits_out_fairly():
    everyone = people(2, 5)
    pairing = make_groups(everyone, {}, 2, seed=1)
    assert sorted(len(g) for g in pairing.groups) == [3, 3]
    assert all(sides_of(g) == {"UC", "UP"} for g in pairing.groups)
    (first,) = pairing.sitting_out
    sat = {first: 1}
    again = [Candidate(p.user_id, p.side, p.senior, 0, sat.get(p.user_id, 0)) for p in everyone]
    assert first not in make_groups(again, {}, 2, seed=2).sitting_out


def test_size_three_makes_trios_with_both_sides():
    pairing = make_groups(people(4, 5), {}, 3, seed=4)
    assert [len(g) for g in pairing.groups] == [3, 3, 3]
    assert all(sides_of(g) == {"UC", "UP"} for g in pairing.groups)


def test_a_side_with_nobody_makes_no_group():
    pairing = make_groups(people(3, 0), {}, 2, seed=1)
    assert pairing.groups == []
    assert len(pairing.sitting_out) == 3
