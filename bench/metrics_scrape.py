"""What scraping ``GET /metrics`` every second costs the acknowledgements.

The paced load of ``bench/ack_latency.py`` (50 clients in two processes, ~200 req/s, the fake
Slack answering in 300 ms) against one ``rapport run``. Time is cut into one-second slots; of
each two slots in a row one, drawn at random, is scraped (once, at its start) and the other
is not. A request counts in the slot it was sent in, so the requests of a scraped slot meet
what scraping every second gives every second, one scrape, and the others none. The two kinds
of slot alternate second by second, so whatever else the machine is doing weighs on both
alike; rounds of their own, one scraped and one not, tens of seconds apart, could not promise
that (a round's p99 moved by tens of milliseconds by itself). Each run gives the p99 of its
scraped slots' requests minus that of the others; the figure is the median over ``--runs``
runs with the margin of a box plot's notch, and the verdict is "can't tell" while that margin
straddles the target. Also prints what a scrape costs the server directly: its CPU per
scrape, measured while nothing else runs, after the load, when the metrics have every label
they will have. Target: scraping adds < 5 ms to p99.

    python bench/metrics_scrape.py [--runs 8] [--seconds 20]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import tempfile
import threading
import time
import urllib.request
from functools import partial

from ack_latency import prepare_database, request_bodies
from calibration import calibration_rate
from harness import LoadResult, RapportProcess, load, percentile, start_rapport

from tests.support.fake_slack import FakeSlack

TARGET_MS = 5.0


SLOT = 1.0  # seconds
LEAD = 1.5  # seconds for the load's processes to start before the first slot


class SlotScraper:
    """Scrapes ``/metrics`` at the start of each slot ``plan`` marks, in a thread."""

    def __init__(self, url: str, start: float, plan: list[bool]):
        self.url, self.start, self.plan = url, start, plan
        self.scrapes, self.seconds = 0, 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SlotScraper:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._thread.join()

    def _run(self) -> None:
        for slot, scraped in enumerate(self.plan):
            time.sleep(max(0.0, self.start + slot * SLOT - time.monotonic()))
            if scraped:
                started = time.perf_counter()
                with urllib.request.urlopen(f"{self.url}/metrics", timeout=10) as answer:
                    answer.read()
                self.seconds += time.perf_counter() - started
                self.scrapes += 1


def slot_plan(slots: int, rng: random.Random) -> list[bool]:
    """Which slots are scraped: one of each two in a row, drawn at random."""
    plan = []
    for _ in range(slots // 2):
        pair = [True, False]
        rng.shuffle(pair)
        plan += pair
    return plan


def by_slot(result: LoadResult, start: float, plan: list[bool]) -> dict[bool, list[float]]:
    """The latencies of the requests sent in scraped slots (True) and in the others."""
    found: dict[bool, list[float]] = {True: [], False: []}
    for sent_at, latency in result.samples:
        slot = math.floor((sent_at - start) / SLOT)
        if 0 <= slot < len(plan):  # the lead-in's requests don't count
            found[plan[slot]].append(latency)
    return found


def median_margin(values: list[float]) -> float:
    """About a 95% confidence half-width for the median of ``values``: 1.57 x IQR / sqrt(n),
    the notch of a box plot (McGill, Tukey and Larsen, 1978)."""
    if len(values) < 2:
        return float("inf")
    low, _, high = statistics.quantiles(values, n=4)
    return 1.57 * (high - low) / len(values) ** 0.5


def scrape_cpu_ms(server: RapportProcess, scrapes: int = 50) -> tuple[float, int]:
    """Server CPU per scrape of an otherwise idle server, and the lines a scrape returns."""
    time.sleep(3)  # the deferred views.open calls of the load finish
    cpu = server.cpu_seconds()
    for _ in range(scrapes):
        with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as answer:
            lines = len(answer.read().splitlines())
    return (server.cpu_seconds() - cpu) / scrapes * 1000, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=20, help="slots per run, one second each")
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()

    calibration = calibration_rate()
    fake = FakeSlack().start()
    fake.delay = 0.3
    workdir = tempfile.mkdtemp(prefix="rapport-bench-")
    database_url = f"sqlite:///{workdir}/bench.db"
    prepare_database(database_url)
    server = start_rapport("run", fake, database_url, workdir)
    rng = random.Random(15)
    pooled: dict[bool, list[float]] = {True: [], False: []}
    differences = []
    try:
        print(f"calibration: {calibration:,.0f} loops per CPU second")
        for run in range(args.runs):
            plan = slot_plan(args.seconds, rng)
            start = time.monotonic() + LEAD
            requests = partial(request_bodies, f"r{run}")
            with SlotScraper(server.url, start, plan) as scraper:
                result = load(
                    server.url,
                    fake.api_url,
                    requests,
                    clients=args.clients,
                    processes=2,
                    seconds=LEAD + len(plan) * SLOT,
                    interval=0.25,
                )
            found = by_slot(result, start, plan)
            p99 = {scraped: percentile(found[scraped], 99) * 1000 for scraped in found}
            for scraped in found:
                pooled[scraped] += found[scraped]
            differences.append(p99[True] - p99[False])
            rate = sum(map(len, found.values())) / (len(plan) * SLOT)
            took = scraper.seconds / max(scraper.scrapes, 1) * 1000
            print(
                f"- run {run + 1}: {rate:.0f} req/s; p99 in scraped slots {p99[True]:.1f} ms, "
                f"in the others {p99[False]:.1f} ms ({differences[-1]:+.1f} ms); "
                f"{scraper.scrapes} scrapes of {took:.1f} ms each"
            )
            time.sleep(2)  # the deferred views.open calls of the run finish
        scraped, quiet = (percentile(pooled[c], 99) * 1000 for c in (True, False))
        median = statistics.median(differences)
        low, high = min(differences), max(differences)
        margin = median_margin(differences)
        cpu, lines = scrape_cpu_ms(server)
        if median + margin < TARGET_MS:
            verdict = "met"
        elif median - margin >= TARGET_MS:
            verdict = "NOT met"
        else:
            verdict = "can't tell at this noise: more runs, or a quieter machine"
        print(
            f"pooled p99: scraped slots {scraped:.1f} ms, the others {quiet:.1f} ms "
            f"({scraped - quiet:+.1f} ms)"
        )
        print(
            f"p99 difference per run: median {median:+.1f} ± {margin:.1f} ms (target < "
            f"{TARGET_MS:.0f} ms: {verdict}), from {low:+.1f} to {high:+.1f} ms over "
            f"{len(differences)} runs"
        )
        print(
            f"one scrape ({lines} lines) costs the idle server {cpu:.2f} ms of CPU "
            f"= {cpu / 1000 * calibration:,.0f} calibration loops"
        )
    finally:
        server.stop()
        fake.stop()


if __name__ == "__main__":
    main()
