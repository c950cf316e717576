"""What the learned drift model costs ``rapport run`` at start-up: load time and memory.

Run from the repository root:  python bench/drift_model_load.py [--runs 3]

Each run is a fresh Python process that imports what ``rapport run`` imports and compiles the
default cues (start-up did both before the model), then loads the model the way start-up
does (``bot.drift.domain.load_model``: WordLlama, its embeddings and tokenizer, the weights,
one message scored). Printed per run: the load's wall-clock seconds, and the resident memory
before and after it; the growth, plus what importing numpy takes (Rapport needs numpy for
the model only), is what the model adds to a Rapport process. A calibration loop
(``bench/calibration.py``) is timed first, so a slower machine shows as slower calibration.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.calibration import calibration_rate

MAX_LOAD_SECONDS = 0.5  # on an idle machine of this kind, which calibrates at about
REFERENCE_RATE = 60_000  # loops/s: the target in loops, so a busy or slow machine isn't a miss
MAX_LOAD_LOOPS = MAX_LOAD_SECONDS * REFERENCE_RATE
MAX_GROWTH_MB = 150

_CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])

def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

bare = rss_mb()
import numpy  # the model brought numpy into Rapport: its share counts as the model's
with_numpy = rss_mb()
import bot.cli  # everything rapport run imports
from bot.drift.domain import default_cues, load_model

default_cues()  # compiled at start-up with or without the model
before = rss_mb()
started = time.perf_counter()
load_model()
seconds = time.perf_counter() - started
after = rss_mb()
figures = {"seconds": seconds, "numpy": with_numpy - bare, "before": before, "after": after}
print(json.dumps(figures))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rate = calibration_rate()
    print(f"calibration: {rate:,.0f} loops/s")
    for run in range(1, args.runs + 1):
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(ROOT)], capture_output=True, text=True, check=True
        )
        figures = json.loads(done.stdout)
        seconds = figures["seconds"]
        growth = figures["numpy"] + figures["after"] - figures["before"]
        loops = seconds * rate
        print(
            f"run {run}: model loaded in {seconds:.2f} s = {loops / 1000:,.1f} thousand "
            f"calibration loops (target {MAX_LOAD_LOOPS / 1000:,.0f} thousand: "
            f"{MAX_LOAD_SECONDS} s at {REFERENCE_RATE:,} loops/s) "
            f"{_verdict(loops, MAX_LOAD_LOOPS)}; "
            f"resident memory {figures['before']:.0f} -> {figures['after']:.0f} MB, "
            f"with numpy's {figures['numpy']:.0f} MB +{growth:.0f} MB "
            f"(target +{MAX_GROWTH_MB} MB) {_verdict(growth, MAX_GROWTH_MB)}"
        )


def _verdict(figure: float, limit: float) -> str:
    return "ok" if figure <= limit else "MISSED"


if __name__ == "__main__":
    main()
