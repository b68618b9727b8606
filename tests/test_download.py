"""Downloads against a real HTTP server on 127.0.0.1 (tests/download_server.py): success, a 404
mirror, a truncated body, a wrong checksum, a refused connection and a timeout. Afterwards the
cache directory holds the verified file or nothing: never a temporary leftover. Hostile servers:
tests/test_download_hostile.py."""

from __future__ import annotations

import gzip
import hashlib
import socket
from collections.abc import Iterator

import numpy as np
import pytest
from download_server import PAYLOAD, SHA, FakeMirrors, listing, serving

from nn101.data import fetch, load_mnist, transfer, write_idx
from nn101.data.fetch import DownloadError, download, fetch_file


@pytest.fixture
def server() -> Iterator[FakeMirrors]:
    with serving() as mirrors:
        yield mirrors


@pytest.fixture
def closed_port_url() -> str:
    """A URL on a port nothing listens on: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mirror/"


def test_success(server, tmp_path):
    server.routes["/a/file.gz"] = ("ok", PAYLOAD)
    path = fetch_file("file.gz", SHA, tmp_path / "cache", [server.url("a")], progress=False)
    assert path == tmp_path / "cache" / "file.gz"
    assert path.read_bytes() == PAYLOAD
    assert listing(tmp_path / "cache") == ["file.gz"]


def test_first_mirror_404_then_second(server, tmp_path):
    server.routes["/b/file.gz"] = ("ok", PAYLOAD)
    mirrors = [server.url("a"), server.url("b")]
    path = fetch_file("file.gz", SHA, tmp_path, mirrors, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert server.requests == ["/a/file.gz", "/b/file.gz"]
    assert listing(tmp_path) == ["file.gz"]


def test_truncated_body_leaves_nothing(server, tmp_path):
    server.routes["/a/file.gz"] = ("truncated", PAYLOAD)
    with pytest.raises(DownloadError, match=f"truncated download: expected {len(PAYLOAD)} bytes"):
        fetch_file("file.gz", SHA, tmp_path, [server.url("a")], progress=False)
    assert listing(tmp_path) == []


def test_truncated_then_good_mirror(server, tmp_path):
    server.routes["/a/file.gz"] = ("truncated", PAYLOAD)
    server.routes["/b/file.gz"] = ("ok", PAYLOAD)
    fetch_file("file.gz", SHA, tmp_path, [server.url("a"), server.url("b")], progress=False)
    assert listing(tmp_path) == ["file.gz"]


def test_wrong_checksum_names_file_expected_and_actual(server, tmp_path):
    tampered = PAYLOAD.replace(b"fake", b"evil", 1)
    server.routes["/a/file.gz"] = ("ok", tampered)
    with pytest.raises(DownloadError) as info:
        fetch_file("file.gz", SHA, tmp_path, [server.url("a")], progress=False)
    message = str(info.value)
    assert "file.gz" in message and "checksum mismatch" in message
    assert SHA in message and hashlib.sha256(tampered).hexdigest() in message
    assert listing(tmp_path) == []


def test_wrong_checksum_then_next_mirror(server, tmp_path):
    server.routes["/a/file.gz"] = ("ok", b"something else")
    server.routes["/b/file.gz"] = ("ok", PAYLOAD)
    path = fetch_file("file.gz", SHA, tmp_path, [server.url("a"), server.url("b")], progress=False)
    assert path.read_bytes() == PAYLOAD
    assert listing(tmp_path) == ["file.gz"]


def test_connection_refused(closed_port_url, tmp_path):
    with pytest.raises(DownloadError, match="cannot connect") as info:
        fetch_file("file.gz", SHA, tmp_path, [closed_port_url], progress=False)
    assert closed_port_url + "file.gz" in str(info.value)
    assert listing(tmp_path) == []


def test_refused_404_and_good_mirror_in_order(server, closed_port_url, tmp_path):
    server.routes["/b/file.gz"] = ("ok", PAYLOAD)
    mirrors = [closed_port_url, server.url("a"), server.url("b")]
    fetch_file("file.gz", SHA, tmp_path, mirrors, progress=False)
    assert listing(tmp_path) == ["file.gz"]


def test_timeout_leaves_nothing(server, tmp_path):
    server.routes["/a/file.gz"] = ("slow", PAYLOAD)
    with pytest.raises(DownloadError, match="timed out"):
        fetch_file("file.gz", SHA, tmp_path, [server.url("a")], timeout=0.3, progress=False)
    assert listing(tmp_path) == []


def test_all_failures_are_listed(server, closed_port_url, tmp_path):
    with pytest.raises(DownloadError) as info:
        fetch_file("file.gz", SHA, tmp_path, [closed_port_url, server.url("a")], progress=False)
    message = str(info.value)
    assert "cannot connect" in message and "HTTP 404" in message


@pytest.fixture
def fake_dataset(server, monkeypatch) -> dict[str, bytes]:
    """The 'mnist' entry of the checksum table pointed at four small fake files on the server."""
    files = {name: name.encode() * 100 for name in fetch.FILENAMES.values()}
    sums = {name: hashlib.sha256(body).hexdigest() for name, body in files.items()}
    monkeypatch.setitem(fetch.CHECKSUMS, "mnist", sums)
    for name, body in files.items():
        server.routes[f"/m/{name}"] = ("ok", body)
    return files


def test_download_fetches_missing_files_once(server, fake_dataset, tmp_path):
    directory = download("mnist", tmp_path, mirrors=[server.url("m")], progress=False)
    assert directory == tmp_path
    assert listing(tmp_path) == sorted(fake_dataset)
    for name, body in fake_dataset.items():
        assert (tmp_path / name).read_bytes() == body
    count = len(server.requests)
    download("mnist", tmp_path, mirrors=[server.url("m")], progress=False)
    assert len(server.requests) == count  # everything was cached and verified


def test_download_uses_the_module_mirror_list_and_cache(
    server, fake_dataset, tmp_path, monkeypatch
):
    monkeypatch.setitem(fetch.MIRRORS, "mnist", [server.url("m")])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    directory = download("mnist", progress=False)
    assert directory == tmp_path / "xdg" / "nn101" / "mnist"
    assert listing(directory) == sorted(fake_dataset)


def test_download_refuses_a_corrupt_cached_file(server, fake_dataset, tmp_path):
    name = "train-labels-idx1-ubyte.gz"
    (tmp_path / name).write_bytes(b"corrupt")
    with pytest.raises(ValueError, match=f"{name}: checksum mismatch: expected sha256"):
        download("mnist", tmp_path, mirrors=[server.url("m")], progress=False)


def test_download_of_an_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        download("cifar")


def test_interrupted_download_leaves_nothing(server, tmp_path, monkeypatch):
    class Interrupting:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def __enter__(self) -> Interrupting:
            return self

        def __exit__(self, *args: object) -> None:
            pass

        def update(self, count: int) -> None:
            raise KeyboardInterrupt

    server.routes["/a/file.gz"] = ("ok", PAYLOAD)
    monkeypatch.setattr(transfer, "tqdm", Interrupting)
    with pytest.raises(KeyboardInterrupt):
        fetch_file("file.gz", SHA, tmp_path, [server.url("a")])
    assert listing(tmp_path) == []


def test_load_mnist_downloads_into_the_cache(server, tmp_path, monkeypatch):
    """The loader end to end: nothing local, so it downloads tiny IDX files and reads them."""
    images = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    sums = {}
    for split, count in (("train", 3), ("t10k", 2)):
        for kind, array in (("images-idx3", images[:count]), ("labels-idx1", labels[:count])):
            name = f"{split}-{kind}-ubyte.gz"
            body = gzip.compress(write_idx(tmp_path / "raw.idx", array).read_bytes())
            server.routes[f"/m/{name}"] = ("ok", body)
            sums[name] = hashlib.sha256(body).hexdigest()
    monkeypatch.setitem(fetch.CHECKSUMS, "mnist", sums)
    monkeypatch.setitem(fetch.MIRRORS, "mnist", [server.url("m")])
    monkeypatch.delenv("NN101_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    train, test = load_mnist()
    assert (len(train), len(test)) == (3, 2)
    assert train.y.tolist() == [7, 0, 9]
    np.testing.assert_array_equal(train.inputs, images.reshape(3, 784) / np.float32(255))
    assert listing(tmp_path / "xdg" / "nn101" / "mnist") == sorted(sums)
