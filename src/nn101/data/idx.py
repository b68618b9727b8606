"""The IDX file format of MNIST and Fashion-MNIST: read and write, plain or gzip-compressed.

Layout (big-endian), from http://yann.lecun.com/exdb/mnist/:

    bytes 0-1   0x00 0x00
    byte  2     type code: 0x08 ubyte, 0x09 sbyte, 0x0B short (2 bytes), 0x0C int (4),
                0x0D float (4), 0x0E double (8)
    byte  3     number of dimensions d
    4 * d       the size of each dimension, unsigned 32-bit
    then        the values, row-major (C order)

A file is never trusted: before anything is allocated, the header's byte count is checked
against the file's size (for gzip, against the most that many compressed bytes can inflate
to: deflate's limit is 1032 to 1), at most ``MAX_DIMS`` dimensions and ``MAX_ELEMENTS``
values. ``read_idx`` then allocates the result array once and decompresses straight into it,
never more than the header's byte count + 1; multi-byte types are byte-swapped in place. Every
problem with the content is an ``IdxFormatError`` naming the file.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from nn101.errors import IdxFormatError

__all__ = [
    "IDX_TYPES",
    "MAX_DIMS",
    "MAX_ELEMENTS",
    "IdxFormatError",
    "read_idx",
    "read_idx_header",
    "write_idx",
]

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type code -> big-endian NumPy dtype."""

MAX_DIMS = 32
"""The most dimensions read or written (NumPy 1 arrays hold at most 32)."""
MAX_ELEMENTS = 2**31
"""The most values an IDX file may declare (MNIST's training images are 47 million)."""
MAX_INFLATE_RATIO = 1032
"""Deflate's limit: one compressed byte never stands for more than 1032 bytes."""

GZIP_MAGIC = b"\x1f\x8b"
GZIP_OVERHEAD = 18  # gzip header and trailer bytes around the deflate stream
CHUNK = 1 << 18


@contextmanager
def _open(path: Path) -> Iterator[tuple[io.BufferedIOBase, int, bool]]:
    """Open ``path`` for reading, decompressing on the fly when it starts with the gzip magic.
    Yields the stream, the file's size on disk and whether it is compressed."""
    with open(path, "rb") as raw:
        size = os.fstat(raw.fileno()).st_size
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            yield raw, size, False
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as unpacked:
            yield unpacked, size, True


def _read_exactly(stream: io.BufferedIOBase, buffer: memoryview) -> int:
    """Fill ``buffer`` from ``stream``; return how many bytes arrived (less at end of file)."""
    filled = 0
    while filled < len(buffer):
        # at most CHUNK at a time: GzipFile.readinto copies via a temporary this size
        count = stream.readinto(buffer[filled : filled + CHUNK])
        if not count:
            break
        filled += count
    return filled


def _read_header(stream: io.BufferedIOBase, path: Path) -> tuple[np.dtype, tuple[int, ...]]:
    start = stream.read(4)
    if len(start) < 4:
        raise IdxFormatError(
            f"{path}: truncated IDX file: expected a 4-byte magic number, got {len(start)} bytes"
        )
    if start[0] != 0 or start[1] != 0:
        raise IdxFormatError(
            f"{path}: not an IDX file: expected magic 0x0000TTDD, got 0x{start.hex()}"
        )
    code, ndim = start[2], start[3]
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_TYPES)
        raise IdxFormatError(f"{path}: unknown IDX type code 0x{code:02X}; expected one of {known}")
    if not 1 <= ndim <= MAX_DIMS:
        raise IdxFormatError(
            f"{path}: expected 1 to {MAX_DIMS} dimensions in the IDX header, got {ndim}"
        )
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise IdxFormatError(
            f"{path}: truncated IDX header: expected {ndim} dimension sizes "
            f"({4 * ndim} bytes), got {len(dims)} bytes"
        )
    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
    count = math.prod(shape)  # a Python int: no overflow
    if count > MAX_ELEMENTS:
        raise IdxFormatError(
            f"{path}: IDX header declares shape {shape}, {count} values; "
            f"expected at most {MAX_ELEMENTS}"
        )
    if math.prod(max(d, 1) for d in shape) > MAX_ELEMENTS:  # NumPy refuses even if empty
        raise IdxFormatError(
            f"{path}: IDX header declares shape {shape}; expected its nonzero dimensions "
            f"to multiply to at most {MAX_ELEMENTS}"
        )
    return IDX_TYPES[code], shape


def _check_size(
    path: Path, dtype: np.dtype, shape: tuple[int, ...], size: int, compressed: bool
) -> int:
    """The number of data bytes the header promises, after checking the file can hold them."""
    expected = math.prod(shape) * dtype.itemsize
    header = 4 + 4 * len(shape)
    what = f"header says shape {shape} of {dtype.name} ({expected} bytes)"
    if not compressed and size - header < expected:
        raise IdxFormatError(f"{path}: truncated IDX data: {what}, got only {size - header} bytes")
    if not compressed and size - header > expected:
        raise IdxFormatError(
            f"{path}: IDX dimensions {shape} of {dtype.name} account for {expected} bytes, "
            f"but the file has {size - header - expected} more"
        )
    limit = MAX_INFLATE_RATIO * max(size - GZIP_OVERHEAD, 0)
    if compressed and header + expected > limit:
        raise IdxFormatError(
            f"{path}: truncated IDX data: {what}, but {size} gzip bytes inflate to at most "
            f"{limit} bytes"
        )
    return expected


def _allocate(path: Path, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    try:
        return np.empty(shape, dtype=dtype)
    except MemoryError as error:  # the sizes passed the checks: the machine is too small
        raise IdxFormatError(
            f"{path}: cannot allocate shape {shape} of {dtype.name} "
            f"({math.prod(shape) * dtype.itemsize} bytes) that the IDX header declares"
        ) from error


def read_idx_header(path: str | os.PathLike[str]) -> tuple[np.dtype, tuple[int, ...]]:
    """The (native-order dtype, shape) an IDX file declares, reading only its header."""
    path = Path(path)
    try:
        with _open(path) as (stream, _, _):
            dtype, shape = _read_header(stream, path)
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise IdxFormatError(f"{path}: corrupt gzip stream ({error})") from error
    return dtype.newbyteorder("="), shape


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (``.idx`` or gzip-compressed ``.idx.gz``) into a NumPy array.

    Shapes: the dimensions in the header, e.g. (60000, 28, 28) uint8 for MNIST images.
    The array is native-endian, writable and C-contiguous. Raises ``IdxFormatError`` (naming
    the file) for a wrong magic number, an unknown type code, sizes the file cannot hold (or this
    machine cannot allocate), a truncated file, trailing bytes or a corrupt gzip stream;
    ``OSError`` if it cannot be opened. Memory: the array, at most 1032 times the file's size.
    """
    path = Path(path)
    try:
        with _open(path) as (stream, size, compressed):
            dtype, shape = _read_header(stream, path)
            expected = _check_size(path, dtype, shape, size, compressed)
            array = _allocate(path, dtype, shape)
            got = _read_exactly(stream, array.reshape(-1).view(np.uint8).data)
            extra = len(stream.read(1))
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise IdxFormatError(f"{path}: corrupt or truncated gzip stream ({error})") from error
    if got < expected:
        raise IdxFormatError(
            f"{path}: truncated IDX data: header says shape {shape} of {dtype.name} "
            f"({expected} bytes), got only {got} bytes"
        )
    if extra:
        raise IdxFormatError(
            f"{path}: IDX dimensions {shape} of {dtype.name} account for {expected} bytes, "
            "but the file has at least 1 more"
        )
    if not dtype.isnative:  # multi-byte big-endian: swap in place, no copy
        array = array.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return array


def _type_code(dtype: np.dtype) -> int:
    for code, idx_dtype in IDX_TYPES.items():
        if idx_dtype.kind == dtype.kind and idx_dtype.itemsize == dtype.itemsize:
            return code
    names = ", ".join(d.newbyteorder("=").name for d in IDX_TYPES.values())
    raise TypeError(f"write_idx: IDX stores {names}; got an array of dtype {dtype}")


def write_idx(path: str | os.PathLike[str], array: Any, *, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file; gzip-compressed when ``compress`` (default: the name
    ends in ``.gz``). Returns the path.

    Shapes: any array with 1 to ``MAX_DIMS`` dimensions, each < 2**32, at most
    ``MAX_ELEMENTS`` values (empty arrays included: ``read_idx`` reads them back).
    """
    path = Path(path)
    array = np.asarray(array)
    code = _type_code(array.dtype)
    if not 1 <= array.ndim <= MAX_DIMS or any(d >= 2**32 for d in array.shape):
        raise ValueError(
            f"write_idx: expected 1 to {MAX_DIMS} dimensions each < 2**32, got shape {array.shape}"
        )
    if array.size > MAX_ELEMENTS:
        raise ValueError(f"write_idx: expected at most {MAX_ELEMENTS} values, got {array.size}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    data = np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    opener = gzip.open if compress else open
    with opener(path, "wb") as stream:
        stream.write(header)
        stream.write(data)
    return path
