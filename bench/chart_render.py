"""Health chart drawing: time per chart on one core, and the renderer's memory over 1,000
drawings (it must not grow).

Run from the repository root:  python bench/chart_render.py [--renders 1000]

First a calibration loop (``bench/calibration.py``) is timed in the same process, pinned to
one core like everything after it; each time is printed beside it as the number of
calibration loops it equals, so a slower machine shows as slower calibration, not as a miss.
Then each of the four charts (12 weeks, a gap of missing weeks in each) is drawn 30 times:
CPU milliseconds per drawing, best, median and worst (target < 300 ms). Then ``--renders``
drawings in turn, the process's resident memory read every quarter: after the first 100
(matplotlib's font and text caches filled) it must stay flat.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.calibration import calibration_rate
from bot.health.charts import (
    PulsePoint,
    WeeklyPoint,
    adherence_chart,
    formal_share_chart,
    index_chart,
    pulse_chart,
)
from matplotlib.figure import Figure

TARGET_MS = 300
WARM_UP = 100  # drawings before memory is measured: caches fill, then it must stay flat
MAX_GROWTH_MB = 2.0  # allowed for allocator noise
TIMED = 30


def charts(seed: int = 0) -> dict:
    """The four charts over 12 weeks; ``seed`` shifts the figures so caches can't help."""
    weeks = [date(2025, 12, 8) + timedelta(weeks=n) for n in range(12)]
    shift = seed % 7

    def weekly(values):
        return [WeeklyPoint(week, value) for week, value in zip(weeks, values, strict=True)]

    return {
        "index": index_chart(
            weekly([None if n in (3, 9) else 50 + (n * 7 + shift) % 40 for n in range(12)])
        ),
        "pulse": pulse_chart(
            [
                PulsePoint(week, None if n == 4 else 2 + (n + shift) % 3, 3.5 + 0.1 * (n % 4))
                for n, week in enumerate(weeks)
            ]
        ),
        "adherence": adherence_chart(weekly([None] * 3 + [(n + shift) % 5 / 4 for n in range(9)])),
        "formal share": formal_share_chart(
            weekly([0.05 * ((n + shift) % 6) if n != 6 else None for n in range(12)])
        ),
    }


def resident_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def time_charts(calibration: float) -> bool:
    print(f"\nCPU time per drawing, {TIMED} drawings each (target < {TARGET_MS} ms)")
    worst_seen = 0.0
    for name, chart in charts().items():
        chart.render_png()  # the first drawing loads fonts
        times = []
        for _ in range(TIMED):
            started = time.process_time()
            chart.render_png()
            times.append((time.process_time() - started) * 1000)
        median, worst = statistics.median(times), max(times)
        worst_seen = max(worst_seen, worst)
        loops = median / 1000 * calibration
        print(
            f"  {name:<13} best {min(times):6.1f} ms   median {median:6.1f} ms   "
            f"worst {worst:6.1f} ms   (median = {loops:,.0f} calibration loops)"
        )
    ok = worst_seen < TARGET_MS
    print(f"  worst {worst_seen:.1f} ms: {'OK' if ok else 'ABOVE TARGET'}")
    return ok


def watch_memory(renders: int) -> bool:
    print(f"\nResident memory over {renders:,} drawings (the four charts in turn)")
    drawn, readings = 0, []
    started = time.perf_counter()
    while drawn < renders:
        for chart in charts(drawn).values():
            chart.render_png()
            drawn += 1
            if drawn == WARM_UP or (drawn > WARM_UP and drawn % (renders // 4) == 0):
                readings.append((drawn, resident_mb()))
    elapsed = time.perf_counter() - started
    for count, mb in readings:
        print(f"  after {count:>5,} drawings: {mb:7.1f} MB")
    growth = readings[-1][1] - readings[0][1]
    gc.collect()
    alive = sum(isinstance(thing, Figure) for thing in gc.get_objects())
    ok = growth <= MAX_GROWTH_MB and alive == 0
    print(
        f"  growth after warm-up {growth:+.1f} MB (allowed {MAX_GROWTH_MB} MB), figures alive "
        f"{alive}, {renders / elapsed:.1f} drawings/s wall clock: {'OK' if ok else 'GROWING'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=1000)
    args = parser.parse_args()
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    calibration = calibration_rate()
    print(f"Calibration: {calibration:,.0f} loops per CPU second on this machine (core {core})")
    timed = time_charts(calibration)
    flat = watch_memory(args.renders)
    return 0 if timed and flat else 1


if __name__ == "__main__":
    raise SystemExit(main())
