"""Channel-level evaluation of drift scoring: simulated channel histories, the formal-tone
alert rule applied day by day, for the cue lexicon and the learned score.

Run from the repository root:
    python bench/drift_channels.py [--channels 400] [--seed 1] [--share S] [--min-formal 3]

Every message comes from the held-out batches of ``tests/data/drift_eval.jsonl`` (never
tuned or trained on), scored once by each scorer. A channel lasts 8 weeks with 4 to 25
messages a working day. Healthy channels draw 3-8% drift messages throughout (the occasional
formal message); drifting ones are healthy for 4 weeks, then sour over 2 weeks to 35-60% drift
messages. Each day the rule of ``/rapport drift``'s formal-tone alert is applied to the last 7
days: at least ``--min-formal`` formal messages making up at least a share of them: each
scorer's default (25% for the cues alone, as before the learned score took over; 35% for the
learned score, today's default), or ``--share`` for both.
Printed per scorer: how many drifting channels alert after the souring starts and the median
days it took, and how many healthy channels (and drifting ones before souring) alert at all.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.drift.domain import DEFAULT_THRESHOLD, assess, assess_learned
from bot.drift.models import DEFAULTS

EVAL_SET = ROOT / "tests" / "data" / "drift_eval.jsonl"
DAYS = 56
SOURING_STARTS = 28
SOURING_DAYS = 14
WINDOW_DAYS = 7
LEXICON_SHARE = 0.25  # the default while the cues alone drove alerts


def _held_out() -> tuple[list[str], list[str]]:
    drift, healthy = [], []
    with EVAL_SET.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["split"] == "holdout":
                (drift if row["label"] else healthy).append(row["text"])
    return drift, healthy


def _channel(rng: random.Random, drifting: bool) -> list[list[tuple[bool, int]]]:
    """Per day, the messages as (is drift, index into its pool)."""
    base = rng.uniform(0.03, 0.08)
    peak = rng.uniform(0.35, 0.60)
    volume = rng.randint(4, 25)
    days = []
    for day in range(DAYS):
        share = base
        if drifting and day >= SOURING_STARTS:
            share = base + (peak - base) * min(1.0, (day - SOURING_STARTS + 1) / SOURING_DAYS)
        weekend = day % 7 >= 5
        count = rng.randint(0, 2) if weekend else max(1, round(rng.gauss(volume, volume / 4)))
        days.append([(rng.random() < share, rng.randrange(1 << 30)) for _ in range(count)])
    return days


def _first_alert(days: list[list[bool]], share: float, min_formal: int, start: int) -> int | None:
    for day in range(start, len(days)):
        window = [
            flag for messages in days[max(0, day - WINDOW_DAYS + 1) : day + 1] for flag in messages
        ]
        formal = sum(window)
        if formal >= min_formal and formal >= share * len(window):
            return day
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=400, help="of each kind (default 400)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--share", type=float, help="for both scorers (default: their own)")
    parser.add_argument("--min-formal", type=int, default=3)
    args = parser.parse_args()

    drift, healthy = _held_out()
    scorers: dict[str, Callable] = {"lexicon": assess, "learned": assess_learned}
    shares = {"lexicon": LEXICON_SHARE, "learned": DEFAULTS.formal_share}
    if args.share is not None:
        shares = dict.fromkeys(scorers, args.share)
    flagged = {
        name: {
            True: [score(text).score >= DEFAULT_THRESHOLD for text in drift],
            False: [score(text).score >= DEFAULT_THRESHOLD for text in healthy],
        }
        for name, score in scorers.items()
    }
    rng = random.Random(args.seed)
    channels = [(False, _channel(rng, False)) for _ in range(args.channels)]
    channels += [(True, _channel(rng, True)) for _ in range(args.channels)]
    print(
        f"{args.channels} healthy and {args.channels} drifting channels, {DAYS} days; alert at "
        f">= {args.min_formal} formal making up the share below of the last {WINDOW_DAYS} days"
    )
    print(f"held-out pools: {len(drift)} drift messages, {len(healthy)} healthy ones")
    for name in scorers:
        share = shares[name]
        pools = {is_drift: flagged[name][is_drift] for is_drift in (True, False)}

        def flags(days, pools=pools):
            return [[pools[d][i % len(pools[d])] for d, i in messages] for messages in days]

        healthy_alerts = sum(
            _first_alert(flags(days), share, args.min_formal, 0) is not None
            for drifting, days in channels
            if not drifting
        )
        early = caught = 0
        delays = []
        for drifting, days in channels:
            if not drifting:
                continue
            marked = flags(days)
            if _first_alert(marked[:SOURING_STARTS], share, args.min_formal, 0) is not None:
                early += 1
            alert = _first_alert(marked, share, args.min_formal, SOURING_STARTS)
            if alert is not None:
                caught += 1
                delays.append(alert - SOURING_STARTS + 1)
        median = statistics.median(delays) if delays else float("nan")
        print(
            f"{name:<8} at {share:.0%}: drifting alerted {caught / args.channels:6.1%} "
            f"(median {median:.0f} days after souring starts)   "
            f"healthy alerted {healthy_alerts / args.channels:6.1%}   "
            f"drifting alerted before souring {early / args.channels:6.1%}"
        )


if __name__ == "__main__":
    main()
