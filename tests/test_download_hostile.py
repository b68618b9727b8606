"""Downloads from a hostile server on 127.0.0.1 (tests/download_server.py): one that drips,
streams without end, lies about Content-Length, redirects off http, or is killed mid-way; and
the same bounds over https. Each bound holds whatever the server does, and the cache directory
is left with the verified file or nothing."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from download_server import PAYLOAD, SHA, FakeMirrors, listing, serving

from nn101.data import fetch
from nn101.data.fetch import DownloadError, fetch_file


@pytest.fixture
def server() -> Iterator[FakeMirrors]:
    with serving() as mirrors:
        yield mirrors


@pytest.mark.parametrize("mode", ["drip", "drip-headers"])
def test_one_deadline_for_the_whole_file(server, tmp_path, mode):
    """One byte every 0.1 s keeps every read alive; the deadline still ends it at 1 s."""
    body = PAYLOAD[:40]
    server.routes["/a/file.gz"] = (mode, body)
    sha = hashlib.sha256(body).hexdigest()
    start = time.monotonic()
    with pytest.raises(DownloadError, match=r"timed out: the download took longer than 1 s"):
        fetch_file("file.gz", sha, tmp_path, [server.url("a")], timeout=1.0, progress=False)
    assert time.monotonic() - start < 2.5
    assert listing(tmp_path) == []


def test_a_stalled_read_fails_before_the_deadline(server, tmp_path):
    server.routes["/a/file.gz"] = ("slow", PAYLOAD)
    start = time.monotonic()
    with pytest.raises(DownloadError, match="timed out"):
        fetch_file("file.gz", SHA, tmp_path, [server.url("a")], stall_timeout=0.3, progress=False)
    assert time.monotonic() - start < 2.5
    assert listing(tmp_path) == []


def test_an_endless_body_stops_at_the_expected_size(server, tmp_path):
    server.routes["/a/file.gz"] = ("endless", b"")
    with pytest.raises(DownloadError, match="sent more than the expected 100000 bytes"):
        fetch_file("file.gz", SHA, tmp_path, [server.url("a")], size=100_000, progress=False)
    assert listing(tmp_path) == []


def test_the_size_cap_comes_from_the_table_of_known_sizes(server, tmp_path, monkeypatch):
    monkeypatch.setitem(fetch.SIZES, SHA, len(PAYLOAD))
    server.routes["/a/file.gz"] = ("endless", b"")
    server.routes["/b/file.gz"] = ("ok", PAYLOAD)
    mirrors = [server.url("a"), server.url("b")]
    path = fetch_file("file.gz", SHA, tmp_path, mirrors, progress=False)
    assert path.read_bytes() == PAYLOAD and listing(tmp_path) == ["file.gz"]


def test_an_announced_length_above_the_cap_is_refused_before_reading(server, tmp_path):
    server.routes["/a/file.gz"] = ("length=1000000000000", PAYLOAD)
    with pytest.raises(DownloadError, match=r"announces 1000000000000 bytes; expected at most"):
        fetch_file("file.gz", SHA, tmp_path, [server.url("a")], progress=False)
    assert listing(tmp_path) == []


@pytest.mark.parametrize("announced", [100, len(PAYLOAD) + 100])
def test_a_lying_content_length_never_passes_as_the_file(server, tmp_path, announced):
    """Announcing less cuts the body short (checksum mismatch); more, the body falls short."""
    server.routes["/a/file.gz"] = (f"length={announced}", PAYLOAD)
    with pytest.raises(DownloadError, match="checksum mismatch|truncated download"):
        fetch_file("file.gz", SHA, tmp_path, [server.url("a")], timeout=5.0, progress=False)
    assert listing(tmp_path) == []


def test_http_redirects_are_followed(server, tmp_path):
    server.routes["/a/file.gz"] = ("redirect", f"{server.base}/b/file.gz".encode())
    server.routes["/b/file.gz"] = ("ok", PAYLOAD)
    assert fetch_file("file.gz", SHA, tmp_path, [server.url("a")], progress=False).is_file()


@pytest.mark.parametrize("scheme", ["file", "ftp"])
def test_redirects_off_http_are_refused(server, tmp_path, scheme):
    local = tmp_path / "local" / "file.gz"
    local.parent.mkdir()
    local.write_bytes(PAYLOAD)  # what a file:// redirect would deliver
    target = f"{scheme}://{'' if scheme == 'file' else '127.0.0.1'}{local}"
    server.routes["/a/file.gz"] = ("redirect", target.encode())
    with pytest.raises(DownloadError, match="not allowed|only http and https") as info:
        fetch_file("file.gz", SHA, tmp_path / "cache", [server.url("a")], progress=False)
    assert target in str(info.value)
    assert listing(tmp_path / "cache") == []


def test_a_mirror_that_is_not_http_is_refused(tmp_path):
    local = tmp_path / "mirror" / "file.gz"
    local.parent.mkdir()
    local.write_bytes(PAYLOAD)
    with pytest.raises(DownloadError, match="only http and https URLs"):
        fetch_file("file.gz", SHA, tmp_path / "cache", [f"file://{local.parent}/"])
    assert listing(tmp_path / "cache") == []


def dead_pid() -> int:
    """The process id of a process that has exited."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def test_stale_part_files_are_removed_and_nothing_else(server, tmp_path):
    server.routes["/a/file.gz"] = ("ok", PAYLOAD)
    stale = [
        tmp_path / f".file.gz.{dead_pid()}.k2x9_q7z.part",  # its process is gone
        tmp_path / ".file.gz.a1b2c3d4.part",  # nn101 0.1's name, two days old
    ]
    kept = [
        tmp_path / f".file.gz.{os.getpid()}.abcdefgh.part",  # a live download of this process
        tmp_path / f".other.gz.{dead_pid()}.abcdefgh.part",  # another file's
        tmp_path / ".file.gz.z9y8x7w6.part",  # nn101 0.1's name, recent
        tmp_path / ".file.gz.notes.part",  # not named by nn101
    ]
    for path in [*stale, *kept]:
        path.write_bytes(b"half")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale[1], (two_days_ago, two_days_ago))
    fetch_file("file.gz", SHA, tmp_path, [server.url("a")], progress=False)
    assert listing(tmp_path) == sorted(["file.gz", *(p.name for p in kept)])


def test_a_killed_download_is_cleaned_up_by_the_next(server, tmp_path):
    server.routes["/slow/file.gz"] = ("drip", PAYLOAD)
    server.routes["/a/file.gz"] = ("ok", PAYLOAD)
    code = (
        "import sys; from nn101.data.fetch import fetch_file; "
        "fetch_file('file.gz', sys.argv[1], sys.argv[2], [sys.argv[3]], progress=False)"
    )
    args = [sys.executable, "-c", code, SHA, str(tmp_path), server.url("slow")]
    child = subprocess.Popen(args)
    try:
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob("*.part")) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait()
    assert len(list(tmp_path.glob(".file.gz.*.part"))) == 1
    fetch_file("file.gz", SHA, tmp_path, [server.url("a")], progress=False)
    assert listing(tmp_path) == ["file.gz"]


TLS = Path(__file__).parent / "tls" / "localhost.pem"  # self-signed for 127.0.0.1, test only


def test_https_verifies_certificates_and_keeps_the_bounds(tmp_path, monkeypatch):
    """The real mirrors are https: certificates are verified (the test server's only once
    trusted through SSL_CERT_FILE) and the deadline still ends a drip."""
    with serving(tls=TLS) as server:
        server.routes["/a/file.gz"] = ("ok", PAYLOAD)
        server.routes["/d/drip.gz"] = ("drip", PAYLOAD[:40])
        with pytest.raises(DownloadError, match="CERTIFICATE_VERIFY_FAILED"):
            fetch_file("file.gz", SHA, tmp_path, [server.url("a")], progress=False)
        monkeypatch.setenv("SSL_CERT_FILE", str(TLS))
        path = fetch_file("file.gz", SHA, tmp_path, [server.url("a")], progress=False)
        assert path.read_bytes() == PAYLOAD
        sha = hashlib.sha256(PAYLOAD[:40]).hexdigest()
        start = time.monotonic()
        with pytest.raises(DownloadError, match="timed out"):
            fetch_file("drip.gz", sha, tmp_path, [server.url("d")], timeout=1.0, progress=False)
        assert time.monotonic() - start < 2.5
    assert listing(tmp_path) == ["file.gz"]
