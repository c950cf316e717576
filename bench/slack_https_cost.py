"""What one Slack Web API call, or one reply through a response URL, over HTTPS costs the
calling thread's CPU.

slack-sdk's ``WebClient`` opens a new connection for every call (``urllib``): a TCP
connection and a TLS handshake each time; Rapport's client keeps its connections alive
(``bot.slack.connections``). Against a local HTTPS server (a certificate made for it,
trusted as Slack's would be, TLS 1.3, answering ``{"ok": true}``), this prints the calling
thread's CPU per ``chat.postMessage`` through slack-sdk's client, through the same over
plain HTTP (a new TCP connection, no TLS: what the handshake costs is the difference), and
through Rapport's (``bot.slack.client.create_web_client``), each beside the calibration loop
run in this process; then a reply through a response URL (as a command's answer after its
ack goes), through Bolt's ``respond`` (slack-sdk's ``WebhookClient``: a new connection each
time) and through Rapport's (``bot.slack.connections.respond_keeping_alive``).

The fake Slack of the other benchmarks speaks plain HTTP, so their figures leave the
handshake out.

    python bench/slack_https_cost.py [--calls 500] [--rounds 2]
"""

from __future__ import annotations

import argparse
import http.server
import ipaddress
import os
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
from slack_bolt import Respond
from slack_sdk import WebClient

from bench.calibration import calibration_rate
from bot.core.settings import Settings
from bot.slack.client import create_web_client
from bot.slack.connections import respond_keeping_alive

ANSWER = b'{"ok": true, "channel": "C1", "ts": "1.2"}'


class _Slack(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps a connection open for as long as the client does
    disable_nagle_algorithm = True  # headers and body are two writes: no wait between them

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


def thread_cpu_ms(call: Callable[[], object], calls: int) -> float:
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
    # both clients trust the certificate as they would Slack's: through the default CAs
    os.environ["SSL_CERT_FILE"] = str(cert_path)
    server, plain_server = serve(cert_path, key_path), serve()
    https_url = f"https://127.0.0.1:{server.server_address[1]}/api/"
    http_url = f"http://127.0.0.1:{plain_server.server_address[1]}/api/"
    sdk, plain, rapports = (
        WebClient(token="xoxb-bench", base_url=https_url),
        WebClient(token="xoxb-bench", base_url=http_url),
        rapports_client(https_url),
    )
    reply_url = f"https://127.0.0.1:{server.server_address[1]}/commands/T1/1/bench"
    calls: dict[str, Callable[[], object]] = {
        "slack-sdk's WebClient over HTTPS (a new connection each call)": lambda: post(sdk),
        "the same over plain HTTP (a new TCP connection, no TLS)": lambda: post(plain),
        "Rapport's client over HTTPS (connections kept alive)": lambda: post(rapports),
        "a reply through a response URL, Bolt's respond (a new connection each)": lambda: Respond(
            response_url=reply_url
        )(text="hi"),
        "the same, Rapport's respond (connections kept alive)": lambda: respond_keeping_alive(
            Respond(response_url=reply_url)
        )(text="hi"),
    }
    rate = calibration_rate()
    print(f"calibration: {rate:,.0f} loops per CPU second")
    for round_ in range(1, args.rounds + 1):
        print(f"round {round_}, CPU of the calling thread per chat.postMessage or reply:")
        for name, call in calls.items():
            cpu = thread_cpu_ms(call, args.calls)
            print(f"- {name}: {cpu:.2f} ms ({cpu / 1000 * rate:.0f} calibration loops)")
    server.shutdown()
    plain_server.shutdown()


def post(client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="hi")


def rapports_client(api_url: str) -> WebClient:
    settings = Settings(
        slack_bot_token="xoxb-bench", slack_signing_secret="s", slack_api_url=api_url
    )
    return create_web_client(settings)


if __name__ == "__main__":
    main()
