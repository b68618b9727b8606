"""The IDX file format of MNIST and Fashion-MNIST: read and write, plain or gzip-compressed.

Layout (big-endian), from http://yann.lecun.com/exdb/mnist/:

    bytes 0-1   0x00 0x00
    byte  2     type code: 0x08 ubyte, 0x09 sbyte, 0x0B short (2 bytes), 0x0C int (4),
                0x0D float (4), 0x0E double (8)
    byte  3     number of dimensions d
    4 * d       the size of each dimension, unsigned 32-bit
    then        the values, row-major (C order)

``read_idx`` allocates the result array once and reads the (decompressed) bytes straight into
it; multi-byte types are then byte-swapped in place, so there is no second copy.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["IDX_TYPES", "IdxFormatError", "read_idx", "read_idx_header", "write_idx"]

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type code -> big-endian NumPy dtype."""

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 18


class IdxFormatError(ValueError):
    """A file that is not a well-formed IDX file (or gzip of one)."""


def _open(path: Path) -> io.BufferedIOBase:
    """Open ``path`` for reading, decompressing on the fly when it starts with the gzip magic."""
    with open(path, "rb") as probe:
        compressed = probe.read(2) == GZIP_MAGIC
    return gzip.open(path, "rb") if compressed else open(path, "rb")


def _read_exactly(stream: io.BufferedIOBase, buffer: memoryview) -> int:
    """Fill ``buffer`` from ``stream``; return how many bytes arrived (less at end of file)."""
    filled = 0
    while filled < len(buffer):
        count = stream.readinto(
            buffer[filled : filled + CHUNK]
        )  # GzipFile.readinto copies via a temporary this size
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
    if ndim == 0:
        raise IdxFormatError(f"{path}: expected at least 1 dimension in the IDX header, got 0")
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise IdxFormatError(
            f"{path}: truncated IDX header: expected {ndim} dimension sizes "
            f"({4 * ndim} bytes), got {len(dims)} bytes"
        )
    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
    return IDX_TYPES[code], shape


def read_idx_header(path: str | os.PathLike[str]) -> tuple[np.dtype, tuple[int, ...]]:
    """The (native-order dtype, shape) an IDX file declares, reading only its header."""
    path = Path(path)
    try:
        with _open(path) as stream:
            dtype, shape = _read_header(stream, path)
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise IdxFormatError(f"{path}: corrupt gzip stream ({error})") from error
    return dtype.newbyteorder("="), shape


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (``.idx`` or gzip-compressed ``.idx.gz``) into a NumPy array.

    Shapes: the dimensions in the header, e.g. (60000, 28, 28) uint8 for MNIST images.
    The array is native-endian, writable and C-contiguous. Raises ``IdxFormatError`` for a
    wrong magic number, an unknown type code, a truncated file or trailing bytes.
    """
    path = Path(path)
    try:
        with _open(path) as stream:
            dtype, shape = _read_header(stream, path)
            array = np.empty(shape, dtype=dtype)
            expected = array.nbytes
            got = _read_exactly(stream, memoryview(array).cast("B"))  # type: ignore[arg-type]
            if got < expected:
                raise IdxFormatError(
                    f"{path}: truncated IDX data: header says shape {shape} of {dtype.name} "
                    f"({expected} bytes), got only {got} bytes"
                )
            extra = len(stream.read(1 << 16))
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise IdxFormatError(f"{path}: corrupt or truncated gzip stream ({error})") from error
    if extra:
        raise IdxFormatError(
            f"{path}: IDX dimensions {shape} of {dtype.name} account for {expected} bytes, "
            f"but the file has {'at least ' if extra == 1 << 16 else ''}{extra} more"
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

    Shapes: any array with 1 to 255 dimensions, each < 2**32.
    """
    path = Path(path)
    array = np.asarray(array)
    code = _type_code(array.dtype)
    if not 1 <= array.ndim <= 255 or any(d >= 2**32 for d in array.shape):
        raise ValueError(
            f"write_idx: expected 1 to 255 dimensions each < 2**32, got shape {array.shape}"
        )
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    data = np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    opener = gzip.open if compress else open
    with opener(path, "wb") as stream:
        stream.write(header)
        stream.write(data)
    return path
