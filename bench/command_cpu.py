"""What one slash command costs the app itself, without the HTTP server or sockets: CPU per request
calling the WSGI app in-process, from one thread and from several at once, with the
context switches each request caused.

Alone, a request's CPU is the app's own work; from 8 threads at once it also pays
for the interpreter lock changing hands, which SQLite's driver releases around every step
of every statement. The gap between the two is what each statement costs under load, and
why ``bench/command_throughput.py`` sees more CPU per request than this. Work left for
after the ack runs in the request's thread and counts; the fake Slack answers at once, in
this process, so a command that calls Slack also counts the fake's side of the call.

    python bench/command_cpu.py [--requests 3000] [--threads 8] [--database-url …]
        [--typed-in dm] [command …]

SQLite by default; ``--database-url`` names an empty database instead (PostgreSQL, as in
production, where each statement is also a round trip to the server, whose own CPU is not
counted here). Each command's line also gives the SQL statements one request sends (a
transaction's BEGIN and ROLLBACK, which go straight to the driver, and pings aren't counted).
Commands are typed in the shared channel the relationship watches; ``--typed-in dm``, in a
direct message with the bot.

Instructions are counted the same on a busy machine as on an idle one: under valgrind,
``--callgrind`` sends each command's requests from one thread, between two dumps
(``callgrind_control --dump``), whose totals over ``--requests`` are its instructions a request:

    valgrind --tool=callgrind python bench/command_cpu.py --callgrind --requests 30
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import resource
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future

from ack_latency import prepare_database
from calibration import calibration_rate
from command_throughput import COMMANDS, TYPED_IN, body_of
from harness import ResponseUrls, signed_headers

from bot.app import create_app
from bot.core.db import Database, create_db_engine
from bot.core.settings import Settings
from bot.services import create_services
from bot.web import SLACK_PATH, RapportWsgi
from tests.support.fake_slack import FakeSlack
from tests.support.queries import queries_during
from tests.support.slack_requests import SIGNING_SECRET


def request_of(
    wsgi: RapportWsgi, command_line: str, urls: ResponseUrls, typed_in: str = "channel"
) -> Callable[[], None]:
    """One signed ``command_line`` through the WSGI app, as the HTTP server would hand it over."""
    body = body_of(command_line, urls, typed_in).encode()
    headers = signed_headers(body.decode(), "application/x-www-form-urlencoded")

    def send() -> None:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": SLACK_PATH,
            "QUERY_STRING": "",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": headers["Content-Type"],
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_X_SLACK_REQUEST_TIMESTAMP": headers["X-Slack-Request-Timestamp"],
            "HTTP_X_SLACK_SIGNATURE": headers["X-Slack-Signature"],
            "wsgi.input": io.BytesIO(body),
        }
        statuses = []
        b"".join(wsgi(environ, lambda status, _headers, _exc=None: statuses.append(status)))
        if statuses != ["200 OK"]:
            raise RuntimeError(f"{command_line}: {statuses}")

    return send


def measure(send: Callable[[], None], requests: int, threads: int) -> tuple[float, float]:
    """CPU ms per request and context switches per request, from ``threads`` at once."""

    def work() -> None:
        for _ in range(requests // threads):
            send()

    before, cpu = resource.getrusage(resource.RUSAGE_SELF), time.process_time()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    cpu, after = time.process_time() - cpu, resource.getrusage(resource.RUSAGE_SELF)
    switches = after.ru_nvcsw - before.ru_nvcsw + after.ru_nivcsw - before.ru_nivcsw
    done = requests // threads * threads
    return cpu / done * 1000, switches / done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    parser.add_argument("--callgrind", action="store_true", help="dump around each command")
    parser.add_argument("--typed-in", choices=sorted(TYPED_IN), default="channel")
    parser.add_argument("commands", nargs="*", default=COMMANDS)
    args = parser.parse_args()

    calibration = calibration_rate()
    fake = FakeSlack(replayed=True).start()  # one signed body, sent again and again
    fake.add_user("UALICE", tz="Europe/London")
    database_url = (
        args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='rapport-bench-')}/bench.db"
    )
    prepare_database(database_url)
    settings = Settings(
        slack_bot_token="xoxb-bench",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.api_url,
        database_url=database_url,
    )
    db = Database(create_db_engine(database_url))
    # work left for after the ack runs in the request's thread, so that it counts in full
    services = dataclasses.replace(create_services(settings, db), background=_Inline())
    wsgi = RapportWsgi(create_app(settings, services), db, SIGNING_SECRET)
    services.prepare_to_serve()
    urls = ResponseUrls(fake.api_url)
    print(f"calibration: {calibration:,.0f} loops per CPU second")
    try:
        for command in args.commands:
            send = request_of(wsgi, command, urls, args.typed_in)
            for _ in range(100):  # the first ones load what every later one finds ready
                send()
            if args.callgrind:
                _dump(f"before {command}")
                measure(send, args.requests, 1)
                _dump(command)
                continue
            statements = queries_during(db, send)
            alone, _ = measure(send, args.requests, 1)
            shared, switches = measure(send, args.requests, args.threads)
            print(
                f"- {command}: {alone:.3f} ms CPU a request alone "
                f"({alone / 1000 * calibration:,.0f} loops), {shared:.3f} ms from "
                f"{args.threads} threads ({shared / 1000 * calibration:,.0f} loops, "
                f"{switches:.1f} context switches a request); {statements} SQL statements"
            )
    finally:
        fake.stop()
        db.engine.dispose()


def _dump(label: str) -> None:
    """Have callgrind write what it counted since the last dump, under ``label``."""
    subprocess.run(["callgrind_control", f"--dump={label}", str(os.getpid())], check=True)


class _Inline(Executor):
    """Runs each piece of work at once, in the thread that hands it over."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:  # told as Services.defer tells it
            future.set_exception(error)
        return future


if __name__ == "__main__":
    main()
