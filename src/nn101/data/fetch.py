"""Find, download and verify the MNIST and Fashion-MNIST files.

Lookup order for a dataset called ``name`` ("mnist" or "fashion-mnist"):

1. ``data_dir=`` or else ``$NN101_DATA_DIR``: either the directory holding the four files or a
   parent holding a ``<name>/`` subdirectory;
2. the cache ``$XDG_CACHE_HOME/nn101/<name>``, else ``~/.cache/nn101/<name>``;
3. otherwise download into the cache from ``MIRRORS[name]``, in order.

Every download goes to a temporary ``.part`` file in the cache directory, is checked against
its known size and SHA-256 and only then renamed (``os.replace``) to its final name; any
failure removes the temporary file, so the cache holds verified files or nothing. The transfer
itself (one deadline per file, a size cap, http(s) only, stale ``.part`` files cleaned up) is
``nn101.data.transfer``: only the standard library (urllib), plus tqdm for the progress bar.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
from collections.abc import Sequence
from pathlib import Path

from nn101.data.transfer import download_url, remove_stale_parts
from nn101.errors import DatasetNotFoundError, DownloadError, FileFormatError

__all__ = [
    "CHECKSUMS",
    "DatasetNotFoundError",
    "DownloadError",
    "FILENAMES",
    "MIRRORS",
    "SIZES",
    "cache_dir",
    "download",
    "fetch_file",
    "find_dataset",
    "sha256_of",
]

FILENAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
"""The four files of each dataset (the same names for MNIST and Fashion-MNIST)."""

CHECKSUMS: dict[str, dict[str, str]] = {
    "mnist": dict(
        zip(
            FILENAMES.values(),  # train images, train labels, test images, test labels
            [
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            ],
            strict=True,
        )
    ),
    "fashion-mnist": dict(
        zip(
            FILENAMES.values(),
            [
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            ],
            strict=True,
        )
    ),
}
"""SHA-256 of each official file, by dataset and file name."""

SIZES: dict[str, int] = {
    CHECKSUMS["mnist"]["train-images-idx3-ubyte.gz"]: 9_912_422,
    CHECKSUMS["mnist"]["train-labels-idx1-ubyte.gz"]: 28_881,
    CHECKSUMS["mnist"]["t10k-images-idx3-ubyte.gz"]: 1_648_877,
    CHECKSUMS["mnist"]["t10k-labels-idx1-ubyte.gz"]: 4_542,
    CHECKSUMS["fashion-mnist"]["train-images-idx3-ubyte.gz"]: 26_421_880,
    CHECKSUMS["fashion-mnist"]["train-labels-idx1-ubyte.gz"]: 29_515,
    CHECKSUMS["fashion-mnist"]["t10k-images-idx3-ubyte.gz"]: 4_422_102,
    CHECKSUMS["fashion-mnist"]["t10k-labels-idx1-ubyte.gz"]: 5_148,
}
"""Size in bytes of each official file, by SHA-256: a download stops past it."""

MIRRORS: dict[str, list[str]] = {
    "mnist": [
        "https://yann.lecun.com/exdb/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
    "fashion-mnist": [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ],
}
"""Base URLs tried in order; a file's URL is base + file name. Tests replace these lists."""

TIMEOUT = 600.0
"""Seconds the download of one file may take in all, before the mirror counts as failed."""
STALL_TIMEOUT = 30.0
"""Seconds a connection or a single read may stall before the mirror counts as failed."""
MAX_BYTES = 1 << 27
"""The most bytes accepted for a file of unknown size (the largest official file is 26 MB)."""


def _check_name(name: str) -> None:
    if name not in CHECKSUMS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(CHECKSUMS)}")


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes, as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def cache_dir(name: str) -> Path:
    """``$XDG_CACHE_HOME/nn101/<name>``, else ``~/.cache/nn101/<name>`` (not created here)."""
    return _default_cache_dir(name)


def _default_cache_dir(name: str) -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "nn101" / name


def _holds(directory: Path, name: str) -> bool:
    return all((directory / filename).is_file() for filename in CHECKSUMS[name])


def candidate_dirs(name: str, data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Where ``name`` is looked for, in order (see the module docstring)."""
    _check_name(name)
    given = data_dir if data_dir is not None else os.environ.get("NN101_DATA_DIR")
    places = [Path(given), Path(given) / name] if given else []
    return [*places, cache_dir(name)]


def find_dataset(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
) -> Path:
    """The directory holding all four files of ``name``, downloading them if needed."""
    places = candidate_dirs(name, data_dir)
    for place in places:
        if _holds(place, name):
            return place
    if download:
        try:
            return _download_dataset(name, cache_dir(name), mirrors, TIMEOUT, None)
        except DownloadError as error:
            reason = f"downloading failed:\n{error}"
    else:
        reason = "download=False"
    looked = "\n".join(f"  {place}" for place in places)
    names = ", ".join(CHECKSUMS[name])
    raise DatasetNotFoundError(
        f"{name}: the files were not found and {reason}\n"
        f"Looked in:\n{looked}\n"
        f"Put the four files {names} in one of those directories (or pass data_dir=..., "
        f"or set NN101_DATA_DIR), or download them with `nn101 data download {name}`."
    )


def fetch_file(
    filename: str,
    sha256: str,
    directory: str | os.PathLike[str],
    mirrors: Sequence[str],
    *,
    size: int | None = None,
    timeout: float = TIMEOUT,
    stall_timeout: float = STALL_TIMEOUT,
    progress: bool | None = None,
) -> Path:
    """Download ``filename`` into ``directory`` from the first mirror whose copy has ``sha256``.

    Each attempt writes to a ``.part`` file next to the target and renames it only when the
    checksum matches; failed attempts leave nothing behind, and ``.part`` files of killed
    earlier downloads are removed first. ``size`` (default: ``SIZES[sha256]``, else
    ``MAX_BYTES``) caps what is accepted; ``timeout`` is the deadline for each attempt as a
    whole. Raises ``DownloadError`` listing every mirror and what went wrong (for a mismatch:
    expected and actual hash).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(directory, filename)
    target = directory / filename
    max_bytes = size if size is not None else SIZES.get(sha256, MAX_BYTES)
    failures = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + filename
        try:
            actual = download_url(
                url,
                target,
                expected_sha256=sha256,
                max_bytes=max_bytes,
                timeout=timeout,
                stall_timeout=stall_timeout,
                progress=progress,
            )
        except (OSError, http.client.HTTPException, ValueError) as error:
            failures.append(f"  {url}: {_describe(error, url)}")
            if isinstance(error, urllib.error.HTTPError):
                error.close()  # it holds the open response
            continue
        if actual == sha256:
            return target
        failures.append(
            f"  {url}: checksum mismatch for {filename}: expected sha256 {sha256}, got {actual}"
        )
    tried = "\n".join(failures) if failures else "  (no mirrors given)"
    raise DownloadError(f"could not download {filename} with sha256 {sha256}:\n{tried}")


def _describe(error: BaseException, url: str) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return f"cannot connect ({error.reason})"
    if isinstance(error, DownloadError):
        return str(error).removeprefix(f"{url}: ")  # the caller names the URL
    return f"{type(error).__name__}: {error}"


def download(
    name: str,
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    timeout: float = TIMEOUT,
    progress: bool | None = None,
) -> Path:
    """Make sure the four files of ``name`` are in ``cache_dir`` (default: the nn101 cache),
    verified; download the missing ones. Returns the directory.

    Files already present are checked against their SHA-256; a mismatching one is an error
    (it is never silently replaced). ``mirrors`` defaults to ``MIRRORS[name]``.
    """
    _check_name(name)
    directory = Path(cache_dir) if cache_dir is not None else _default_cache_dir(name)
    return _download_dataset(name, directory, mirrors, timeout, progress)


def _download_dataset(
    name: str,
    directory: Path,
    mirrors: Sequence[str] | None,
    timeout: float,
    progress: bool | None,
) -> Path:
    mirrors = MIRRORS[name] if mirrors is None else mirrors
    for filename, expected in CHECKSUMS[name].items():
        path = directory / filename
        if path.is_file():
            verify_file(path, expected)
        else:
            fetch_file(filename, expected, directory, mirrors, timeout=timeout, progress=progress)
    return directory


def verify_file(path: Path, expected: str) -> None:
    """Raise ``FileFormatError`` (a ``ValueError``) naming the file, expected and actual hash
    if they differ."""
    actual = sha256_of(path)
    if actual != expected:
        raise FileFormatError(
            f"{path}: checksum mismatch: expected sha256 {expected}, got {actual}; "
            "the file is damaged or from another dataset (delete it to download it again)"
        )
