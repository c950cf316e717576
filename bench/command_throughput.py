"""How many of each slash command one ``rapport run`` acknowledges per second.

ApacheBench (``ab``, from Debian's apache2-utils: a C program in its own process, so the load
costs the server's cores as little as possible) sends one signed command at a time from 50
concurrent keep-alive connections, closed loop, for ``--seconds`` per command. A signed body
stays valid for five minutes, which is all ab needs. The fake Slack answers every Web API
call in 300 ms (the calls some commands make after their ack: ``views.open`` for a modal,
``users.info`` for a time zone, replies through the response URL).
Prints, per command, requests per second, p50/p99 ack latency, failures, acks that answered
otherwise than the first (``/rapport health`` answering in the ack with figures worked out
moments before, or asking to try again when too many reports wait), replies through the
response URL, and the server's CPU per request, beside the
calibration loop. That CPU includes the work each command leaves
for after its ack (a modal to open, a reply through the response URL): it is read once the
server's CPU has settled after the run, so work still queued then counts too. With
``--workers N``, ``rapport run --workers N`` serves, and its workers' CPU is added up. SQLite
by default; ``--database-url`` names an empty database instead (PostgreSQL, as in production).
``--cpus 0`` runs the server on those cores only (``taskset -c``), as an operator may pin it.
Commands are typed in the shared channel the relationship watches; ``--typed-in dm``, in a
direct message with the bot, where the relationship is found as the person's only one.
Targets: ≥ 1,000 req/s for every command on a 2-core machine.

    python bench/command_throughput.py [--seconds 10] [--clients 50] [--workers 1]
        [--database-url postgresql+psycopg://…] [--cpus 0] [--typed-in dm] [command …]
    e.g. python bench/command_throughput.py "/rapport help" "/checkin list"
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from ack_latency import prepare_database
from calibration import calibration_rate
from harness import ResponseUrls, signed_headers, start_rapport, tree_cpu_seconds

from sqlalchemy.engine import make_url

from tests.support.fake_slack import TEAM_ID, FakeSlack

COMMANDS = (
    "/rapport help",
    "/rapport list",
    "/rapport show",
    "/rapport setup",
    "/rapport drift",
    "/rapport health",
    "/pulse results",
    "/pulse help",
    "/checkin list",
    "/checkin help",
)
TARGET_PER_SECOND = 1000
# where the commands are typed: the shared channel the benchmark's relationship watches, or
# a direct message with the bot (Slack gives its D… id), where it is the person's only one
TYPED_IN = {"channel": "CSHARED", "dm": "DALICE"}
IDLE_CPU_PER_SECOND = 0.02  # the server counts as settled below this


def body_of(command_line: str, urls: ResponseUrls, typed_in: str = "channel") -> str:
    command, _, text = command_line.partition(" ")
    return urlencode(
        {
            "team_id": TEAM_ID,
            "user_id": "UALICE",  # an owner of the benchmark's relationship
            "channel_id": TYPED_IN[typed_in],
            "command": command,
            "text": text,
            "response_url": urls.response_url("bench"),
            "trigger_id": "1.2.bench",
        }
    )


def run_ab(ab: str, url: str, body_file: Path, clients: int, seconds: float) -> dict[str, float]:
    body = body_file.read_text()
    headers = signed_headers(body, "application/x-www-form-urlencoded")
    out = subprocess.run(
        [
            ab,
            "-k",
            "-q",
            "-c",
            str(clients),
            "-t",
            str(seconds),
            "-n",
            "10000000",
            "-p",
            str(body_file),
            "-T",
            headers["Content-Type"],
            "-H",
            f"X-Slack-Request-Timestamp: {headers['X-Slack-Request-Timestamp']}",
            "-H",
            f"X-Slack-Signature: {headers['X-Slack-Signature']}",
            f"{url}/slack/events",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def figure(pattern: str) -> float:
        found = re.search(pattern, out, re.MULTILINE)
        return float(found.group(1)) if found else float("nan")

    # ab counts an answer of another length than the first as failed ("Length"): for
    # /rapport health, the ack asking to try again when too many reports wait
    other_length = figure(r"Length: (\d+), Exceptions") if ", Length: " in out else 0.0
    failed = figure(r"^Failed requests:\s+(\d+)") - other_length
    return {
        "done": figure(r"^Complete requests:\s+(\d+)"),
        "failed": failed + figure(r"^Non-2xx responses:\s+(\d+)") if "Non-2xx" in out else failed,
        "other_length": other_length,
        "per_second": figure(r"^Requests per second:\s+([\d.]+)"),
        "p50": figure(r"^\s+50%\s+(\d+)"),
        "p99": figure(r"^\s+99%\s+(\d+)"),
    }


def settled_cpu_seconds(pid: int, timeout: float = 60.0) -> float:
    """The CPU the server (and its workers) used so far, once its deferred work is done:
    read when half a second passes with almost no CPU used."""
    deadline = time.monotonic() + timeout
    used = tree_cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        before, used = used, tree_cpu_seconds(pid)
        if used - before < IDLE_CPU_PER_SECOND / 2:
            break
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per command")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="rapport run --workers N")
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    parser.add_argument("--cpus", help="run the server on these cores only (taskset -c)")
    parser.add_argument("--typed-in", choices=sorted(TYPED_IN), default="channel")
    parser.add_argument("commands", nargs="*", default=COMMANDS)
    args = parser.parse_args()
    ab = shutil.which("ab")
    if ab is None:
        sys.exit("ApacheBench is needed: apt-get install apache2-utils")

    calibration = calibration_rate()
    fake = FakeSlack(replayed=True).start()  # one signed body, sent again and again
    fake.delay = 0.3
    fake.add_user("UALICE", tz="Europe/London")  # Slack knows who typed the command
    workdir = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir}/bench.db"
    prepare_database(database_url)
    server = start_rapport(
        "run",
        fake,
        database_url,
        str(workdir),
        args=("--workers", str(args.workers)),
        prefix=("taskset", "-c", args.cpus) if args.cpus else (),
    )
    urls = ResponseUrls(fake.api_url)
    try:
        print(f"calibration: {calibration:,.0f} loops per CPU second")
        print(
            f"rapport run --workers {args.workers} on {make_url(database_url).get_backend_name()}"
            f"{f', cores {args.cpus} only' if args.cpus else ''}; "
            f"{args.clients} keep-alive connections, "
            f"closed loop, {args.seconds:.0f} s each, typed in the {args.typed_in}"
        )
        for command in args.commands:
            body_file = workdir / "body"
            body_file.write_text(body_of(command, urls, args.typed_in))
            cpu = settled_cpu_seconds(server.popen.pid)
            replied = len(fake.calls_to("response_url"))
            called = len(fake.calls)
            result = run_ab(ab, server.url, body_file, args.clients, args.seconds)
            acked = time.monotonic()
            used = settled_cpu_seconds(server.popen.pid) - cpu
            replied = len(fake.calls_to("response_url")) - replied
            late = [call.at - acked for call in fake.calls[called:]]
            per_request = used / max(result["done"], 1) * 1000
            verdict = "met" if result["per_second"] >= TARGET_PER_SECOND else "NOT met"
            otherwise = result["other_length"]
            extra = f", answered otherwise {otherwise:.0f}" if otherwise else ""
            extra += f", {replied} replies through the response URL" if replied else ""
            extra += f", last Slack call {max(late):.1f} s after the last ack" if late else ""
            print(
                f"- {command}: {result['per_second']:.0f} req/s ({verdict}), "
                f"p50 {result['p50']:.0f} ms, p99 {result['p99']:.0f} ms, "
                f"failed {result['failed']:.0f} of {result['done']:.0f}{extra}; "
                f"server CPU {per_request:.2f} ms/request "
                f"= {per_request / 1000 * calibration:,.0f} calibration loops"
            )
    finally:
        server.stop()
        fake.stop()


if __name__ == "__main__":
    main()
