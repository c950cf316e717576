"""A fixed CPU workload timed in the benchmark's own process. Machines of the same kind can
differ by 2x or more; printing each figure beside this rate, and as a ratio to it, tells a
slower machine from slower code."""

from __future__ import annotations

import json
import re
import time

_WORDS = re.compile(r"[a-z]+")
_SAMPLE = {
    "text": "Please be advised that the weekly report is due on Friday.",
    "n": list(range(40)),
}


def _one_loop() -> int:
    encoded = json.dumps(_SAMPLE)
    words = _WORDS.findall(json.loads(encoded)["text"].lower())
    return len(sorted(words)) + sum(i * i for i in range(200))


def calibration_rate(seconds: float = 1.0) -> float:
    """Loops of the fixed workload per CPU second, on one core."""
    for _ in range(200):  # warm up
        _one_loop()
    count = 0
    started = time.process_time()
    while (elapsed := time.process_time() - started) < seconds:
        for _ in range(100):
            _one_loop()
        count += 100
    return count / elapsed
