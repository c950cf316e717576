"""What one Slack Web API call over HTTPS costs the calling thread's CPU.

slack-sdk's ``WebClient``, which Rapport calls Slack with, opens a new connection for every
call (``urllib``): a TCP connection and a TLS handshake each time. Against a local HTTPS
server (a certificate made for it, TLS 1.3, answering ``{"ok": true}``), this prints the
calling thread's CPU per ``chat.postMessage`` through Rapport's own client
(``bot.slack.client.create_web_client``), the same client against the same server over
plain HTTP (a new TCP connection, no TLS: what the handshake adds is the difference), and
through one HTTPS connection kept alive (``http.client``), each beside the calibration loop
run in this process.

The fake Slack of the other benchmarks speaks plain HTTP, so their figures leave this cost
out; against Slack itself every call pays it.

    python bench/slack_https_cost.py [--calls 500] [--rounds 2]
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import ipaddress
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bench.calibration import calibration_rate
from bot.core.settings import Settings
from bot.slack.client import create_web_client

ANSWER = b'{"ok": true, "channel": "C1", "ts": "1.2"}'


class _Slack(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps a connection open for as long as the client does

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, *_args) -> None:
        pass


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (P-256), and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def serve(cert_path: Path | None = None, key_path: Path | None = None):
    """The local Slack, over HTTPS given a certificate and its key, else plain HTTP."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Slack)
    if cert_path is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def thread_cpu_ms(call: Callable[[], None], calls: int) -> float:
    """CPU of this thread per call, in ms, after a warm-up."""
    for _ in range(calls // 10):
        call()
    started = time.thread_time()
    for _ in range(calls):
        call()
    return (time.thread_time() - started) / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    cert_path, key_path = certificate(Path(tempfile.mkdtemp(prefix="rapport-bench-")))
    server, plain_server = serve(cert_path, key_path), serve()
    port = server.server_address[1]
    trusting = ssl.create_default_context(cafile=str(cert_path))
    client = rapports_client(f"https://127.0.0.1:{port}/api/")
    client.ssl = trusting
    plain = rapports_client(f"http://127.0.0.1:{plain_server.server_address[1]}/api/")

    def through_rapports_client() -> None:
        client.chat_postMessage(channel="C1", text="hi")

    def over_plain_http() -> None:
        plain.chat_postMessage(channel="C1", text="hi")

    kept = http.client.HTTPSConnection("127.0.0.1", port, context=trusting)

    def through_one_connection() -> None:
        kept.request(
            "POST",
            "/api/chat.postMessage",
            body=b"channel=C1&text=hi",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": "Bearer xoxb-bench",
            },
        )
        kept.getresponse().read()

    rate = calibration_rate()
    print(f"calibration: {rate:,.0f} loops per CPU second")
    for _ in range(args.rounds):
        new = thread_cpu_ms(through_rapports_client, args.calls)
        untls = thread_cpu_ms(over_plain_http, args.calls)
        reused = thread_cpu_ms(through_one_connection, args.calls)
        print(
            f"- Rapport's WebClient, a new HTTPS connection each call: {new:.2f} ms "
            f"({new / 1000 * rate:.0f} loops); the same over plain HTTP: {untls:.2f} ms "
            f"({untls / 1000 * rate:.0f} loops), so TLS adds {new - untls:.2f} ms; one HTTPS "
            f"connection kept alive: {reused:.2f} ms ({reused / 1000 * rate:.0f} loops)"
        )
    kept.close()
    server.shutdown()
    plain_server.shutdown()


def rapports_client(api_url: str):
    settings = Settings(
        slack_bot_token="xoxb-bench", slack_signing_secret="s", slack_api_url=api_url
    )
    return create_web_client(settings)


if __name__ == "__main__":
    main()
