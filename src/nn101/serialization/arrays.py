"""Arrays in ``.npz`` files, read as hostile input: every header before any data.

``write_npz`` is ``np.savez`` into bytes. ``read_headers`` opens each ``.npy`` member, reads
only its header (``np.lib.format``, at most 10 kB each) and checks that the member's declared
size is exactly header + shape x itemsize, that the dtype holds numbers (never objects, so never
pickle), and that a compressed member cannot expand beyond ``MAX_EXPANSION`` times its stored
bytes. Nothing is allocated from a declared shape until the caller has compared the headers
with what it expects; ``read_array`` then reads exactly the declared bytes.
"""

from __future__ import annotations

import io
import math
import os
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO

import numpy as np

from nn101.errors import ModelFileError

__all__ = [
    "Header",
    "write_npz",
    "read_headers",
    "read_array",
    "archive_size",
    "check_member_size",
    "ZIP_ERRORS",
    "MAX_MEMBERS",
]

MAX_MEMBERS = 100_000
MAX_HEADER_BYTES = 10_000
MAX_EXPANSION = 50  # a deflated member may declare at most 50x its stored size ...
SMALL_MEMBER = 1 << 20  # ... unless it is under 1 MiB
ALLOWED_KINDS = "fiub"  # float, signed / unsigned integer, bool
# What a damaged zip makes zipfile / zlib / numpy raise; each becomes a ModelFileError.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    ValueError,
    OSError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
    UnicodeDecodeError,
    KeyError,
    SyntaxError,
    TypeError,
)


@dataclass(frozen=True)
class Header:
    """One ``.npy`` member: its array name, shape, dtype and memory order."""

    member: str
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def write_npz(arrays: dict[str, np.ndarray]) -> bytes:
    """The bytes of an uncompressed ``.npz`` holding ``arrays`` (``np.savez``)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def read_headers(archive: zipfile.ZipFile, source: str) -> dict[str, Header]:
    """The header of every member of an opened ``.npz``, by array name, each checked."""
    infos, available = archive.infolist(), archive_size(archive)
    if len(infos) > MAX_MEMBERS:
        raise ModelFileError(f"{source}: {len(infos)} arrays, more than {MAX_MEMBERS}")
    headers: dict[str, Header] = {}
    for info in infos:
        name = info.filename.removesuffix(".npy")
        if not info.filename.endswith(".npy") or name in headers:
            problem = "a duplicate" if name in headers else "not a .npy array"
            raise ModelFileError(f"{source}: member {info.filename!r} is {problem}")
        _check_declared_size(info, source, available)
        with archive.open(info) as member:
            headers[name] = _read_header(member, info, source)
    return headers


def archive_size(archive: zipfile.ZipFile) -> int:
    """Bytes in the file under ``archive``: no member can hold more (a damaged size field
    could otherwise make zipfile allocate whatever it declares)."""
    assert archive.fp is not None
    return archive.fp.seek(0, os.SEEK_END)


def check_member_size(info: zipfile.ZipInfo, available: int, source: str) -> None:
    """Refuse a member whose stored size exceeds the whole file, or a stored member whose
    two size fields disagree."""
    stored = info.compress_type == zipfile.ZIP_STORED
    if info.compress_size > available or (stored and info.file_size != info.compress_size):
        raise ModelFileError(
            f"{source}: member {info.filename!r} declares {info.compress_size} stored bytes "
            f"({info.file_size} uncompressed) in a file of {available}"
        )


def _check_declared_size(info: zipfile.ZipInfo, source: str, available: int) -> None:
    check_member_size(info, available, source)
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{source}: member {info.filename!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ModelFileError(
            f"{source}: member {info.filename!r} uses compression method {info.compress_type}; "
            "expected stored or deflated"
        )
    limit = max(SMALL_MEMBER, MAX_EXPANSION * info.compress_size)
    if info.compress_type == zipfile.ZIP_STORED:
        limit = info.compress_size
    if info.file_size > limit:
        raise ModelFileError(
            f"{source}: member {info.filename!r} declares {info.file_size} bytes from "
            f"{info.compress_size} stored (at most {limit} accepted: a zip bomb?)"
        )


def _read_header(member: IO[bytes], info: zipfile.ZipInfo, source: str) -> Header:
    try:
        version = np.lib.format.read_magic(member)
        read = {
            (1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0,
        }.get(version)
        if read is None:
            raise ValueError(f"unsupported .npy version {version}")
        shape, fortran_order, dtype = read(member, max_header_size=MAX_HEADER_BYTES)
        header_bytes = member.tell()
    except ZIP_ERRORS as error:
        raise ModelFileError(
            f"{source}: member {info.filename!r}: bad .npy header ({error})"
        ) from None
    if dtype.hasobject or dtype.kind not in ALLOWED_KINDS or dtype.subdtype is not None:
        raise ModelFileError(
            f"{source}: array {info.filename!r} has dtype {dtype}; "
            "expected a numeric dtype (object arrays would need pickle)"
        )
    header = Header(info.filename, tuple(shape), dtype, bool(fortran_order))
    if info.file_size != header_bytes + header.nbytes:
        raise ModelFileError(
            f"{source}: array {info.filename!r} declares shape {header.shape} of {dtype} "
            f"({header.nbytes} bytes) but the member holds {info.file_size - header_bytes}"
        )
    return header


def read_array(archive: zipfile.ZipFile, header: Header, source: str) -> np.ndarray:
    """The array ``header`` describes (already checked by ``read_headers``), read whole."""
    try:
        size = archive.getinfo(header.member).file_size  # checked by read_headers
        with archive.open(header.member) as member:
            # Exactly the declared size: a bare read() would let a deflated member that lies
            # about its size inflate without bound; zipfile checks the CRC at the end.
            data = member.read(size)
    except ZIP_ERRORS as error:
        raise ModelFileError(
            f"{source}: array {header.member!r} cannot be read ({error})"
        ) from None
    if len(data) < header.nbytes:
        raise ModelFileError(f"{source}: array {header.member!r} is truncated")
    body = data[len(data) - header.nbytes :]
    array = np.frombuffer(body, dtype=header.dtype)
    return array.reshape(header.shape, order="F" if header.fortran_order else "C")
