"""The IDX reader against thousands of mutated files (hypothesis): bytes flipped, files cut
short or extended, type codes and ranks rewritten, dimensions made huge, gzip streams damaged,
gzip bombs. Every file gives a valid array or an ``IdxFormatError`` naming the file: never
another exception type, and never unbounded memory, since the fuzz loop runs in a subprocess
under an address-space limit (``RLIMIT_AS``), where an oversized allocation is a MemoryError.

Run by hand: ``python tests/test_fuzz_idx.py DIR EXAMPLES [SEED]`` prints a JSON report.
"""

from __future__ import annotations

import gzip
import math
import struct
import time
from pathlib import Path

import pytest
from fuzz_child import ADDRESS_SPACE, child_main, run_child

EXAMPLES = 800  # hypothesis examples; with their variants, about 4000 files
SEED = 20260
BOMB_ZEROS = [1 << 16, 1 << 20, 1 << 25]  # bytes of zeros behind a bomb's header


@pytest.mark.slow
def test_mutated_idx_files_give_an_array_or_an_idx_format_error(tmp_path):
    report, elapsed = run_child(__file__, tmp_path, EXAMPLES, SEED, timeout=600)
    print(f"\nIDX fuzz: {report} (subprocess {elapsed:.1f} s)")
    assert report["examples"] >= EXAMPLES and report["cases"] >= 4 * EXAMPLES
    assert report["arrays"] > 0 and report["errors"] > 0  # both outcomes were exercised
    assert set(report["mutations"]) >= set(MUTATIONS)
    assert report["peak_rss_mb"] < ADDRESS_SPACE / 2**20
    assert report["slowest_read_s"] < 10  # the largest bomb (32 MiB) takes well under 1 s


# -- the fuzz loop, run in the subprocess --------------------------------------------------------

MUTATIONS = [
    "flip",
    "truncate",
    "append",
    "huge-dim",
    "rank",
    "type-code",
    "gzip-flip",
    "gzip-truncate",
    "bomb",
    "none",
]
VARIANTS = 4  # further files per example: the same file with random bytes flipped or cut
ITEMSIZES = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}


def header(code: int, shape: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def mutated_files(st, zero_streams: dict[int, bytes]):
    """A hypothesis strategy of (description, file bytes, expected data bytes or None)."""

    @st.composite
    def build(draw):
        code = draw(st.sampled_from(sorted(ITEMSIZES)))
        shape = tuple(draw(st.lists(st.integers(0, 6), min_size=1, max_size=4)))
        size = math.prod(shape) * ITEMSIZES[code]
        data = draw(st.binary(min_size=size, max_size=size))
        raw = bytearray(header(code, shape) + data)
        mutation = draw(st.sampled_from(MUTATIONS))
        compress = mutation.startswith(("gzip", "bomb")) or draw(st.booleans())
        if mutation == "flip":
            for _ in range(draw(st.integers(1, 4))):
                raw[draw(st.integers(0, len(raw) - 1))] ^= draw(st.integers(1, 255))
        elif mutation == "truncate":
            raw = raw[: draw(st.integers(0, len(raw) - 1))]
        elif mutation == "append":
            raw += draw(st.binary(min_size=1, max_size=64))
        elif mutation == "huge-dim":
            big = st.integers(2**16, 2**32 - 1) | st.sampled_from([2**31, 2**32 - 1])
            index = draw(st.integers(0, len(shape) - 1))
            raw[4 + 4 * index : 8 + 4 * index] = struct.pack(">I", draw(big))
        elif mutation == "rank":
            raw[3] = draw(st.integers(0, 255))
        elif mutation == "type-code":
            raw[2] = draw(st.integers(0, 255))
        if mutation == "bomb":
            return bomb(draw, st, code, zero_streams)
        blob = gzip.compress(bytes(raw), compresslevel=1, mtime=0) if compress else bytes(raw)
        if mutation == "gzip-flip":
            blob = bytearray(blob)
            blob[draw(st.integers(0, len(blob) - 1))] ^= draw(st.integers(1, 255))
        elif mutation == "gzip-truncate":
            blob = blob[: draw(st.integers(0, len(blob) - 1))]
        expected = data if mutation == "none" else None
        return mutation, bytes(blob), expected, draw(st.integers(0, 2**32 - 1))

    return build()


def bomb(draw, st, code: int, zero_streams: dict[int, bytes]):
    """A gzip file: a header, then many zeros (a second gzip member, precompressed): the header
    declares fewer, as many, or more bytes than follow."""
    zeros = draw(st.sampled_from(sorted(zero_streams)))
    count = zeros // ITEMSIZES[code] + draw(st.sampled_from([-1, 0, 1, 2**20, 2**30]))
    count = max(count, 0)
    shape = (count,) if count < 2**32 else (count // 2**16, 2**16)
    blob = gzip.compress(header(code, shape), mtime=0) + zero_streams[zeros]
    exact = count * ITEMSIZES[code] == zeros
    return "bomb", blob, bytes(zeros) if exact else None, draw(st.integers(0, 2**32 - 1))


def check_one(path: Path, mutation: str, blob: bytes, expected: bytes | None, tally) -> None:
    import numpy as np

    from nn101.data.idx import IdxFormatError, read_idx, read_idx_header

    path.write_bytes(blob)
    tally["cases"] += 1
    tally["mutations"][mutation] = tally["mutations"].get(mutation, 0) + 1
    start = time.perf_counter()
    try:
        array = read_idx(path)
    except IdxFormatError as error:
        assert str(path) in str(error), f"the error does not name the file: {error}"
        tally["errors"] += 1
        return
    finally:
        tally["slowest_read_s"] = max(tally["slowest_read_s"], time.perf_counter() - start)
    assert isinstance(array, np.ndarray) and array.dtype.isnative and array.flags.c_contiguous
    assert read_idx_header(path) == (array.dtype, array.shape)
    if expected is not None:  # an unmutated file reads back exactly
        assert array.astype(array.dtype.newbyteorder(">")).tobytes() == expected
    tally["arrays"] += 1


def variants(blob: bytes, seed: int) -> list[tuple[str, bytes]]:
    """``VARIANTS`` more files: ``blob`` with 1 to 3 random bytes flipped, or cut short."""
    import numpy as np

    rng = np.random.default_rng(seed)
    files = []
    for index in range(VARIANTS):
        if not blob:
            break
        if index % 2:
            files.append(("variant-cut", blob[: int(rng.integers(len(blob)))]))
            continue
        flipped = bytearray(blob)
        for position in rng.integers(len(blob), size=int(rng.integers(1, 4))):
            flipped[position] ^= int(rng.integers(1, 256))
        files.append(("variant-flip", bytes(flipped)))
    return files


def fuzz(directory: Path, examples: int, seed: int) -> dict:
    """Run ``examples`` hypothesis examples (each checks 1 + ``VARIANTS`` files); the report of
    what ran."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    zero_streams = {n: gzip.compress(bytes(n), mtime=0) for n in BOMB_ZEROS}
    tally: dict = {"examples": 0, "cases": 0, "arrays": 0, "errors": 0, "slowest_read_s": 0.0}
    tally["mutations"] = {}
    path = directory / "fuzzed.idx"

    @hypothesis_seed(seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(mutated_files(st, zero_streams))
    def run(example):
        mutation, blob, expected, seed = example
        check_one(path, mutation, blob, expected, tally)
        tally["examples"] += 1
        for name, variant in variants(blob, seed):
            check_one(path, name, variant, None, tally)

    start = time.monotonic()
    run()
    largest = max(len(stream) for stream in zero_streams.values())
    return {
        **tally,
        "slowest_read_s": round(tally["slowest_read_s"], 3),
        "seconds": round(time.monotonic() - start, 1),
        "largest_bomb": f"{max(BOMB_ZEROS) >> 20} MiB of zeros in {largest} bytes",
    }


if __name__ == "__main__":
    child_main(fuzz, SEED)
