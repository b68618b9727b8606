"""A misbehaving HTTP server on 127.0.0.1 for the download tests (tests/test_download.py).

Each route is ``path -> (mode, body)``:

- ``ok``: Content-Length and the body;
- ``truncated``: promises the whole body, sends half and hangs up;
- ``slow``: headers now, the body only after the client has given up;
- ``drip``: the body one byte every ``DRIP_SECONDS`` (each read succeeds, the whole never ends
  in time);
- ``drip-headers``: the status line, then a header one byte every ``DRIP_SECONDS``;
- ``endless``: no Content-Length, zero bytes for ever (until the client hangs up);
- ``length=N``: announces N bytes whatever the body's length;
- ``redirect``: HTTP 302 to the body (a URL).
"""

from __future__ import annotations

import hashlib
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAYLOAD = b"fake dataset file\n" * 1000
SHA = hashlib.sha256(PAYLOAD).hexdigest()
DRIP_SECONDS = 0.1
ENDLESS_LIMIT = 1 << 30  # the server's own safety stop, far above any cap under test


@dataclass
class FakeMirrors:
    """Routes of the test server, the paths requested, and bytes sent per path."""

    base: str = ""
    routes: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, mirror: str) -> str:
        return f"{self.base}/{mirror}/"


def make_handler(mirrors: FakeMirrors) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            mirrors.requests.append(self.path)
            if self.path not in mirrors.routes:
                self.send_error(404, "Not Found")
                return
            mode, body = mirrors.routes[self.path]
            try:
                self.respond(mode, body)
            except OSError:  # the client hung up: expected for most modes
                self.close_connection = True

        def respond(self, mode: str, body: bytes) -> None:
            if mode == "redirect":
                self.send_response(302)
                self.send_header("Location", body.decode())
                self.end_headers()
                return
            if mode == "drip-headers":
                self.wfile.write(b"HTTP/1.0 200 OK\r\nX-Drip: ")
                self.drip(b"." * 40)
                self.wfile.write(f"\r\nContent-Length: {len(body)}\r\n\r\n".encode())
                self.send(body)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if mode.startswith("length="):
                self.send_header("Content-Length", mode.removeprefix("length="))
            elif mode != "endless":
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if mode == "truncated":
                self.send(body[: len(body) // 2])
                self.close_connection = True
            elif mode == "slow":
                self.wfile.flush()
                mirrors.release.wait(5)
                self.send(body)
            elif mode == "drip":
                self.drip(body)
            elif mode == "endless":
                self.endless()
            else:
                self.send(body)

        def send(self, data: bytes) -> None:
            self.wfile.write(data)
            self.wfile.flush()
            mirrors.sent[self.path] = mirrors.sent.get(self.path, 0) + len(data)

        def drip(self, data: bytes) -> None:
            for index in range(len(data)):
                if mirrors.release.is_set():
                    return
                self.send(data[index : index + 1])
                time.sleep(DRIP_SECONDS)

        def endless(self) -> None:
            block = bytes(1 << 16)
            while not mirrors.release.is_set() and mirrors.sent.get(self.path, 0) < ENDLESS_LIMIT:
                self.send(block)

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

    return Handler


def listing(directory: Path) -> list[str]:
    """The names in ``directory`` (hidden ``.part`` files included), sorted; [] if absent."""
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


@contextmanager
def serving(tls: Path | None = None) -> Iterator[FakeMirrors]:
    """A running server (https with the certificate and key in the PEM file ``tls``); on exit
    every handler is released and the server closed."""
    mirrors = FakeMirrors()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(mirrors))
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        scheme = "https"
    mirrors.base = f"{scheme}://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield mirrors
    finally:
        mirrors.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()
