"""Pairing for intros at scale: 1,000 people a side with a year of history.

Run from the repository root:

    python bench/intro_pairing.py [--per-side 1000] [--rounds 26]

People are spread over eight UTC offsets (clients from the Americas to India, providers from
Europe to Japan), a third of them managers. ``--rounds`` fortnightly rounds are paired first
to build the history (a year by default); then the next round is timed: seconds beside the
calibration loop (``bench/calibration.py``) in this process. Peak memory of that round is
printed for a quarter, half and all the people with their history, to show it grows in line
with people + history. Also the repeats over the whole year (0 while fresh pairs remain).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.calibration import calibration_rate
from bot.intros.pairing import Candidate, history_from_groups, make_groups

CLIENT_OFFSETS = (-480, -300, -240, 0, 60, 330)
PROVIDER_OFFSETS = (0, 60, 120, 330, 480, 540)


def people(per_side: int, seed: int = 1) -> list[Candidate]:
    rng = random.Random(seed)
    return [
        Candidate(f"{side[0].upper()}{n:05d}", side, rng.random() < 1 / 3, rng.choice(offsets))
        for side, offsets in (("client", CLIENT_OFFSETS), ("provider", PROVIDER_OFFSETS))
        for n in range(per_side)
    ]


def year_of_rounds(everyone: list[Candidate], rounds: int) -> list[tuple[int, tuple[str, ...]]]:
    groups: list[tuple[int, tuple[str, ...]]] = []
    for when in range(rounds):
        pairing = make_groups(everyone, history_from_groups(groups), 2, seed=when)
        groups.extend((when, group) for group in pairing.groups)
    return groups


def timed_round(everyone: list[Candidate], groups, rounds: int) -> tuple[float, int, int]:
    """Seconds for the next round (history included), its peak memory, repeats in it."""
    tracemalloc.start()
    started = time.perf_counter()
    history = history_from_groups(groups)
    pairing = make_groups(everyone, history, 2, seed=rounds)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    repeats = sum(group[1] in history.get(group[0], {}) for group in pairing.groups)
    return elapsed, peak, repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-side", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=26)
    options = parser.parse_args()
    rate = calibration_rate()
    print(f"calibration: {rate:,.0f} loops/s")
    for share in (4, 2, 1):
        per_side = options.per_side // share
        everyone = people(per_side)
        groups = year_of_rounds(everyone, options.rounds)
        pairs = {frozenset(group) for _, group in groups}
        elapsed, peak, repeats = timed_round(everyone, groups, options.rounds)
        print(
            f"{per_side:>5} × {per_side} people, {len(groups):,} groups of history: "
            f"next round {elapsed:.3f} s ({elapsed * rate:,.0f} calibration loops), "
            f"peak {peak / 2**20:.1f} MiB, repeats this round {repeats}, "
            f"over the year {len(groups) - len(pairs)}"
        )
    print(f"target: < 1 s for {options.per_side} × {options.per_side}")


if __name__ == "__main__":
    main()
