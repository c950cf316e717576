"""Throughput of drift scoring on one core, and how its cost grows with message length.

Run from the repository root:  python bench/drift_throughput.py

Prints messages/second over typical chat messages (< 300 characters, taken from the
evaluation set) and the time for a 40,000-character message against a 400-character
one built from the same text. Linear scoring gives a ratio near 100; catastrophic regex
backtracking would give thousands.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.drift import MAX_CUES, assess, default_cues

EVAL_SET = ROOT / "tests" / "data" / "drift_eval.jsonl"
TARGET_PER_SECOND = 20_000
MAX_RATIO = 100 * 1.2  # 100x the length may cost a little over 100x the time

# Long-message shapes: ordinary text dense with cues, and inputs that tend to trip up
# regular expressions (unclosed markup, repeated prefixes of cue phrases, long words).
SHAPES = {
    "friendly chat": None,  # filled from the evaluation set: no cues, full scan
    "chat with many cues": None,  # stops early after MAX_CUES distinct cues
    "unclosed '<' markup": "<",
    "unclosed backticks": "`",
    "colon runs": ":ab",
    "repeated 'per the '": "per the ",
    "repeated 'no '": "no ",
    "repeated 'escalate '": "escalate ",
    "one very long word": "a",
}


def _best_of(text: str, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        assess(text)
        best = min(best, time.perf_counter() - started)
    return best


def throughput(messages: list[str], seconds: float = 3.0) -> float:
    for text in messages:  # warm up
        assess(text)
    count = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for text in messages:
            assess(text)
        count += len(messages)
    return count / elapsed


def main() -> int:
    default_cues()  # compile once, outside the timings
    with EVAL_SET.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh if line.strip()]
    typical = [t for t in texts if len(t) < 300]
    mean_length = sum(map(len, typical)) / len(typical)

    rate = throughput(typical)
    verdict = "OK" if rate >= TARGET_PER_SECOND else "BELOW TARGET"
    print(f"Typical messages: {len(typical)} distinct, mean {mean_length:.0f} chars")
    print(
        f"  throughput: {rate:,.0f} messages/second on one core "
        f"(target >= {TARGET_PER_SECOND:,}) {verdict}"
    )

    print("\nLength scaling: 40,000 chars vs 400 chars (linear = about 100x)")
    samples = {
        "friendly chat": " ".join(t for t in texts if not assess(t).cues),
        "chat with many cues": " ".join(t for t in texts if assess(t).cues),
    }
    worst = 0.0
    for name, unit in SHAPES.items():
        source = samples[name] if unit is None else unit * 40_000
        short, long = source[:400], source[:40_000]
        t_short = _best_of(short, 200)
        t_long = _best_of(long, 5)
        ratio = t_long / t_short
        worst = max(worst, ratio)
        print(
            f"  {name:<22} 400 chars {t_short * 1e6:8.1f} us   "
            f"40,000 chars {t_long * 1e3:7.2f} ms   ratio {ratio:6.1f}x"
        )
    verdict = "OK (linear)" if worst <= MAX_RATIO else "TOO HIGH"
    print(f"  worst ratio: {worst:.1f}x (limit about 100x) {verdict}")
    print(
        f"  (cue collection stops after {MAX_CUES} distinct cues, so cue-dense text "
        "grows slower than linear)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
