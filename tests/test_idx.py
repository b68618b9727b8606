"""The IDX reader against small files written here: every type code, 1 to 5 dimensions,
empty arrays, plain and gzip, every kind of corrupt file, headers that lie about sizes and
gzip bombs (bounded memory). Mutated files by the thousand: tests/test_fuzz_idx.py."""

from __future__ import annotations

import gzip
import math
import struct
import tracemalloc
import zlib

import numpy as np
import pytest

from nn101.data.idx import IdxFormatError, read_idx, read_idx_header, write_idx
from nn101.errors import NN101Error

# type code -> the big-endian dtype the IDX description gives for it
TYPE_CODES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
SHAPES = [(7,), (3, 4), (2, 3, 5), (2, 1, 3, 2), (1, 2, 1, 2, 3)]


def idx_bytes(code: int, shape: tuple[int, ...], values: np.ndarray) -> bytes:
    """An IDX file built by hand from the format description."""
    header = bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
    return header + values.astype(TYPE_CODES[code]).tobytes()


def sample(code: int, shape: tuple[int, ...]) -> np.ndarray:
    values = np.arange(np.prod(shape)).reshape(shape) - 3  # negatives for the signed types
    if code == 0x08:
        values = values * 37 % 256  # spans 0..255
    elif code in (0x0D, 0x0E):
        values = values * 0.25 + 1e-3
    elif code == 0x0B:
        values = values * 1001  # needs both bytes
    elif code == 0x0C:
        values = values * 100_003
    return values.astype(np.dtype(TYPE_CODES[code]).newbyteorder("="))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{len(s)}d")
@pytest.mark.parametrize("code", TYPE_CODES, ids=lambda c: f"0x{c:02X}")
@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gz"])
def test_reads_every_type_code_and_rank(tmp_path, code, shape, compressed):
    expected = sample(code, shape)
    raw = idx_bytes(code, shape, expected)
    path = tmp_path / ("data.idx.gz" if compressed else "data.idx")
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    array = read_idx(path)
    assert array.shape == shape
    assert array.dtype == expected.dtype and array.dtype.isnative
    assert array.flags.c_contiguous and array.flags.writeable
    np.testing.assert_array_equal(array, expected)
    assert read_idx_header(path) == (expected.dtype, shape)


@pytest.mark.parametrize("code", TYPE_CODES, ids=lambda c: f"0x{c:02X}")
def test_write_idx_produces_the_format(tmp_path, code):
    array = sample(code, (2, 3, 4))
    plain = write_idx(tmp_path / "a.idx", array)
    assert plain.read_bytes() == idx_bytes(code, (2, 3, 4), array)
    packed = write_idx(tmp_path / "a.idx.gz", array)  # .gz -> compressed
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    np.testing.assert_array_equal(read_idx(packed), array)


def test_gzip_is_detected_by_content_not_name(tmp_path):
    array = sample(0x08, (4, 4))
    path = write_idx(tmp_path / "images", array, compress=True)
    np.testing.assert_array_equal(read_idx(path), array)


def test_write_idx_refuses_types_idx_cannot_hold(tmp_path):
    for dtype in (np.int64, np.bool_, np.uint16):
        with pytest.raises(TypeError, match="IDX stores"):
            write_idx(tmp_path / "x.idx", np.zeros(3, dtype))
    with pytest.raises(ValueError, match="dimensions"):
        write_idx(tmp_path / "x.idx", np.uint8(3))


GOOD = idx_bytes(0x08, (2, 3), np.arange(6))


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", r"truncated IDX file: expected a 4-byte magic number, got 0 bytes"),
        (b"\x00\x00\x08", "truncated IDX file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(16), r"not an IDX file: expected magic 0x0000TTDD, got 0x"),
        (b"\x00\x01\x08\x01" + bytes(8), "not an IDX file"),
        (b"\x00\x00\x0a\x01" + bytes(8), "unknown IDX type code 0x0A"),
        (b"\x00\x00\x08\x00" + bytes(8), "expected 1 to 32 dimensions in the IDX header, got 0"),
        (GOOD[:9], r"truncated IDX header: expected 2 dimension sizes \(8 bytes\), got 5"),
        (GOOD[:-1], r"truncated IDX data: header says shape \(2, 3\) .*6 bytes\), got only 5"),
        (GOOD + b"\x00\x00", r"account for 6 bytes, but the file has (2|at least 1) more"),
        (idx_bytes(0x0C, (3,), np.arange(3))[:-2], r"\(12 bytes\), got only 10"),
    ],
    ids=[
        "empty",
        "short-magic",
        "png",
        "nonzero-magic",
        "type-code",
        "zero-dims",
        "short-header",
        "short-data",
        "trailing-bytes",
        "short-int32",
    ],
)
@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gz"])
def test_corrupt_files_give_clear_errors(tmp_path, raw, message, compressed):
    path = tmp_path / "bad.idx"
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    with pytest.raises(IdxFormatError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip_stream(tmp_path):
    packed = gzip.compress(idx_bytes(0x08, (50, 50), np.arange(2500)))
    path = tmp_path / "cut.idx.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(IdxFormatError, match="gzip"):
        read_idx(path)


def test_gzip_with_a_bad_checksum(tmp_path):
    packed = bytearray(gzip.compress(idx_bytes(0x08, (2, 3), np.arange(6))))
    packed[-8] ^= 0xFF  # the CRC-32 of the uncompressed data
    path = tmp_path / "crc.idx.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(IdxFormatError, match="gzip"):
        read_idx(path)


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nothing.idx")


@pytest.mark.parametrize("code", [0x08, 0x0C], ids=["ubyte", "int"])
@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gz"])
def test_reading_allocates_the_array_once(tmp_path, code, compressed):
    """Peak memory while reading stays near the array's own size: no second full copy."""
    array = sample(code, (3000, 28, 28))  # 2.4 MB as ubyte, 9.4 MB as int
    path = write_idx(tmp_path / "big.idx", array, compress=compressed)
    tracemalloc.start()
    try:
        result = read_idx(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(result, array)
    assert peak < array.nbytes + 2**20, f"peak {peak} for an array of {array.nbytes}"


def peak_memory_of(function, *args):
    """(result or exception, peak traced bytes) of calling ``function(*args)``."""
    tracemalloc.start()
    try:
        try:
            outcome = function(*args)
        except Exception as error:  # noqa: BLE001 - returned for the caller to check
            outcome = error
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return outcome, peak


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gz"])
def test_a_header_larger_than_the_file_allocates_nothing(tmp_path, compressed):
    """16 bytes declaring 2**31 doubles (16 GiB): refused from the file's size alone."""
    raw = bytes([0, 0, 0x0E, 3]) + struct.pack(">3I", 2**10, 2**10, 2**11)
    path = tmp_path / "liar.idx"
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    error, peak = peak_memory_of(read_idx, path)
    assert isinstance(error, IdxFormatError), error
    assert str(path) in str(error) and "(1024, 1024, 2048) of float64" in str(error)
    assert "got only 0 bytes" in str(error) or "inflate to at most" in str(error)
    assert peak < 2**20, f"peak {peak} bytes traced while refusing a 16-byte file"


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gz"])
def test_absurd_element_counts_are_refused(tmp_path, compressed):
    raw = bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 2**16, 2**16, 2**16)
    path = tmp_path / "huge.idx"
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    with pytest.raises(
        IdxFormatError, match=r"281474976710656 values; expected at most 2147483648"
    ):
        read_idx(path)
    with pytest.raises(IdxFormatError, match="expected at most"):
        read_idx_header(path)


@pytest.mark.parametrize("ndim", [33, 65, 255])
def test_more_dimensions_than_numpy_holds(tmp_path, ndim):
    """Dimensions of size 0 make the byte count 0, so only the rank check can refuse them."""
    raw = bytes([0, 0, 0x08, ndim]) + bytes(4 * ndim)
    path = tmp_path / "deep.idx"
    path.write_bytes(raw)
    with pytest.raises(IdxFormatError, match=f"expected 1 to 32 dimensions .*, got {ndim}"):
        read_idx(path)
    with pytest.raises(ValueError, match="expected 1 to 32 dimensions"):
        write_idx(tmp_path / "w.idx", np.zeros((1,) * 33, np.uint8))


@pytest.mark.parametrize("shape", [(0,), (0, 28, 28), (5, 0), (2, 0, 3)])
@pytest.mark.parametrize("code", [0x08, 0x0B, 0x0E], ids=["ubyte", "short", "double"])
@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gz"])
def test_empty_arrays_round_trip(tmp_path, shape, code, compressed):
    array = sample(code, shape)
    path = write_idx(tmp_path / "empty.idx", array, compress=compressed)
    result = read_idx(path)
    assert result.shape == shape and result.dtype == array.dtype and result.dtype.isnative
    assert read_idx_header(path) == (array.dtype, shape)


def gzip_bomb(declared: tuple[int, ...], zeros: int) -> bytes:
    """A gzip file: an IDX ubyte header declaring ``declared``, then ``zeros`` zero bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    header = bytes([0, 0, 0x08, len(declared)]) + struct.pack(f">{len(declared)}I", *declared)
    parts = [packer.compress(header)]
    block = bytes(1 << 20)
    for _ in range(zeros >> 20):
        parts.append(packer.compress(block))
    return b"".join(parts) + packer.flush()


@pytest.mark.parametrize("declared", [(10,), (1000, 1000)], ids=["10B", "1MB"])
def test_a_gzip_bomb_is_inflated_no_further_than_its_header(tmp_path, declared):
    """16 MiB of zeros in a 16 KiB file: reading stops one byte past the declared data."""
    path = tmp_path / "bomb.idx.gz"
    path.write_bytes(gzip_bomb(declared, 16 << 20))
    assert path.stat().st_size < 20_000
    error, peak = peak_memory_of(read_idx, path)
    assert isinstance(error, IdxFormatError), error
    assert str(path) in str(error) and "but the file has at least 1 more" in str(error)
    assert peak < math.prod(declared) + 2**20, f"peak {peak} bytes traced"


def test_every_idx_error_is_an_nn101_value_error(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x00\x00\x08")
    with pytest.raises(NN101Error) as info:
        read_idx(path)
    assert isinstance(info.value, IdxFormatError) and isinstance(info.value, ValueError)


def test_an_empty_shape_with_huge_dimensions_is_refused(tmp_path):
    """(3670016, 0, 0, 2**31): no values, yet NumPy cannot make the array ("array is too big");
    found by tests/test_fuzz_idx.py."""
    raw = bytes([0, 0, 0x08, 4]) + struct.pack(">4I", 3670016, 0, 0, 2**31)
    path = tmp_path / "empty-huge.idx"
    path.write_bytes(raw)
    with pytest.raises(IdxFormatError, match="nonzero dimensions to multiply to at most"):
        read_idx(path)
