"""Stream one URL into a file: one deadline for the whole transfer, a size cap, http(s) only.

``download_url`` is the only network code in nn101. What it guarantees, whatever the server
does:

- **One deadline.** ``timeout`` seconds for everything (connecting, redirects, headers, body).
  A watchdog shuts the connection's socket down when time is up, so a server that drips one
  byte at a time cannot keep the download alive (a per-read timeout alone never fires then).
  ``stall_timeout`` bounds each connect and read besides, so a dead mirror fails fast.
- **A size cap.** More than ``max_bytes`` (announced in Content-Length or actually sent) stops
  the transfer with an error; an endless body never fills the disk.
- **http and https only**, redirects included (never ``file://``, ``ftp://`` ...).
- **Nothing half-written.** Data goes to ``.<name>.<pid>.<random>.part`` beside the target and
  is renamed only once complete and verified; any failure removes it, and the ``.part`` files
  left by killed processes are removed by the next download of the same file
  (``remove_stale_parts``).
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import http.client
import os
import re
import socket
import ssl
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tqdm.auto import tqdm

from nn101.errors import DownloadError

__all__ = ["download_url", "remove_stale_parts"]

USER_AGENT = "nn101-dataset-download"
CHUNK = 1 << 16
SCHEMES = ("http", "https")
STALE_AFTER = 24 * 3600.0
"""Seconds after which a ``.part`` file counts as abandoned even if its process id is in use."""


class Deadline:
    """Shuts down every socket registered with it once ``seconds`` have passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return max(self.end - time.monotonic(), 0.001)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        self._timer.join()


def _shutdown(sock: socket.socket) -> None:
    """Wake any read blocked on ``sock`` (an ``ssl.SSLSocket`` too: the plain call on its fd)."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str):
        if urlsplit(newurl).scheme.lower() not in SCHEMES:
            fp.close()
            raise DownloadError(
                f"{req.full_url}: HTTP {code} redirects to {newurl!r}; "
                "only http and https redirects are followed"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(deadline: Deadline) -> urllib.request.OpenerDirector:
    """An opener whose every connection is watched by ``deadline``."""

    class Connection(http.client.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            deadline.watch(self.sock)

    class SecureConnection(http.client.HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            deadline.watch(self.sock)

    context = ssl.create_default_context()

    class Handler(urllib.request.HTTPHandler):
        def http_open(self, req: Any) -> http.client.HTTPResponse:
            return self.do_open(Connection, req)

    class SecureHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: Any) -> http.client.HTTPResponse:
            return self.do_open(SecureConnection, req, context=context)

    return urllib.request.build_opener(Handler, SecureHandler(context=context), _HttpOnlyRedirects)


TOKEN = r"[a-z0-9_]{8}"  # what tempfile.mkstemp puts between prefix and suffix


def remove_stale_parts(directory: Path, filename: str) -> list[Path]:
    """Remove the ``.part`` files of ``filename`` whose download process is gone, or that are
    older than a day (those of nn101 0.1 carry no process id: only by age). Returns what was
    removed. Touches no other file."""
    name = re.compile(rf"\.{re.escape(filename)}\.(?:(?P<pid>\d+)\.)?{TOKEN}\.part")
    removed = []
    for path in directory.glob(f".{glob.escape(filename)}.*.part"):
        match = name.fullmatch(path.name)
        if match is None or not _abandoned(path, match["pid"]):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def _abandoned(path: Path, pid: str | None) -> bool:
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return False
    if age > STALE_AFTER:
        return True
    if pid is None:
        return False  # written by nn101 0.1: no process to ask about
    if int(pid) == os.getpid():
        return False  # another thread of this process may be writing it
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, OverflowError):
        return True
    except PermissionError:
        return False  # alive, owned by another user
    return False


@contextlib.contextmanager
def _part_file(target: Path) -> Iterator[tuple[Any, Path]]:
    """An open temporary file beside ``target``, removed on exit unless renamed meanwhile."""
    handle, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".part"
    )
    temp = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            yield out, temp
    finally:
        temp.unlink(missing_ok=True)


def download_url(
    url: str,
    target: Path,
    *,
    expected_sha256: str,
    max_bytes: int,
    timeout: float,
    stall_timeout: float,
    progress: bool | None = None,
) -> str:
    """Stream ``url`` into a ``.part`` file beside ``target``; rename it to ``target`` if its
    SHA-256 is ``expected_sha256``. Returns the SHA-256 of what arrived.

    Raises ``DownloadError`` when the whole transfer takes more than ``timeout`` seconds (or one
    connect or read more than ``stall_timeout``), the
    body is (or is announced as) longer than ``max_bytes``, the body is shorter than its
    Content-Length, or a URL is not http(s); ``OSError`` / ``http.client.HTTPException`` for
    connection and HTTP errors. Name resolution (DNS) is outside the deadline.
    """
    if urlsplit(url).scheme.lower() not in SCHEMES:
        raise DownloadError(f"{url}: only http and https URLs are downloaded")
    with Deadline(timeout) as deadline, _part_file(target) as (out, temp):
        try:
            stall = min(stall_timeout, deadline.remaining())
            digest = _stream(url, out, deadline, stall, max_bytes, progress, target.name)
        except (OSError, http.client.HTTPException) as error:
            if deadline.expired and not isinstance(error, DownloadError):
                raise _timed_out(url, timeout) from error
            raise
        if deadline.expired:
            raise _timed_out(url, timeout)
        out.close()
        actual = digest.hexdigest()
        if actual == expected_sha256:
            os.replace(temp, target)
        return actual


def _timed_out(url: str, timeout: float) -> DownloadError:
    return DownloadError(f"{url}: timed out: the download took longer than {timeout:g} s")


def _stream(
    url: str,
    out: Any,
    deadline: Deadline,
    stall: float,
    max_bytes: int,
    progress: bool | None,
    name: str,
) -> Any:
    """Copy the body of ``url`` into ``out``; the SHA-256 digest object of what was written."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    digest = hashlib.sha256()
    with _opener(deadline).open(request, timeout=stall) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length is not None and length.isdigit() else None
        if total is not None and total > max_bytes:
            raise DownloadError(
                f"{url}: the server announces {total} bytes; expected at most {max_bytes}"
            )
        received = 0
        disable = None if progress is None else not progress
        bar = tqdm(total=total, unit="B", unit_scale=True, desc=name, disable=disable, leave=False)
        with bar:
            while chunk := response.read1(CHUNK):  # what has arrived, not a full CHUNK
                received += len(chunk)
                if received > max_bytes:
                    raise DownloadError(
                        f"{url}: the server sent more than the expected {max_bytes} bytes; "
                        "stopped there"
                    )
                out.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
    if total is not None and received != total and not deadline.expired:
        raise DownloadError(f"{url}: truncated download: expected {total} bytes, got {received}")
    return digest
