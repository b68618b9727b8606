"""The IDX reader against small files written here: every type code, 1 to 5 dimensions,
plain and gzip, and every kind of corrupt file."""

from __future__ import annotations

import gzip
import struct
import tracemalloc

import numpy as np
import pytest

from nn101.data.idx import IdxFormatError, read_idx, read_idx_header, write_idx

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
        (b"\x00\x00\x08\x00" + bytes(8), "at least 1 dimension"),
        (GOOD[:9], r"truncated IDX header: expected 2 dimension sizes \(8 bytes\), got 5"),
        (GOOD[:-1], r"truncated IDX data: header says shape \(2, 3\) .*6 bytes\), got only 5"),
        (GOOD + b"\x00\x00", r"account for 6 bytes, but the file has 2 more"),
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
