"""Who meets whom in a round: pure and deterministic for a seed and a history.

Every group has someone from each side. A person is paired, in order of preference, with
someone they have never met whose working hours (09:00–17:00 local) overlap theirs by an hour
or more, and of a similar role (front-line with front-line, managers and owners together),
except for a seeded share of people who are mixed on purpose. Nobody meets the same person
twice until every cross-side combination open to them has met; after that the longest-unmet
comes first. With uneven sides the larger side's extra people make trios, and whoever still
has no place sits out, those who sat out most often going in first next time.

Fast enough for 1,000 people a side: candidates are kept in buckets by role and UTC offset,
so each person looks at a handful of buckets rather than everyone on the other side; a
bounded search for an augmenting path then repairs the few repeats the greedy pass leaves.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

WORK_MINUTES = 8 * 60  # 09:00-17:00 local
MIN_OVERLAP = 60  # minutes of shared working hours a group should have
MIX_SHARE = 0.2  # people paired across roles on purpose
SEARCH_BUDGET = 200_000  # pairs looked at, in all, searching for augmenting paths

History = Mapping[str, Mapping[str, int]]  # person -> partner -> when they last met (ordinal)


@dataclass(frozen=True)
class Candidate:
    user_id: str
    side: str  # "client" or "provider"
    senior: bool  # a manager or owner
    utc_offset: int  # minutes east of UTC on the round's day
    sat_out: int = 0  # rounds sat out so far


@dataclass(frozen=True)
class Pairing:
    groups: list[tuple[str, ...]]
    sitting_out: list[str]


def history_from_groups(groups: Iterable[tuple[int, Sequence[str]]]) -> dict[str, dict[str, int]]:
    """The history of ``(when, members)`` groups: each pair's latest meeting."""
    history: dict[str, dict[str, int]] = {}
    for when, members in groups:
        for person in members:
            met = history.setdefault(person, {})
            for other in members:
                if other != person and met.get(other, when - 1) < when:
                    met[other] = when
    return history


def overlap_minutes(offsets: Iterable[int]) -> int:
    """Shared working minutes of people at these UTC offsets (0 when none)."""
    found = list(offsets)
    return max(0, WORK_MINUTES - (max(found) - min(found)))


def make_groups(people: Sequence[Candidate], history: History, size: int, seed: int) -> Pairing:
    """Groups of ``size`` (2 or 3; trios too when size is 2 and the sides are uneven)."""
    rng = random.Random(seed)
    sides: dict[str, list[Candidate]] = {}
    for person in sorted(people, key=lambda p: p.user_id):
        sides.setdefault(person.side, []).append(person)
    if len(sides) < 2:
        return Pairing([], sorted(p.user_id for p in people))
    for members in sides.values():
        rng.shuffle(members)
    small, large = sorted(sides.values(), key=len)
    count = len(small) if size == 2 else min(len(small), (len(small) + len(large)) // 3)
    small_in, small_rest = _fairly(small, count)
    large_in, large_rest = _fairly(large, count)
    pool = large_rest if size == 2 else sorted(large_rest + small_rest, key=_fairness)
    thirds, sitting = pool[:count], pool[count:]
    pairs = _Matcher(small_in, large_in, history, rng).match()
    groups = _add_thirds(pairs, thirds, history)
    return Pairing([tuple(p.user_id for p in g) for g in groups], [p.user_id for p in sitting])


def _fairness(person: Candidate) -> int:
    return -person.sat_out


def _fairly(members: list[Candidate], count: int) -> tuple[list[Candidate], list[Candidate]]:
    """``count`` people in, those who sat out most first (the order is already seeded)."""
    ranked = sorted(members, key=_fairness)
    return ranked[:count], ranked[count:]


def _fresh(history: History, person: Candidate, others: Iterable[Candidate]) -> bool:
    met = history.get(person.user_id, {})
    return not any(other.user_id in met for other in others)


class _Matcher:
    """One side's people matched one-to-one with the other's (equal numbers)."""

    def __init__(
        self, left: list[Candidate], right: list[Candidate], history: History, rng: random.Random
    ):
        self.left, self.right, self.history, self.rng = left, right, history, rng
        self.buckets: dict[tuple[bool, int], list[Candidate]] = {}
        for person in right:
            self.buckets.setdefault((person.senior, person.utc_offset), []).append(person)
        self.everyone = {key: list(bucket) for key, bucket in self.buckets.items()}
        self.partner: dict[str, Candidate] = {}  # both ways, by user id
        self._orders: dict[tuple[bool, int, bool], list[tuple[bool, int]]] = {}
        self.budget = SEARCH_BUDGET

    def match(self) -> list[list[Candidate]]:
        """Those with the fewest people in reach choose first, then the rest."""
        reach = {
            offset: sum(
                len(bucket)
                for (_, other), bucket in self.buckets.items()
                if WORK_MINUTES - abs(other - offset) >= MIN_OVERLAP
            )
            for offset in {a.utc_offset for a in self.left}
        }
        ordered = sorted(self.left, key=lambda a: reach[a.utc_offset])
        unmatched = [a for a in ordered if not self._greedy(a)]
        still = [a for a in unmatched if not self._augment(a)]
        free = [b for b in self.right if b.user_id not in self.partner]
        for a in still:  # everyone open to them has met them: the longest-unmet, nearest first
            met = self.history.get(a.user_id, {})
            best = min(
                free,
                key=lambda b: (
                    WORK_MINUTES - abs(a.utc_offset - b.utc_offset) < MIN_OVERLAP,
                    met.get(b.user_id, -1),
                    b.senior != a.senior,
                ),
            )
            free.remove(best)
            self._pair(a, best)
        return [[a, self.partner[a.user_id]] for a in self.left]

    def _pair(self, a: Candidate, b: Candidate) -> None:
        self.partner[a.user_id], self.partner[b.user_id] = b, a

    def _bucket_order(self, a: Candidate) -> list[tuple[bool, int]]:
        """Buckets within reach of ``a``'s hours (all of them, nearest first, for someone
        whose hours meet nobody's): same role first (other role first for the mixed)."""
        mixed = self.rng.random() < MIX_SHARE
        key = (a.senior, a.utc_offset, mixed)
        if key not in self._orders:
            reachable = [
                bucket
                for bucket in self.buckets
                if WORK_MINUTES - abs(bucket[1] - a.utc_offset) >= MIN_OVERLAP
            ] or list(self.buckets)
            self._orders[key] = sorted(
                reachable,
                key=lambda bucket: (
                    (bucket[0] != a.senior) != mixed,
                    abs(bucket[1] - a.utc_offset),
                ),
            )
        return self._orders[key]

    def _greedy(self, a: Candidate) -> bool:
        met = self.history.get(a.user_id, {})
        for key in self._bucket_order(a):
            bucket = self.buckets[key]
            while bucket and bucket[-1].user_id in self.partner:
                bucket.pop()  # taken: dropped from the end, where buckets are taken from
            for index in range(len(bucket) - 1, -1, -1):
                b = bucket[index]
                if b.user_id not in self.partner and b.user_id not in met:
                    self._pair(a, b)
                    return True
        return False

    def _augment(self, start: Candidate) -> bool:
        """A breadth-first search for a chain of swaps giving ``start`` a good partner
        without taking one from anyone else, among people in reach of each one's hours;
        all searches together give up after ``SEARCH_BUDGET`` looks."""
        came_from: dict[str, Candidate] = {}  # b -> the a that reached it
        queue = deque([start])
        while queue:
            a = queue.popleft()
            met = self.history.get(a.user_id, {})
            reachable = (b for key in self._bucket_order(a) for b in self.everyone[key])
            for b in reachable:
                self.budget -= 1
                if self.budget < 0:
                    return False
                if b.user_id in came_from or b.user_id in met:
                    continue
                came_from[b.user_id] = a
                holder = self.partner.get(b.user_id)
                if holder is None:
                    self._flip(b, came_from)
                    return True
                queue.append(holder)
        return False

    def _flip(self, b: Candidate, came_from: dict[str, Candidate]) -> None:
        """Swap partners along the path found, back to the search's start."""
        while True:
            a = came_from[b.user_id]
            previous = self.partner.get(a.user_id)
            self._pair(a, b)
            if previous is None:
                return
            b = previous


def _add_thirds(
    pairs: list[list[Candidate]], thirds: list[Candidate], history: History
) -> list[list[Candidate]]:
    """Each extra person joins a pair: the first they met none of and who share an hour with
    them, else the pair whose hours suit them best."""
    open_pairs = list(pairs)
    for person in thirds:
        best = next((g for g in open_pairs if _fit(person, g, history)[:2] == (0, 0)), None)
        if best is None:
            best = min(open_pairs, key=lambda group: _fit(person, group, history))
        best.append(person)
        open_pairs.remove(best)
    return pairs


def _fit(person: Candidate, group: list[Candidate], history: History) -> tuple[int, int, int]:
    """Lower is better: met someone there, short of shared hours, minus the shared minutes."""
    shared = overlap_minutes([member.utc_offset for member in group] + [person.utc_offset])
    return (int(not _fresh(history, person, group)), int(shared < MIN_OVERLAP), -shared)
