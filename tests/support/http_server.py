"""The WSGI app served in the test process, on a loopback port, by waitress (a WSGI server
in Python, which runs in a thread): Slack's requests reach the app over HTTP as in
production, where granian serves it from its own processes (``bot.serving``; the tests of
``rapport run`` and ``rapport web`` go through it)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from waitress import wasyncore
from waitress.server import create_server

from bot.web import MAX_BODY_BYTES, RapportWsgi

THREADS = 8


@contextmanager
def serving(wsgi_app: RapportWsgi) -> Iterator[str]:
    """Serve ``wsgi_app`` on a free loopback port; yields its base URL."""
    server = create_server(
        wsgi_app,
        host="127.0.0.1",
        port=0,
        threads=THREADS,
        max_request_body_size=2 * MAX_BODY_BYTES,  # past the app's own limit, which it tells
        ident="rapport",
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:

        def close_everything() -> None:  # inside the server's own loop
            server.task_dispatcher.shutdown()
            wasyncore.close_all(server._map)

        try:
            server.trigger.pull_trigger(close_everything)
        except OSError:  # the loop closed its trigger itself (after an error on it): from here
            close_everything()
        thread.join(timeout=5)
    assert not thread.is_alive(), "the HTTP server didn't stop"
