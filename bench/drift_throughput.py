"""Throughput of drift scoring on one core, and how its cost grows with message length, for
the cue lexicon and the learned score.

Run from the repository root:  python bench/drift_throughput.py [--seconds 3] [--scorer both]

First a calibration loop (``bench/calibration.py``) is timed in the same process; every rate
is printed beside it as a ratio, so a slower machine shows as slower calibration, not as a
miss. Then messages/second (wall clock and CPU time, which is fairer on a busy machine) over
typical chat messages (< 300 characters, from the evaluation set), overall and for messages
with and without cues. Then, for each shape of text, the time for exactly 400 characters
and for the same 400 characters repeated to exactly 40,000: linear scoring gives a ratio
near 100; catastrophic regex backtracking would give thousands.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.calibration import calibration_rate
from bot.drift.domain import assess, assess_learned, default_cues

EVAL_SET = ROOT / "tests" / "data" / "drift_eval.jsonl"
TARGETS = {"lexicon": 20_000, "learned": 3_000}  # typical messages per CPU second
SCORERS = {"lexicon": assess, "learned": assess_learned}
SHORT, LONG = 400, 40_000
MAX_RATIO = 100 * 1.2  # 100x the length may cost a little over 100x the time

# Hostile shapes: inputs that tend to trip up regular expressions (unclosed markup, repeated
# prefixes of cue phrases, long words). Chat shapes are filled in from the evaluation set.
HOSTILE = {
    "unclosed '<' markup": "<",
    "unclosed backticks": "`",
    "colon runs": ":ab",
    "repeated 'per the '": "per the ",
    "repeated 'no '": "no ",
    "repeated 'escalate '": "escalate ",
    "repeated 'your team '": "your team ",
    "one very long word": "a",
}


def rates(messages: list[str], seconds: float, score) -> tuple[float, float]:
    """(messages per wall-clock second, messages per CPU second)."""
    for text in messages:  # warm up
        score(text)
    count = 0
    wall, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < seconds:
        for text in messages:
            score(text)
        count += len(messages)
    return count / (time.perf_counter() - wall), count / (time.process_time() - cpu)


def best_of(text: str, repeats: int, score) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        score(text)
        best = min(best, time.process_time() - started)
    return best


def exactly(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per throughput figure")
    parser.add_argument("--scorer", choices=("lexicon", "learned", "both"), default="both")
    args = parser.parse_args()
    default_cues()  # compile once, outside the timings
    assess_learned("load the model once, outside the timings")
    with EVAL_SET.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh if line.strip()]
    typical = [t for t in texts if len(t) < 300]
    with_cues = [t for t in typical if assess(t).cues]
    without = [t for t in typical if not assess(t).cues]
    mean_length = sum(map(len, typical)) / len(typical)
    calibration = calibration_rate()
    print(f"Calibration: {calibration:,.0f} loops per CPU second on this machine")
    print(f"Typical messages: {len(typical)} distinct, mean {mean_length:.0f} chars")
    names = list(SCORERS) if args.scorer == "both" else [args.scorer]
    for name in names:
        score, target = SCORERS[name], TARGETS[name]
        print(f"\n{name} score (target >= {target:,} typical messages per CPU second)")
        for group, messages in (
            ("all", typical),
            (f"with cues ({len(with_cues)})", with_cues),
            (f"without cues ({len(without)})", without),
        ):
            wall, cpu = rates(messages, args.seconds, score)
            verdict = "OK" if min(wall, cpu) >= target else "below target"
            print(
                f"  {group:<20} {wall:>8,.0f} messages/s wall clock, {cpu:>8,.0f} per CPU "
                f"second ({cpu / calibration:.3f} per calibration loop) {verdict}"
            )
        length_scaling(score)
    return 0


def length_scaling(score) -> None:
    print(f"  Length scaling: the same text at exactly {SHORT:,} and {LONG:,} characters")
    with EVAL_SET.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh if line.strip()]
    typical = [t for t in texts if len(t) < 300]
    units = {
        "friendly chat": exactly(" ".join(t for t in typical if not assess(t).cues), SHORT),
        "chat with many cues": exactly(" ".join(t for t in typical if assess(t).cues), SHORT),
        **{name: exactly(unit, SHORT) for name, unit in HOSTILE.items()},
    }
    worst = 0.0
    for name, unit in units.items():
        long = unit * (LONG // SHORT)
        assert len(unit) == SHORT and len(long) == LONG
        t_short, t_long = best_of(unit, 200, score), best_of(long, 20, score)
        ratio = t_long / t_short
        worst = max(worst, ratio)
        print(
            f"    {name:<22} {SHORT:,} chars {t_short * 1e6:8.1f} us   "
            f"{LONG:,} chars {t_long * 1e3:7.2f} ms   ratio {ratio:6.1f}x"
        )
    verdict = "OK (linear)" if worst <= MAX_RATIO else "TOO HIGH"
    print(f"    worst ratio: {worst:.1f}x (target about 100x or less) {verdict}")


if __name__ == "__main__":
    raise SystemExit(main())
