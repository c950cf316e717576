"""What scraping ``GET /metrics`` every second costs the acknowledgements.

The paced load of ``bench/ack_latency.py`` (50 clients in two processes, ~200 req/s, the fake
Slack answering in 300 ms) against one ``rapport run``, in rounds that alternate between no
scraping and a scrape every second, so a drift in the machine's speed weighs on both alike.
Prints each round's p99 ack latency, the p99 of each condition's pooled latencies and their
difference. Target: scraping adds < 5 ms to p99.

    python bench/metrics_scrape.py [--rounds 2] [--seconds 10]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import urllib.request
from functools import partial

from ack_latency import prepare_database, request_bodies
from calibration import calibration_rate
from harness import load, percentile, start_rapport

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="of each condition")
    parser.add_argument("--seconds", type=float, default=10.0, help="per round")
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
    try:
        print(f"calibration: {calibration:,.0f} loops per CPU second")
        for number in range(args.rounds * 2):
            scraping = number % 2 == 1
            requests = partial(request_bodies, f"r{number}")
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
            p99 = percentile(result.latencies, 99) * 1000
            rate = len(result.latencies) / result.elapsed
            condition = "scraped every second" if scraping else "not scraped"
            print(f"- round {number + 1}, {condition}: {rate:.0f} req/s, p99 {p99:.1f} ms{note}")
            time.sleep(3)  # the deferred views.open calls of the round finish
        quiet, scraped = (percentile(pooled[c], 99) * 1000 for c in (False, True))
        difference = scraped - quiet
        verdict = "met" if difference < TARGET_MS else "NOT met"
        print(f"p99 not scraped {quiet:.1f} ms, scraped {scraped:.1f} ms")
        print(f"difference {difference:+.1f} ms (target < {TARGET_MS:.0f} ms: {verdict})")
    finally:
        server.stop()
        fake.stop()


if __name__ == "__main__":
    main()
