"""What Sidekick checks in an uploaded part: the body when it arrives, each record when it loads.

:func:`read_part` runs in the PUT request and checks everything in one pass, so a part is
decompressed and decoded once (a 10,000-record part costs ~40 ms of one core): gzip, size
and line limits, that every line is exactly one JSON object (else 413/422), and the
per-record rules below, whose outcome (the part's :class:`Digest`) is stored with the part.
Sidekick only *reports* rejections once it loads the upload; the background loader then
adds duplicates across parts (:func:`find_duplicates`) and publishes them.

Per-record rules (a failing record is listed in ``rejections`` with the first reason that
applies, in this order; the rest of the upload still loads):

``wrong_keys``
    the record's key set is not exactly the contract's (a key missing or an extra key).
``invalid_value``
    ``webelect_voter_id`` is not an integer or null, or ``targeted`` is not a boolean.
``missing_sos_voter_id``
    ``sos_voter_id`` is null, not a string, or empty/blank.
``invalid_phone``
    ``phones`` is not a list of objects whose ``number`` is E.164 (``^\\+[1-9][0-9]{1,14}$``).
``incomplete_address``
    ``address`` is neither null nor an object with non-blank ``line1``, ``city``, ``state``
    and ``zip5`` strings.
``duplicate_voter`` (decided across the whole upload, see :func:`find_duplicates`)
    a record whose ``sos_voter_id``, or non-null ``webelect_voter_id``, was already loaded
    earlier in the upload (part order, then line order); the first occurrence loads.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from itertools import chain, repeat

import msgspec
import orjson
from msgspec import Raw, Struct

MAX_RECORDS = 10_000
MAX_COMPRESSED = 16 * 1024 * 1024
#: Guard against gzip bombs: far above what 10,000 voter records can need.
MAX_UNCOMPRESSED = 512 * 1024 * 1024

VOTER_KEYS = frozenset(
    {
        "webelect_voter_id", "sos_voter_id", "rnc_reg_id", "targeted", "household_id",
        "first_name", "middle_name", "last_name", "suffix", "birth_date", "gender", "party",
        "registration_date", "voter_status", "precinct", "address", "tags", "notes", "phones",
        "emails",
    }
)  # fmt: skip

E164 = re.compile(r"\+[1-9][0-9]{1,14}")
NL = b"\n"


class BodyError(Exception):
    """A part body the contract refuses; ``status`` is 413 or 422."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def gunzip(body: bytes) -> bytes:
    """Inflate every gzip member of ``body``; 422 when it is not gzip, 413 when it inflates absurdly."""
    out: list[bytes] = []
    total = 0
    data = body
    try:
        while True:
            d = zlib.decompressobj(wbits=31)
            chunk = d.decompress(data, MAX_UNCOMPRESSED - total + 1)
            total += len(chunk)
            if total > MAX_UNCOMPRESSED or d.unconsumed_tail:
                raise BodyError(413, "part_too_large", "the part inflates to more than 512 MiB")
            if not d.eof:
                raise BodyError(422, "invalid_gzip", "the body is a truncated gzip stream")
            out.append(chunk)
            data = d.unused_data
            if not data:
                break
    except zlib.error:
        raise BodyError(422, "invalid_gzip", "the body is not gzip (Content-Encoding: gzip is required)") from None
    return b"".join(out)


class _Address(Struct, gc=False):
    line1: str | None = None
    city: str | None = None
    state: str | None = None
    zip5: str | None = None


class _Phone(Struct, gc=False):
    number: str | None = None


class _Voter(Struct, forbid_unknown_fields=True, gc=False):
    """The contract's record with exactly its keys; values the rules do not read stay raw bytes."""

    webelect_voter_id: int | None
    sos_voter_id: str | None
    rnc_reg_id: Raw
    targeted: bool
    household_id: Raw
    first_name: Raw
    middle_name: Raw
    last_name: Raw
    suffix: Raw
    birth_date: Raw
    gender: Raw
    party: Raw
    registration_date: Raw
    voter_status: Raw
    precinct: Raw
    address: _Address | None
    tags: Raw
    notes: Raw
    phones: list[_Phone]
    emails: Raw


_VOTER = msgspec.json.Decoder(_Voter)
_RAW = msgspec.json.Decoder(Raw)
_ANY = msgspec.json.Decoder()


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _rule(v: _Voter) -> str | None:
    if _blank(v.sos_voter_id):
        return "missing_sos_voter_id"
    fullmatch = E164.fullmatch
    for phone in v.phones:
        if phone.number is None or fullmatch(phone.number) is None:
            return "invalid_phone"
    a = v.address
    if a is not None and (_blank(a.line1) or _blank(a.city) or _blank(a.state) or _blank(a.zip5)):
        return "incomplete_address"
    return None


def _classify(obj: object) -> str:
    """Why a record that does not decode into ``_Voter`` is rejected (slow path, bad records only)."""
    if not isinstance(obj, dict) or obj.keys() != VOTER_KEYS:
        return "wrong_keys"
    wid = obj["webelect_voter_id"]
    if (wid is not None and type(wid) is not int) or type(obj["targeted"]) is not bool:
        return "invalid_value"
    sos = obj["sos_voter_id"]
    if not isinstance(sos, str) or not sos.strip():
        return "missing_sos_voter_id"
    phones = obj["phones"]
    if not isinstance(phones, list) or any(
        not isinstance(p, dict) or not isinstance(p.get("number"), str) or not E164.fullmatch(p["number"])
        for p in phones
    ):
        return "invalid_phone"
    address = obj["address"]
    if address is not None and (
        not isinstance(address, dict)
        or any(not isinstance(address.get(k), str) or not address[k].strip() for k in ("line1", "city", "state", "zip5"))
    ):
        return "incomplete_address"
    return "invalid_value"


@dataclass
class Digest:
    """A part's records as the loader sees them: what loads (with its identity) and what is rejected.

    Columnar (three parallel lists for the valid records) so that storing, reading and
    de-duplicating 1.5M records stays in C loops.
    """

    #: line numbers, sos_voter_ids and webelect_voter_ids of the records that passed the rules.
    lines: list[int]
    sos: list[str]
    wid: list[int | None]
    #: [line, sos_voter_id or None, reason] for each rejected record.
    rejected: list[list]

    def dumps(self) -> bytes:
        return orjson.dumps({"lines": self.lines, "sos": self.sos, "wid": self.wid, "rejected": self.rejected})

    @classmethod
    def loads(cls, blob: bytes) -> Digest:
        data = orjson.loads(blob)
        if "valid" in data:  # state files written before the columnar layout
            rows = data["valid"]
            return cls([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], data["rejected"])
        return cls(**data)


def _lines(data: bytes) -> list[bytes]:
    """The NDJSON lines of a part; 413/422 for the limits and the framing (byte checks only)."""
    if not data:
        raise BodyError(422, "invalid_ndjson", "the part holds no records")
    lines = data.split(NL)
    last = lines.pop()
    count = len(lines) + (1 if last else 0)
    if count > MAX_RECORDS:
        raise BodyError(413, "too_many_records", f"the part holds {count} records; the limit is 10,000")
    if last:
        raise BodyError(422, "invalid_ndjson", f"line {len(lines) + 1} does not end with \\n")
    if b"" in lines:
        raise BodyError(422, "invalid_ndjson", f"line {lines.index(b'') + 1} is blank")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(NL) + 1
        raise BodyError(422, "invalid_ndjson", f"line {line} is not UTF-8") from None
    # Reading: "one JSON object per line" with nothing around it (no surrounding whitespace).
    if not all(map(bytes.startswith, lines, repeat(b"{"))) or not all(map(bytes.endswith, lines, repeat(b"}"))):
        for i, line in enumerate(lines, 1):
            if not (line.startswith(b"{") and line.endswith(b"}")):
                raise BodyError(422, "invalid_ndjson", f"line {i} is not a JSON object")
    return lines


def read_part(body: bytes) -> tuple[int, Digest]:
    """Everything Sidekick checks in a part, in one pass: (record count, digest) or BodyError (413/422).

    Each line is decoded once, straight into the lean ``_Voter`` struct: that proves it is
    one JSON object and yields what the per-record rules need. Only lines that do not fit
    the struct take the slow path (a syntax check, then a plain decode to name the reason).
    """
    if len(body) > MAX_COMPRESSED:
        raise BodyError(413, "part_too_large", f"the part is {len(body)} bytes compressed; the limit is 16 MiB")
    if not body:
        raise BodyError(422, "invalid_gzip", "the body is empty")
    lines = _lines(gunzip(body))
    try:
        voters: list[_Voter | None] = list(map(_VOTER.decode, lines))
    except msgspec.DecodeError:
        voters = []
        for i, line in enumerate(lines, 1):
            try:
                voters.append(_VOTER.decode(line))
            except msgspec.ValidationError:
                try:
                    _RAW.decode(line)
                except msgspec.DecodeError as exc:
                    raise BodyError(422, "invalid_ndjson", f"line {i} is not valid JSON ({exc})") from None
                voters.append(None)
            except msgspec.DecodeError as exc:
                raise BodyError(422, "invalid_ndjson", f"line {i} is not valid JSON ({exc})") from None
    ok_lines: list[int] = []
    ok_sos: list[str] = []
    ok_wid: list[int | None] = []
    rejected: list[list] = []
    for i, v in enumerate(voters, 1):
        if v is None:
            obj = _ANY.decode(lines[i - 1])
            sos = obj.get("sos_voter_id") if isinstance(obj, dict) else None
            rejected.append([i, sos if isinstance(sos, str) else None, _classify(obj)])
            continue
        reason = _rule(v)
        if reason is None:
            ok_lines.append(i)
            ok_sos.append(v.sos_voter_id)
            ok_wid.append(v.webelect_voter_id)
        else:
            rejected.append([i, v.sos_voter_id, reason])
    return len(lines), Digest(lines=ok_lines, sos=ok_sos, wid=ok_wid, rejected=rejected)


def find_duplicates(digests: list[tuple[int, Digest]]) -> list[list]:
    """[part, line, sos_voter_id, "duplicate_voter"] for every later occurrence of a voter in the upload."""
    all_sos = list(chain.from_iterable(d.sos for _, d in digests))
    all_wid = list(chain.from_iterable(d.wid for _, d in digests))
    distinct_wid = set(all_wid)
    distinct_wid.discard(None)
    if len(set(all_sos)) == len(all_sos) and len(distinct_wid) == len(all_wid) - all_wid.count(None):
        return []  # the usual case, decided without a Python loop over the records
    seen_sos: set[str] = set()
    seen_wid: set[int] = set()
    duplicates: list[list] = []
    for part, digest in digests:
        for line, sos, wid in zip(digest.lines, digest.sos, digest.wid, strict=True):
            if sos in seen_sos or (wid is not None and wid in seen_wid):
                duplicates.append([part, line, sos, "duplicate_voter"])
                continue
            seen_sos.add(sos)
            if wid is not None:
                seen_wid.add(wid)
    return duplicates
