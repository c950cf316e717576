"""What scraping ``GET /metrics`` every second costs the acknowledgements.

The paced load of ``bench/ack_latency.py`` (50 clients in two processes, ~200 req/s, the fake
Slack answering in 300 ms) against one ``rapport run``, in pairs of rounds, one without
scraping and one with a scrape every second, the order swapped from pair to pair, so a drift
in the machine's speed (other work on it) weighs on both alike. Each pair gives a difference
of p99 ack latency; the median of those differences is the figure (with their spread, and the
difference of the pooled p99s beside it). On a shared machine one round's p99 moves by tens
of milliseconds, so it takes many pairs to see a few: the median comes with the margin of a
box plot's notch, and the verdict is "can't tell" while that margin straddles the target.
Also prints what a scrape costs the server directly: its CPU per scrape, measured while
nothing else runs, after the load, when the metrics have every label they will have; a
request can wait at most about that long behind one. Target: scraping adds < 5 ms to p99.

    python bench/metrics_scrape.py [--pairs 8] [--seconds 6]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import urllib.request
from functools import partial

from ack_latency import prepare_database, request_bodies
from calibration import calibration_rate
from harness import RapportProcess, load, percentile, start_rapport

from tests.support.fake_slack import FakeSlack

TARGET_MS = 5.0


class Scraper:
    """Scrapes ``/metrics`` every ``every`` seconds in a thread until stopped."""

    def __init__(self, url: str, every: float = 1.0):
        self.url, self.every, self.scrapes, self.seconds = url, every, 0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Scraper:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            started = time.perf_counter()
            with urllib.request.urlopen(f"{self.url}/metrics", timeout=10) as answer:
                answer.read()
            self.seconds += time.perf_counter() - started
            self.scrapes += 1


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
    parser.add_argument("--pairs", type=int, default=8, help="of rounds, one of each condition")
    parser.add_argument("--seconds", type=float, default=6.0, help="per round")
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()

    calibration = calibration_rate()
    fake = FakeSlack().start()
    fake.delay = 0.3
    workdir = tempfile.mkdtemp(prefix="rapport-bench-")
    database_url = f"sqlite:///{workdir}/bench.db"
    prepare_database(database_url)
    server = start_rapport("run", fake, database_url, workdir)
    pooled: dict[bool, list[float]] = {False: [], True: []}
    differences = []
    try:
        print(f"calibration: {calibration:,.0f} loops per CPU second")
        for pair in range(args.pairs):
            p99 = {}
            for scraping in (pair % 2 == 1, pair % 2 == 0):  # the order swapped each pair
                requests = partial(request_bodies, f"p{pair}{int(scraping)}")
                common = {"clients": args.clients, "processes": 2, "seconds": args.seconds}
                if scraping:
                    with Scraper(server.url) as scraper:
                        result = load(server.url, fake.api_url, requests, interval=0.25, **common)
                    took = scraper.seconds / max(scraper.scrapes, 1) * 1000
                    note = f", {scraper.scrapes} scrapes of {took:.1f} ms each"
                else:
                    result = load(server.url, fake.api_url, requests, interval=0.25, **common)
                    note = ""
                pooled[scraping] += result.latencies
                p99[scraping] = percentile(result.latencies, 99) * 1000
                rate = len(result.latencies) / result.elapsed
                condition = "scraped every second" if scraping else "not scraped"
                print(
                    f"- pair {pair + 1}, {condition}: {rate:.0f} req/s, "
                    f"p99 {p99[scraping]:.1f} ms{note}"
                )
                time.sleep(2)  # the deferred views.open calls of the round finish
            differences.append(p99[True] - p99[False])
        quiet, scraped = (percentile(pooled[c], 99) * 1000 for c in (False, True))
        median = statistics.median(differences)
        low, high = min(differences), max(differences)
        margin = median_margin(differences)
        cpu, lines = scrape_cpu_ms(server)
        if median + margin < TARGET_MS:
            verdict = "met"
        elif median - margin >= TARGET_MS:
            verdict = "NOT met"
        else:
            verdict = "can't tell at this noise: more pairs, or a quieter machine"
        print(
            f"pooled p99: not scraped {quiet:.1f} ms, scraped {scraped:.1f} ms "
            f"({scraped - quiet:+.1f} ms)"
        )
        print(
            f"p99 difference per pair: median {median:+.1f} ± {margin:.1f} ms (target < "
            f"{TARGET_MS:.0f} ms: {verdict}), from {low:+.1f} to {high:+.1f} ms over "
            f"{len(differences)} pairs"
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
