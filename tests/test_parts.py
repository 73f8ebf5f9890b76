"""gzip_parts: the contract's limits are never exceeded and the same input gives the same bytes."""

from __future__ import annotations

import gzip
import hashlib
import os

import pytest

from tests.sidekick_fixtures import ndjson_lines, voter_record
from webelect_sidekick.sidekick.parts import MAX_BYTES, MAX_RECORDS, gzip_bytes, gzip_parts, gzip_parts_parallel


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    return ndjson_lines([voter_record(i) for i in range(25_001)])


def test_parts_hold_at_most_10000_records_and_keep_every_record_in_order(lines):
    parts = list(gzip_parts(lines))
    assert [p.records for p in parts] == [10_000, 10_000, 5_001]
    assert b"".join(gzip.decompress(p.body) for p in parts) == b"".join(lines)
    for part in parts:
        assert len(part.body) <= MAX_BYTES
        assert part.sha256 == hashlib.sha256(part.body).hexdigest()
        assert gzip.decompress(part.body).count(b"\n") == part.records


def test_a_part_over_the_byte_limit_is_split_further():
    # Incompressible records: 300 records of ~2 KB random hex cannot fit 64 KB compressed.
    lines = [b'{"x":"' + os.urandom(1000).hex().encode() + b'"}\n' for _ in range(300)]
    parts = list(gzip_parts(lines, max_records=300, max_bytes=64 * 1024))
    assert len(parts) > 1
    assert all(len(p.body) <= 64 * 1024 for p in parts)
    assert sum(p.records for p in parts) == 300
    assert b"".join(gzip.decompress(p.body) for p in parts) == b"".join(lines)


def test_one_record_larger_than_the_limit_is_refused():
    with pytest.raises(ValueError, match="part limit"):
        list(gzip_parts([b'{"x":"' + os.urandom(2000).hex().encode() + b'"}\n'], max_bytes=1000))


def test_the_same_input_gives_the_same_bytes_serial_or_parallel(lines):
    first = list(gzip_parts(lines))
    again = list(gzip_parts(iter(lines)))
    parallel = list(gzip_parts_parallel(lines, workers=3))
    assert [p.body for p in first] == [p.body for p in again] == [p.body for p in parallel]
    assert [p.sha256 for p in first] == [p.sha256 for p in parallel]


def test_gzip_header_has_no_time_no_name_and_a_fixed_os_byte():
    body = gzip_bytes(b'{"a":1}\n')
    assert body[:4] == b"\x1f\x8b\x08\x00"  # deflate, no FNAME/FEXTRA/FCOMMENT flags
    assert body[4:8] == b"\x00\x00\x00\x00"  # mtime 0
    assert body[9] == 255  # OS "unknown", whatever platform compressed it
    assert gzip.decompress(body) == b'{"a":1}\n'


@pytest.mark.parametrize(
    "bad",
    [b'{"a":1}', b"\n", b'{"a":1}\n{"b":2}\n'],
    ids=["no trailing newline", "blank line", "two records in one line"],
)
def test_lines_the_contract_refuses_are_refused_before_sending(bad):
    with pytest.raises(ValueError, match="record 2"):
        list(gzip_parts([b'{"ok":1}\n', bad, b'{"ok":2}\n']))


def test_limits_above_the_contracts_are_refused():
    with pytest.raises(ValueError):
        list(gzip_parts([b"{}\n"], max_records=MAX_RECORDS + 1))
    with pytest.raises(ValueError):
        list(gzip_parts([b"{}\n"], max_bytes=MAX_BYTES + 1))


def test_no_input_gives_no_parts():
    assert list(gzip_parts([])) == []
    assert list(gzip_parts_parallel([], workers=2)) == []
