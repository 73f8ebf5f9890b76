"""Cut NDJSON voter records into gzip parts within the contract's limits, byte for byte the same every time.

Why byte-deterministic: Sidekick answers 409 when a stored part is sent again with other
bytes, so a retried task must rebuild exactly the same parts. The gzip header is written
here with mtime 0, no file name and a fixed OS byte (``gzip.compress`` lets zlib choose the
OS byte per platform), and the compression level is fixed. The same zlib build must be used
for a retry (one Docker image); different zlib builds may compress differently.

Why level 2: measured on synthetic voter NDJSON (see ``DEFAULT_LEVEL``), levels 1 and 2 take
the same time and 2 is 3% smaller; 3 costs 7% more time for 2% less, 6 twice the time. A
1.5M-voter export pushes ~1 GB of JSON through here (~4 s of one core at ~250 MB/s), and
the parts are sent at 10 per second anyway, so speed wins over size. zlib releases the GIL
while it compresses, so :func:`gzip_parts_parallel` gets real parallelism from threads.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice, repeat

MAX_RECORDS = 10_000
MAX_BYTES = 16 * 1024 * 1024
#: Measured on 10,000 synthetic voter records (7 MB of NDJSON), median of 10, one core:
#: level 1: 26.4 ms, 0.99 MB; level 2: 26.5 ms, 0.96 MB; level 3: 28.2 ms, 0.93 MB; level 6: ~59 ms, 0.82 MB.
DEFAULT_LEVEL = 2


@dataclass(frozen=True)
class Part:
    """One part ready for ``PUT``: how many records it holds, its gzip body and that body's SHA-256."""

    records: int
    body: bytes
    sha256: str

    def __repr__(self) -> str:
        return f"Part(records={self.records}, bytes={len(self.body)}, sha256={self.sha256[:12]}…)"


def gzip_bytes(data: bytes, level: int = DEFAULT_LEVEL) -> bytes:
    """A single-member gzip of ``data`` with a fixed header (mtime 0, no name, OS byte 255)."""
    xfl = 4 if level == 1 else 2 if level == 9 else 0
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return b"".join(
        (
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
            bytes((xfl, 255)),
            compressor.compress(data),
            compressor.flush(),
            struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF),
        )
    )


def _check(batch: list[bytes]) -> bytes:
    """Join one batch, refusing lines the contract refuses (each line one record ending in a single \\n)."""
    data = b"".join(batch)
    if (
        data.count(b"\n") != len(batch)
        or not all(map(bytes.endswith, batch, repeat(b"\n")))
        or b"\n" in batch
    ):
        for i, line in enumerate(batch):
            if not line.endswith(b"\n") or line.count(b"\n") != 1 or line == b"\n":
                raise ValueError(f"record {i + 1} of a part is not one non-blank NDJSON line ending in \\n")
    return data


def _compress(batch: list[bytes], max_bytes: int, level: int) -> list[Part]:
    """Compress one batch; halve it (recursively, deterministically) while the result is over max_bytes."""
    body = gzip_bytes(_check(batch), level)
    if len(body) <= max_bytes:
        return [Part(records=len(batch), body=body, sha256=hashlib.sha256(body).hexdigest())]
    if len(batch) == 1:
        raise ValueError(f"one record compresses to {len(body)} bytes, over the {max_bytes}-byte part limit")
    half = (len(batch) + 1) // 2
    return _compress(batch[:half], max_bytes, level) + _compress(batch[half:], max_bytes, level)


def _batches(lines: Iterable[bytes], max_records: int) -> Iterator[list[bytes]]:
    it = iter(lines)
    while batch := list(islice(it, max_records)):
        yield batch


def _check_limits(max_records: int, max_bytes: int) -> None:
    if not 1 <= max_records <= MAX_RECORDS:
        raise ValueError(f"max_records must be 1-{MAX_RECORDS}, not {max_records}")
    if not 1 <= max_bytes <= MAX_BYTES:
        raise ValueError(f"max_bytes must be 1-{MAX_BYTES}, not {max_bytes}")


def gzip_parts(
    lines: Iterable[bytes], *, max_records: int = MAX_RECORDS, max_bytes: int = MAX_BYTES, level: int = DEFAULT_LEVEL
) -> Iterator[Part]:
    """Parts of at most ``max_records`` records and ``max_bytes`` compressed bytes, in input order."""
    _check_limits(max_records, max_bytes)
    for batch in _batches(lines, max_records):
        yield from _compress(batch, max_bytes, level)


def gzip_parts_parallel(
    lines: Iterable[bytes],
    *,
    workers: int = 4,
    max_records: int = MAX_RECORDS,
    max_bytes: int = MAX_BYTES,
    level: int = DEFAULT_LEVEL,
) -> Iterator[Part]:
    """The same parts as :func:`gzip_parts`, compressed by ``workers`` threads; at most 2×workers batches in memory."""
    _check_limits(max_records, max_bytes)
    if workers <= 1:
        yield from gzip_parts(lines, max_records=max_records, max_bytes=max_bytes, level=level)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gzip-part") as pool:
        pending: deque = deque()
        for batch in _batches(lines, max_records):
            pending.append(pool.submit(_compress, batch, max_bytes, level))
            if len(pending) >= 2 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
