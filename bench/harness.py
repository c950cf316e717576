"""Shared machinery for the HTTP benchmarks: real ``rapport`` processes talking to the fake
Slack, and load-generator processes sending signed requests to them."""

from __future__ import annotations

import http.client
import itertools
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.services import DATABASE_DOWN, SORRY
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SIGNING_SECRET, sign

# a 200 whose body is one of these is a failure the app apologised for, not a success
ERROR_REPLIES = (SORRY.encode(), DATABASE_DOWN.encode())


class ResponseUrls:
    """Response URLs pointing at the fake Slack, as Slack puts them in every payload."""

    def __init__(self, api_url: str):
        self._base = api_url.removesuffix("/api/")
        self._ids = itertools.count(1)

    def response_url(self, name: str) -> str:
        """A new one each time, also across load-generator processes (five replies each)."""
        return f"{self._base}/response/{name}-{os.getpid()}-{next(self._ids)}"


# (response urls, client number, request number) -> (body, content type); must be a
# module-level function so load-generator processes can receive it
RequestMaker = Callable[[ResponseUrls, int, int], tuple[str, str]]


@dataclass
class LoadResult:
    samples: list[tuple[float, float]]  # (sent at, time.monotonic(); latency), seconds
    errors: list
    elapsed: float

    @property
    def latencies(self) -> list[float]:
        return [latency for _, latency in self.samples]


def signed_headers(body: str, content_type: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(body, timestamp),
    }


def client_loop(
    url: str,
    make_request: RequestMaker,
    urls: ResponseUrls,
    client_no: int,
    stop_at: float,
    interval: float,
    samples: list[tuple[float, float]],
    errors: list,
) -> None:
    """Send requests until ``stop_at``; with ``interval`` > 0, one every ``interval`` seconds.
    Each answered request adds (when it was sent, on the machine-wide monotonic clock; its
    latency) to ``samples``."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    n = 0
    next_send = time.monotonic() + interval * (client_no % 10) / 10  # spread the starts
    while time.monotonic() < stop_at:
        if interval:
            time.sleep(max(0.0, next_send - time.monotonic()))
            next_send += interval
        body, content_type = make_request(urls, client_no, n)
        sent_at, started = time.monotonic(), time.perf_counter()
        try:
            connection.request("POST", "/slack/events", body, signed_headers(body, content_type))
            response = connection.getresponse()
            body = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            errors.append(repr(error))
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            continue
        samples.append((sent_at, time.perf_counter() - started))
        if status != 200:
            errors.append(status)
        elif any(reply in body for reply in ERROR_REPLIES):
            errors.append(body.decode(errors="replace")[:200])
        n += 1
    connection.close()


def _client_process(
    urls: Sequence[str],
    api_url: str,
    make_request: RequestMaker,
    first: int,
    count: int,
    seconds: float,
    interval: float,
) -> tuple[list[tuple[float, float]], list]:
    samples: list[tuple[float, float]] = []
    errors: list = []
    stop_at = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=client_loop,
            args=(
                urls[(first + i) % len(urls)],  # round-robin, as a load balancer would
                make_request,
                ResponseUrls(api_url),
                first + i,
                stop_at,
                interval,
                samples,
                errors,
            ),
        )
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples, errors


def load(
    url: str | Sequence[str],
    api_url: str,
    make_request: RequestMaker,
    *,
    clients: int,
    processes: int,
    seconds: float,
    interval: float,
) -> LoadResult:
    """``clients`` concurrent clients spread over ``processes`` load-generator processes;
    given several URLs, clients take turns between them, as behind a load balancer."""
    urls = [url] if isinstance(url, str) else list(url)
    per_process = [clients // processes] * processes
    per_process[0] += clients - sum(per_process)
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=processes) as pool:
        futures = [
            pool.submit(
                _client_process,
                urls,
                api_url,
                make_request,
                sum(per_process[:i]),
                n,
                seconds,
                interval,
            )
            for i, n in enumerate(per_process)
        ]
        results = [future.result() for future in futures]
    return LoadResult(
        samples=[sample for samples, _ in results for sample in samples],
        errors=[value for _, errors in results for value in errors],
        elapsed=time.monotonic() - started,
    )


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def report(
    title: str, result: LoadResult, target_ms: float | None = None, unit: str = "req"
) -> None:
    latencies = result.latencies
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    print(f"- {title}")
    print(
        f"  acknowledged {len(latencies)}, {len(latencies) / result.elapsed:.0f} {unit}/s, "
        f"errors: {len(result.errors)}"
    )
    print(f"  ack latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(latencies) * 1000:.1f} ms")
    if target_ms is not None:
        verdict = "met" if p99 < target_ms else "NOT met"
        print(f"  p99 / {target_ms:.0f} ms target = {p99 / target_ms:.2f} ({verdict})")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _process_table() -> dict[int, tuple[int, float]]:
    """Every process's parent and CPU seconds so far, from /proc (Linux)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        table[int(entry.name)] = (int(fields[1]), used)
    return table


def _in_tree(pid: int, root: int, table: dict[int, tuple[int, float]]) -> bool:
    while pid not in (root, 0, 1):
        pid = table.get(pid, (0, 0.0))[0]
    return pid == root


def tree_pids(root: int) -> list[int]:
    """``root`` and all its descendants (a web server and its workers)."""
    table = _process_table()
    return [pid for pid in table if _in_tree(pid, root, table)]


def tree_cpu_seconds(root: int) -> float:
    """CPU time used by a process and all its descendants (the web server and its workers)."""
    table = _process_table()
    return sum(used for pid, (_, used) in table.items() if _in_tree(pid, root, table))


@dataclass
class RapportProcess:
    role: str  # "run", "web" or "scheduler"
    popen: subprocess.Popen
    url: str | None  # None for a scheduler, which serves nothing

    def rss_mib(self) -> float:
        """Resident memory now of the process and its web server's processes, added up (the
        pages forked processes share counted in each), from /proc (Linux)."""
        total = 0
        for pid in tree_pids(self.popen.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += int(next(line.split()[1] for line in status.splitlines() if "VmRSS:" in line))
        return total / 1024

    def cpu_seconds(self) -> float:
        """User and system CPU time the process and its web server's processes used so far."""
        return tree_cpu_seconds(self.popen.pid)

    def stop(self) -> None:
        self.popen.terminate()
        self.popen.wait(timeout=60)


def start_rapport(
    role: str,
    fake: FakeSlack,
    database_url: str,
    workdir: str,
    log=subprocess.DEVNULL,
    args: tuple[str, ...] = (),
    prefix: tuple[str, ...] = (),
    **env,
) -> RapportProcess:
    """A real ``rapport <role> [args]`` talking to ``fake``; one that serves HTTP gets a free
    port and is waited for until healthy. ``log`` takes its stderr; ``env`` adds settings;
    ``prefix`` runs it under another command (``taskset -c 0``)."""
    port = free_port()
    popen = subprocess.Popen(
        [*prefix, sys.executable, "-m", "bot", role, *args],
        cwd=workdir,
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": database_url,
            "PORT": str(port),
            "LOG_LEVEL": "ERROR",
            **env,
        },
        stderr=log,
    )
    process = RapportProcess(
        role, popen, None if role == "scheduler" else f"http://127.0.0.1:{port}"
    )
    deadline = time.monotonic() + 60
    while process.url is not None:
        try:
            with urllib.request.urlopen(f"{process.url}/healthz", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline or popen.poll() is not None:
                process.stop()
                raise SystemExit(f"rapport {role} never became healthy") from None
            time.sleep(0.2)
    return process


@contextmanager
def rapport_process(fake: FakeSlack, database_url: str, workdir: str) -> Iterator[str]:
    """A real ``rapport run`` on a free port; yields its base URL, stops it on exit."""
    process = start_rapport("run", fake, database_url, workdir)
    try:
        yield process.url
    finally:
        process.stop()
