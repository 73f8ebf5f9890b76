"""Sidekick voter records (NDJSON), built a chunk of voters at a time without per-row Python.

How a chunk becomes NDJSON lines (docs/spec/sidekick-api.md, "Voter record"):

1. Five statements read the chunk (``include/sql/sidekick_export/chunk_*.sql``): a
   ``COPY (…) TO STDOUT (FORMAT csv)`` of the voters with their household's address, and
   for tags ∪ groups, notes (+ author email), phones and emails one CSV text each, built
   by ``string_agg`` in PostgreSQL (the last three already in the contract's order) — one
   value instead of a COPY row per child, which is what reading costs in Python.
   ``pyarrow.csv`` parses each answer (a NULL and an empty string stay distinct).
2. Every string becomes a JSON string with vectorised Arrow kernels: values without
   ``"``, ``\\`` or a control character (nearly all) are just wrapped in quotes; the
   others are escaped by a few ``replace_substring`` passes, and what is left (other
   control characters, very rare) by ``json.dumps``. Nulls become ``null``. Non-ASCII
   text is kept as UTF-8, so names, emoji and any script arrive byte-exact.
3. Each child row becomes its JSON object; rows are grouped per voter with offsets from
   ``np.searchsorted`` (both sides are sorted by voter id) into a list array, and
   ``pc.binary_join`` turns each voter's list into ``a,b,c`` (``""`` for none, so ``[]``).
   Tags are sorted by code point (Arrow compares UTF-8 bytes, which is code point order,
   as Python's ``sorted``) and de-duplicated per voter, after the export's "Add To Group"
   name is added for targeted voters.
4. ``pc.binary_join_element_wise`` glues the pieces into one line per voter, ending in ``\\n``.

The chunk's voter ids travel to PostgreSQL as an array literal (``unnest``) together with
their id range, so the planner can read child rows by an index range; no temporary table
(and so no TEMP privilege) is needed. Every join is guarded by the campaign id. Records
come out in voter-id order, and nothing depends on the clock, so a rebuilt part has the
same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from dataclasses import dataclass

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from webelect_sidekick import sql
from webelect_sidekick.sidekick.parts import MAX_BYTES, MAX_RECORDS, gzip_bytes, gzip_parts

#: Session settings for the connections that build records: room for each chunk's sorts
#: and hashes, no JIT compile (each statement is short), no parallel workers (the builder
#: threads already keep the worker's cores busy), UTC ISO timestamps, UTF-8 text.
SESSION_SETTINGS = (
    "set work_mem = '64MB'",
    "set jit = off",
    "set max_parallel_workers_per_gather = 0",
    "set timezone = 'UTC'",
    "set datestyle = 'ISO, YMD'",
    "set client_encoding = 'UTF8'",
    # Each chunk's statements are planned for its own id range, never from a cached plan.
    "set plan_cache_mode = force_custom_plan",
)

_PARSE = pa_csv.ParseOptions(newlines_in_values=True)
_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))

_VOTER_COLUMNS = {
    "id": pa.int64(), "sos_voter_id": pa.string(), "rnc_reg_id": pa.string(), "household_id": pa.string(),
    "first_name": pa.string(), "middle_name": pa.string(), "last_name": pa.string(), "suffix": pa.string(),
    "birth_date": pa.string(), "gender": pa.string(), "party": pa.string(), "registration_date": pa.string(),
    "status": pa.string(), "precinct": pa.string(), "has_address": pa.string(), "address_line1": pa.string(),
    "unit": pa.string(), "city": pa.string(), "state": pa.string(), "zip5": pa.string(),
}  # fmt: skip
_TAG_COLUMNS = {"voter_id": pa.int64(), "name": pa.string()}
_NOTE_COLUMNS = {"voter_id": pa.int64(), "body": pa.string(), "created_at": pa.string(), "email": pa.string()}
_PHONE_COLUMNS = {"voter_id": pa.int64(), "number": pa.string(), "phone_type": pa.string(), "rank": pa.string()}
_EMAIL_COLUMNS = {"voter_id": pa.int64(), "address": pa.string(), "rank": pa.string()}


@dataclass(frozen=True)
class Chunk:
    """The built NDJSON lines of a run of voters, in voter-id order."""

    voter_ids: np.ndarray  # int64: the voters found (and so sent), ascending
    targeted: np.ndarray  # bool, per line
    lines: pa.Array  # large_string: one record per element, each ending in "\n"

    def __len__(self) -> int:
        return len(self.lines)

    def body(self, start: int, stop: int) -> memoryview:
        """Lines ``start:stop`` as one contiguous buffer, without copying."""
        if stop <= start:
            return memoryview(b"")
        _, offsets_buffer, data = self.lines.buffers()
        offsets = np.frombuffer(offsets_buffer, dtype=np.int64)
        base = self.lines.offset
        return memoryview(data)[offsets[base + start]: offsets[base + stop]]


@dataclass(frozen=True)
class BuiltPart:
    """One gzip part: its records, how many of them are targeted, its body and that body's SHA-256."""

    records: int
    targeted: int
    body: bytes
    sha256: str


# --------------------------------------------------------------------------- reading


def array_literal(values: np.ndarray) -> str:
    """A PostgreSQL array literal of integers, e.g. ``{1,2,3}``."""
    return "{" + ",".join(map(str, np.asarray(values, dtype=np.int64).tolist())) + "}"


def copy_csv(conn: psycopg.Connection, name: str, params: dict) -> bytes:
    """The CSV answer of ``include/sql/sidekick_export/<name>.sql`` as one bytes object."""
    statement = f"copy ({sql.load(f'sidekick_export/{name}.sql').rstrip().rstrip(';')}) to stdout (format csv)"
    out = io.BytesIO()
    with conn.cursor() as cur, cur.copy(statement, params) as copy:
        for block in copy:
            out.write(block)
    return out.getvalue()


def fetch_csv(conn: psycopg.Connection, name: str, params: dict) -> bytes:
    """The one CSV value that ``include/sql/sidekick_export/<name>.sql`` builds (binary: no decoding)."""
    row = conn.execute(sql.load(f"sidekick_export/{name}.sql"), params, binary=True).fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def read_csv(data: bytes, columns: dict[str, pa.DataType]) -> pa.Table:
    """PostgreSQL CSV: an unquoted empty field is NULL, a quoted one ("") the empty string."""
    if not data:
        return pa.table({name: pa.array([], type=kind) for name, kind in columns.items()})
    return pa_csv.read_csv(
        io.BytesIO(data),
        # One thread: the builder threads already run side by side, and a chunk is small.
        read_options=pa_csv.ReadOptions(column_names=list(columns), block_size=64 << 20, use_threads=False),
        parse_options=_PARSE,
        convert_options=pa_csv.ConvertOptions(column_types=columns, strings_can_be_null=True, null_values=[""],
                                              quoted_strings_can_be_null=False),  # fmt: skip
    ).combine_chunks()


def _col(table: pa.Table, name: str) -> pa.Array:
    column = table.column(name)
    return column.chunk(0) if column.num_chunks == 1 else pa.concat_arrays(column.chunks)


# --------------------------------------------------------------------------- JSON pieces

#: Bytes that a JSON string must escape: '"', '\\' and the control characters.
_SPECIAL_BYTE = np.zeros(256, dtype=bool)
_SPECIAL_BYTE[:0x20] = True
_SPECIAL_BYTE[[0x22, 0x5C]] = True


def _large(piece) -> pa.Array | pa.Scalar:
    if isinstance(piece, str):
        return _text(piece)
    return piece if piece.type == pa.large_string() else piece.cast(pa.large_string())


@functools.cache
def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def _join(*pieces) -> pa.Array:
    """Concatenate arrays and literal strings element-wise (all as large_string)."""
    return pc.binary_join_element_wise(*map(_large, pieces), _text(""))


def _special_rows(values: pa.Array) -> np.ndarray:
    """Indices of the strings holding a byte JSON must escape: one numpy pass over the data buffer."""
    _, offsets_buffer, data_buffer = values.buffers()
    if data_buffer is None or len(values) == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[values.offset: values.offset + len(values) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0]: offsets[-1]]
    hits = np.flatnonzero(_SPECIAL_BYTE[data])
    if hits.size == 0:
        return hits
    return np.unique(np.searchsorted(offsets, hits + offsets[0], side="right") - 1)


def escaped(values: pa.Array) -> pa.Array:
    """The strings with JSON's escapes applied (without the quotes); nulls stay null. large_string.

    Strings without '"', '\\' or a control character (nearly all) are left alone; the
    others get a few vectorised ``replace_substring`` passes, and any other control
    character (very rare) is written as ``\\u00XX`` by ``json.dumps``.
    """
    values = _large(values)
    rows = _special_rows(values)
    if rows.size == 0:
        return values
    special = values.take(pa.array(rows))
    for raw, replacement in _ESCAPES:
        special = pc.replace_substring(special, raw, replacement)
    leftover = _special_rows(pc.replace_substring(special, "\\", ""))
    if leftover.size:
        texts = special.to_pylist()
        originals = values.take(pa.array(rows[leftover])).to_pylist()
        for index, original in zip(leftover.tolist(), originals, strict=True):
            texts[index] = json.dumps(original, ensure_ascii=False)[1:-1]
        special = pa.array(texts, type=pa.large_string())
    mask = np.zeros(len(values), dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(values, pa.array(mask), special)


def json_strings(values: pa.Array) -> pa.Array:
    """Each string as a JSON string literal, ``null`` for null; large_string."""
    return pc.fill_null(_join('"', escaped(values), '"'), _text("null"))


class JsonObjects:
    """Builds one JSON object per row from columns, in one ``binary_join_element_wise`` call.

    Literal text between values is merged, and a column without nulls is spliced in with
    its quotes as part of the literals, so each value is copied once.
    """

    def __init__(self) -> None:
        self._pieces: list = []

    def _literal(self, text: str) -> None:
        if self._pieces and isinstance(self._pieces[-1], str):
            self._pieces[-1] += text
        else:
            self._pieces.append(text)

    def _key(self, key: str) -> None:
        self._literal(("{" if not self._pieces else ",") + json.dumps(key) + ":")

    def string(self, key: str, values: pa.Array, *, safe: bool = False) -> JsonObjects:
        """A string value; ``safe`` skips the escape check for values that cannot need it (dates, enums)."""
        self._key(key)
        values = _large(values) if safe else escaped(values)
        if values.null_count == 0:
            self._literal('"')
            self._pieces.append(values)
            self._literal('"')
        else:
            self._pieces.append(pc.fill_null(_join('"', values, '"'), _text("null")))
        return self

    def raw(self, key: str, values: pa.Array) -> JsonObjects:
        """A value that is already JSON (an integer, a boolean, a nested object), ``null`` for null."""
        self._key(key)
        values = _large(values)
        self._pieces.append(values if values.null_count == 0 else pc.fill_null(values, _text("null")))
        return self

    def build(self, end: str = "}") -> pa.Array:
        self._literal(end)
        return _join(*self._pieces)


def _grouped(voter_ids: np.ndarray, child_ids: np.ndarray, fragments: pa.Array) -> pa.Array:
    """Per voter, its child fragments joined by ``,`` (``""`` for none); both id arrays ascending."""
    if len(child_ids) == 0 or len(voter_ids) == 0:
        return pa.array(np.full(len(voter_ids), ""), type=pa.large_string())
    starts = np.searchsorted(child_ids, voter_ids, side="left")
    ends = np.searchsorted(child_ids, voter_ids, side="right")
    if starts[0] != 0 or ends[-1] != len(child_ids) or not np.array_equal(starts[1:], ends[:-1]):
        # Rows of voters missing from the chunk's answer (e.g. deleted since the list was
        # selected): drop them so that every voter's rows are contiguous.
        keep = np.isin(child_ids, voter_ids)
        return _grouped(voter_ids, child_ids[keep], fragments.filter(pa.array(keep)))
    offsets = pa.array(np.append(starts, ends[-1]).astype(np.int64))
    return pc.binary_join(pa.LargeListArray.from_arrays(offsets, _large(fragments)), _text(","))


def _timestamps(values: pa.Array) -> pa.Array:
    """PostgreSQL's ISO UTC text (``2025-06-01 12:00:00.123+00``) as ``2025-06-01T12:00:00Z``."""
    return _join(pc.utf8_slice_codeunits(values, 0, 10), "T", pc.utf8_slice_codeunits(values, 11, 19), "Z")


def _voter_heads(voters: pa.Table, targeted: np.ndarray) -> pa.Array:
    """Each record from ``{`` up to and including ``"address":…`` (without the closing brace)."""
    c = lambda name: _col(voters, name)  # noqa: E731
    has_address = pc.equal(c("has_address"), "t")
    address = (
        JsonObjects().string("line1", c("address_line1")).string("unit", c("unit")).string("city", c("city"))
        .string("state", c("state")).string("zip5", c("zip5")).build()
    )  # fmt: skip
    address = pc.if_else(has_address, address, _text("null"))
    return (
        JsonObjects()
        .raw("webelect_voter_id", c("id"))
        .string("sos_voter_id", c("sos_voter_id"))
        .string("rnc_reg_id", c("rnc_reg_id"))
        .raw("targeted", pc.if_else(pa.array(targeted, type=pa.bool_()), _text("true"), _text("false")))
        .raw("household_id", c("household_id"))
        .string("first_name", c("first_name"))
        .string("middle_name", c("middle_name"))
        .string("last_name", c("last_name"))
        .string("suffix", c("suffix"))
        .string("birth_date", c("birth_date"), safe=True)
        .string("gender", c("gender"))
        .string("party", c("party"))
        .string("registration_date", c("registration_date"), safe=True)
        .string("voter_status", c("status"))
        .string("precinct", c("precinct"))
        .raw("address", address)
        .build(end="")
    )


def _tag_lists(tags: pa.Table, voter_ids: np.ndarray, targeted: np.ndarray, add_to_group: str | None) -> pa.Array:
    ids = _col(tags, "voter_id")
    names = _col(tags, "name").cast(pa.large_string())
    if add_to_group is not None and targeted.any():
        chosen = voter_ids[targeted]
        ids = pa.concat_arrays([ids, pa.array(chosen, type=pa.int64())])
        names = pa.concat_arrays([names, pa.array(np.full(len(chosen), add_to_group, dtype=object),
                                                  type=pa.large_string())])  # fmt: skip
    if len(ids) == 0:
        return _grouped(voter_ids, np.empty(0, dtype=np.int64), names)
    order = pc.sort_indices(pa.table({"voter_id": ids, "name": names}),
                            sort_keys=[("voter_id", "ascending"), ("name", "ascending")])  # fmt: skip
    ids = ids.take(order).to_numpy()
    names = names.take(order)
    # Sorted, so a duplicate (same voter, same name) follows its first occurrence.
    keep = np.ones(len(ids), dtype=bool)
    if len(ids) > 1:
        same_name = pc.equal(names.slice(1), names.slice(0, len(names) - 1)).to_numpy(zero_copy_only=False)
        keep[1:] = ~((ids[1:] == ids[:-1]) & same_name)
    if not keep.all():
        mask = pa.array(keep)
        ids, names = ids[keep], names.filter(mask)
    return _grouped(voter_ids, ids, json_strings(names))


def build_chunk(conn: psycopg.Connection, *, campaign_id: int, voter_ids: np.ndarray, targeted: np.ndarray,
                add_to_group: str | None) -> Chunk:  # fmt: skip
    """The NDJSON lines of the given voters (ascending ids, with their targeted flags) of one campaign."""
    voter_ids = np.asarray(voter_ids, dtype=np.int64)
    targeted = np.asarray(targeted, dtype=bool)
    if len(voter_ids) == 0:
        return Chunk(voter_ids, targeted, pa.array([], type=pa.large_string()))
    params = {"campaign_id": campaign_id, "ids": array_literal(voter_ids), "lo": int(voter_ids[0]),
              "hi": int(voter_ids[-1])}  # fmt: skip
    voters = read_csv(copy_csv(conn, "chunk_voters", params), _VOTER_COLUMNS)
    found = _col(voters, "id").to_numpy()
    if len(found) != len(voter_ids):
        targeted = targeted[np.searchsorted(voter_ids, found)]
    head = _voter_heads(voters, targeted)

    tags = read_csv(fetch_csv(conn, "chunk_tags", params), _TAG_COLUMNS)
    tag_lists = _tag_lists(tags, found, targeted, add_to_group)

    notes = read_csv(fetch_csv(conn, "chunk_notes", params), _NOTE_COLUMNS)
    note_objects = (
        JsonObjects().string("body", _col(notes, "body"))
        .string("created_at", _timestamps(_col(notes, "created_at")), safe=True)
        .string("author_email", _col(notes, "email")).build()
    )  # fmt: skip
    note_lists = _grouped(found, _col(notes, "voter_id").to_numpy(), note_objects)

    phones = read_csv(fetch_csv(conn, "chunk_phones", params), _PHONE_COLUMNS)
    phone_objects = (
        JsonObjects().string("number", _col(phones, "number")).string("type", _col(phones, "phone_type"))
        .raw("rank", _col(phones, "rank")).build()
    )  # fmt: skip
    phone_lists = _grouped(found, _col(phones, "voter_id").to_numpy(), phone_objects)

    emails = read_csv(fetch_csv(conn, "chunk_emails", params), _EMAIL_COLUMNS)
    email_objects = (
        JsonObjects().string("address", _col(emails, "address")).raw("rank", _col(emails, "rank")).build()
    )  # fmt: skip
    email_lists = _grouped(found, _col(emails, "voter_id").to_numpy(), email_objects)

    lines = _join(head, ',"tags":[', tag_lists, '],"notes":[', note_lists, '],"phones":[', phone_lists,
                  '],"emails":[', email_lists, "]}\n")  # fmt: skip
    return Chunk(found, targeted, lines)


# --------------------------------------------------------------------------- parts


def cut_parts(chunk: Chunk, max_records: int = MAX_RECORDS, max_bytes: int = MAX_BYTES) -> list[BuiltPart]:
    """The chunk's lines as gzip parts of at most ``max_records`` records and ``max_bytes`` compressed.

    The usual case compresses a slice of the chunk's buffer directly (``gzip_bytes``: fixed
    header, fixed level, so the same bytes every time); a slice over ``max_bytes``
    compressed goes through ``gzip_parts``, which halves it deterministically.
    """
    parts: list[BuiltPart] = []
    for start in range(0, len(chunk), max_records):
        stop = min(start + max_records, len(chunk))
        body = gzip_bytes(chunk.body(start, stop))
        if len(body) <= max_bytes:
            parts.append(BuiltPart(stop - start, int(chunk.targeted[start:stop].sum()), body,
                                   hashlib.sha256(body).hexdigest()))  # fmt: skip
            continue
        lines = [line.encode() for line in chunk.lines.slice(start, stop - start).to_pylist()]
        position = start
        for part in gzip_parts(lines, max_records=max_records, max_bytes=max_bytes):
            targeted = int(chunk.targeted[position: position + part.records].sum())
            parts.append(BuiltPart(part.records, targeted, part.body, part.sha256))
            position += part.records
    return parts
