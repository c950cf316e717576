"""Prometheus metrics: what the bot is doing, for ``GET /metrics``.

Every process records into ``instruments()``. One process keeps them in memory. The web
workers of ``--workers`` and their parent (the scheduler of ``rapport run``) share them
through ``prometheus_client``'s multiprocess mode: each writes its own files in
``PROMETHEUS_MULTIPROC_DIR`` and a scrape, answered by any worker, adds them up. That mode is
chosen when ``prometheus_client`` is first imported, so the instruments are made on first
use, never at import, and ``share_between_processes`` must run before that.

Labels are bounded: request kinds are Slack's payload types and the app's slash commands,
Slack calls are Web API method names, sends are the ledger key's kind (``pulse-prompt``).
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import Counter, Gauge, Histogram
    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import Collector

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds: Slack waits 3 s for an ack; most answers take a few milliseconds
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
SCORING_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1)


@dataclass(frozen=True)
class Instruments:
    requests: Histogram  # every HTTP request, by path
    acks: Histogram  # Slack requests until answered (the ack), by kind
    slack_calls: Counter  # Web API calls by method and outcome
    sends: Counter  # scheduled messages through the send ledger, by kind and outcome
    leading: Gauge  # 1 while this process runs the scheduler's jobs
    drift_scoring: Histogram  # seconds to score one message


def share_between_processes() -> str | None:
    """Record metrics in files so that forked workers and their parent add up in one scrape:
    in ``PROMETHEUS_MULTIPROC_DIR`` when the operator set it (prometheus_client reads it on
    import; the operator empties it before starting), else in a new temporary directory,
    returned so the caller removes it on the way out. Call before any metric is recorded."""
    if os.environ.get(MULTIPROCESS_ENV):
        return None
    if "prometheus_client" in sys.modules:
        raise RuntimeError("metrics were recorded before they could be shared between processes")
    directory = tempfile.mkdtemp(prefix="rapport-metrics-")
    os.environ[MULTIPROCESS_ENV] = directory
    return directory


_CREATING = threading.Lock()


def instruments() -> Instruments:
    """The process's metrics, made on first use: under a lock, since the first scheduled
    sends to many workspaces ask for them from many threads at once, and making them twice
    would register each metric twice."""
    with _CREATING:
        return _instruments()


@functools.cache
def _instruments() -> Instruments:
    from prometheus_client import Counter, Gauge, Histogram

    return Instruments(
        requests=Histogram(
            "rapport_http_request_seconds",
            "HTTP requests served, by path, in seconds until the answer was ready.",
            ["path"],
            buckets=ACK_BUCKETS,
        ),
        acks=Histogram(
            "rapport_slack_ack_seconds",
            "Slack requests (commands, actions, views, events) until acknowledged, by kind.",
            ["kind"],
            buckets=ACK_BUCKETS,
        ),
        slack_calls=Counter(
            "rapport_slack_calls",
            "Slack Web API calls, by method and outcome (ok, ratelimited, error).",
            ["method", "outcome"],
        ),
        sends=Counter(
            "rapport_scheduled_sends",
            "Scheduled messages through the send ledger, by kind and outcome "
            "(sent, failed, duplicate, retry).",
            ["kind", "outcome"],
        ),
        leading=Gauge(
            "rapport_scheduler_leading",
            "1 while this process runs the scheduled jobs (exactly one should, per database).",
            multiprocess_mode="livemax",
        ),
        drift_scoring=Histogram(
            "rapport_drift_scoring_seconds",
            "Seconds to score one channel message for drift.",
            buckets=SCORING_BUCKETS,
        ),
    )


@contextmanager
def timed(observe: Callable[[float], None]) -> Iterator[None]:
    """``with timed(histogram.labels(kind=…).observe):`` records the block's duration."""
    started = perf_counter()
    try:
        yield
    finally:
        observe(perf_counter() - started)


def exposition(*collectors: Collector) -> bytes:
    """Every metric in Prometheus' text format (see ``Scrape``)."""
    from prometheus_client import generate_latest

    return generate_latest(Scrape(collectors))


def serve(port: int, *collectors: Collector) -> None:
    """Answer ``GET /metrics`` on ``port`` from a thread: for ``rapport scheduler``, which
    serves nothing else."""
    from prometheus_client import start_http_server

    start_http_server(port, registry=Scrape(collectors))


class Scrape:
    """What one scrape shows: this process's metrics, or with multiprocess mode every
    process's, then ``collectors`` read at scrape time (the ledger backlog)."""

    def __init__(self, collectors: tuple[Collector, ...]) -> None:
        self._collectors = collectors
        instruments()  # every metric shows from the first scrape

    def collect(self) -> Iterator[Metric]:
        from prometheus_client import REGISTRY, multiprocess

        if os.environ.get(MULTIPROCESS_ENV):
            yield from multiprocess.MultiProcessCollector(None).collect()
        else:
            yield from REGISTRY.collect()
        for collector in self._collectors:
            yield from collector.collect()
