"""Sidekick's behaviour, independent of HTTP: accounts, uploads, the loader, the changes feed.

Everything the contract (docs/spec/sidekick-api.md) says is enforced here; app.py only maps
requests to these methods and :class:`ApiError` to the contract's error shape. Readings of
points the contract leaves open are marked "Reading:" and listed in simulator/README.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson

from simulator import records
from simulator.records import BodyError, Digest
from simulator.store import Store, token_hash, utc

KEY_RE = re.compile(r"[A-Za-z0-9._-]{8,128}")
RETENTION_SECONDS = 30 * 86400
FINAL = ("Completed", "Failed")
CHANGE_TYPES = ("tag", "note", "phone", "email")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class ApiError(Exception):
    """An answer other than success: the contract's ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> bytes:
        return orjson.dumps({"error": {"code": self.code, "message": self.message}})


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    enabled: bool


@dataclass
class Fault:
    """Fail the next ``remaining`` requests whose method and path match (dev-only, in memory)."""

    id: int
    method: str
    path: re.Pattern
    remaining: int
    status: int | None
    retry_after: str | None
    drop: bool
    delay: float
    body: str | None = None
    content_type: str = "text/html"

    def as_json(self) -> dict:
        return {
            "id": self.id, "method": self.method, "path": self.path.pattern, "remaining": self.remaining,
            "status": self.status, "retry_after": self.retry_after, "drop": self.drop, "delay": self.delay,
            "body": self.body, "content_type": self.content_type,
        }  # fmt: skip


def _ulid() -> str:
    """A ULID-shaped change id (48-bit milliseconds + 80 random bits, Crockford base32)."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


def _int_param(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not low <= int(raw) <= high:
        raise ApiError(422, f"invalid_{name}", f"{name} must be an integer from {low} to {high}, not {raw!r}")
    return int(raw)


def check_key(upload_key: str) -> None:
    if not KEY_RE.fullmatch(upload_key):
        raise ApiError(
            422, "invalid_upload_key", "upload_key must be 8-128 characters of A-Z, a-z, 0-9, '.', '_' or '-'"
        )


class Sidekick:
    def __init__(self, store: Store):
        self.store = store
        self.settings = store.settings()
        self._accounts: dict[str, Account] = {}
        self._buckets: dict[int, list[float]] = {}
        self._faults: list[Fault] = []
        self._fault_ids = 0
        self._log: list[tuple] = []
        self._mem_lock = threading.Lock()
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    # ================================================================== auth, limits, faults

    def identify(self, authorization: str | None) -> int | None:
        """The account a request claims to be from, for the request log only (no checks)."""
        try:
            return self.authenticate(authorization, check_enabled=False).id
        except ApiError:
            return None

    def authenticate(self, authorization: str | None, check_enabled: bool = True) -> Account:
        """401 for a missing or unknown bearer token, 403 when the account turned the integration off."""
        if not authorization:
            raise ApiError(401, "missing_token", "the Authorization: Bearer <token> header is missing")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "invalid_token", "the Authorization header must be 'Bearer <token>'")
        digest = token_hash(token)
        account = self._accounts.get(digest)
        if account is None:
            row = self.store.one("select id, name, integration_enabled from accounts where token_hash = ?", (digest,))
            if row is None:
                raise ApiError(401, "invalid_token", "the token does not belong to any Sidekick account")
            account = Account(row[0], row[1], bool(row[2]))
            with self._mem_lock:
                self._accounts[digest] = account
        if check_enabled and not account.enabled:
            raise ApiError(
                403, "integration_disabled", f"the webElect integration is turned off for account '{account.name}'"
            )
        return account

    def rate_limit(self, account_id: int) -> None:
        """Token bucket per token: ``rate_limit`` per second, bursts of ``rate_burst``; 429 above it."""
        rate = float(self.settings["rate_limit"])
        if rate <= 0:
            return
        burst = float(self.settings["rate_burst"])
        now = time.monotonic()
        with self._mem_lock:
            bucket = self._buckets.setdefault(account_id, [burst, now])
            tokens = min(burst, bucket[0] + (now - bucket[1]) * rate)
            bucket[1] = now
            if tokens >= 1:
                bucket[0] = tokens - 1
                return
            bucket[0] = tokens
        wait = max(1, math.ceil((1 - tokens) / rate))
        raise ApiError(
            429, "rate_limited", f"more than {rate:g} requests per second for this token", {"Retry-After": str(wait)}
        )

    def add_fault(self, spec: dict) -> Fault:
        status = spec.get("status")
        drop = bool(spec.get("drop", False))
        delay = float(spec.get("delay", 0) or 0)
        if status is None and not drop and delay <= 0:
            raise ValueError("a fault needs a status, drop: true or a delay")
        retry_after = spec.get("retry_after")
        with self._mem_lock:
            self._fault_ids += 1
            fault = Fault(
                id=self._fault_ids,
                method=str(spec.get("method", "*")).upper(),
                path=re.compile(spec.get("path", ".*")),
                remaining=int(spec.get("count", 1)),
                status=int(status) if status is not None else None,
                retry_after=None if retry_after is None else str(retry_after),
                drop=drop,
                delay=delay,
                body=None if spec.get("body") is None else str(spec["body"]),
                content_type=str(spec.get("content_type") or "text/html"),
            )
            self._faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._mem_lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.method in ("*", method) and fault.path.search(path):
                    fault.remaining -= 1
                    return fault
        return None

    def faults(self) -> list[dict]:
        with self._mem_lock:
            return [f.as_json() for f in self._faults]

    def clear_faults(self) -> None:
        with self._mem_lock:
            self._faults.clear()

    def log_request(self, method: str, path: str, query: str, status: int, account_id: int | None, ms: float):
        with self._mem_lock:
            self._log.append((utc(), method, path, query, status, account_id, round(ms, 2)))
        self.wake.set()

    def flush_log(self) -> None:
        with self._mem_lock:
            batch, self._log = self._log, []
        if batch:
            with self.store.tx() as db:
                db.executemany(
                    "insert into requests (at, method, path, query, status, account_id, duration_ms)"
                    " values (?, ?, ?, ?, ?, ?, ?)",
                    batch,
                )

    # ================================================================== uploads

    def _upload_row(self, account_id: int, upload_key: str) -> tuple | None:
        return self.store.one(
            "select id, status from uploads where account_id = ? and upload_key = ?", (account_id, upload_key)
        )

    def put_part(
        self, account: Account, upload_key: str, part: str, content_type: str, content_encoding: str, body: bytes
    ) -> tuple[int, dict]:
        check_key(upload_key)
        if not re.fullmatch(r"[0-9]{1,5}", part) or not 1 <= int(part) <= 10000:
            raise ApiError(422, "invalid_part_number", f"part_number must be 1-10000, not {part!r}")
        part_number = int(part)
        if content_type.split(";")[0].strip().lower() != "application/x-ndjson":
            raise ApiError(422, "invalid_content_type", "Content-Type must be application/x-ndjson")
        if content_encoding.strip().lower() != "gzip":
            raise ApiError(422, "invalid_content_encoding", "Content-Encoding must be gzip")
        if len(body) > records.MAX_COMPRESSED:
            raise ApiError(413, "part_too_large", f"the part is {len(body)} bytes; the limit is 16 MiB compressed")
        sha = hashlib.sha256(body).hexdigest()
        known = self._existing_part(account.id, upload_key, part_number, sha)
        if known is not None:
            return 200, known
        try:
            count, digest = records.read_part(body)
        except BodyError as exc:
            raise ApiError(exc.status, exc.code, exc.message) from None
        digest_blob = digest.dumps()
        now = utc()
        with self.store.tx() as db:
            row = db.execute(
                "select id, status from uploads where account_id = ? and upload_key = ?", (account.id, upload_key)
            ).fetchone()
            if row is None:
                upload_id = db.execute(
                    "insert into uploads (account_id, upload_key, status, created_at, updated_at)"
                    " values (?, ?, 'Receiving', ?, ?) returning id",
                    (account.id, upload_key, now, now),
                ).fetchone()[0]
            else:
                upload_id, status = row
                if status != "Receiving":
                    raise ApiError(409, "upload_completed", f"upload {upload_key} is already {status}")
                stored = db.execute(
                    "select sha256, records from parts where upload_id = ? and part_number = ?",
                    (upload_id, part_number),
                ).fetchone()
                if stored is not None:  # a concurrent PUT of the same part won the race
                    if stored[0] != sha:
                        raise ApiError(409, "part_conflict", f"part {part_number} is already stored with other bytes")
                    return 200, self._part_json(upload_key, part_number, stored[1], sha)
            db.execute(
                "insert into parts (upload_id, part_number, records, sha256, size, body, digest, received_at)"
                " values (?, ?, ?, ?, ?, ?, ?, ?)",
                (upload_id, part_number, count, sha, len(body), body, digest_blob, now),
            )
            db.execute("update uploads set updated_at = ? where id = ?", (now, upload_id))
        self.wake.set()
        return 201, self._part_json(upload_key, part_number, count, sha)

    @staticmethod
    def _part_json(upload_key: str, part_number: int, count: int, sha: str) -> dict:
        return {"upload_key": upload_key, "part_number": part_number, "records": count, "sha256": sha}

    def _existing_part(self, account_id: int, upload_key: str, part_number: int, sha: str) -> dict | None:
        """200 for the identical bytes again; 409 for other bytes or a completed upload."""
        row = self._upload_row(account_id, upload_key)
        if row is None:
            return None
        upload_id, status = row
        if status != "Receiving":
            raise ApiError(409, "upload_completed", f"upload {upload_key} is already {status}")
        stored = self.store.one(
            "select sha256, records from parts where upload_id = ? and part_number = ?", (upload_id, part_number)
        )
        if stored is None:
            return None
        if stored[0] != sha:
            raise ApiError(409, "part_conflict", f"part {part_number} is already stored with other bytes")
        return self._part_json(upload_key, part_number, stored[1], sha)

    def complete(self, account: Account, upload_key: str, body: bytes) -> tuple[int, dict]:
        check_key(upload_key)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ApiError(422, "invalid_body", "the body must be a JSON object") from None
        if not isinstance(payload, dict) or set(payload) != {"name", "part_count", "record_count"}:
            raise ApiError(422, "invalid_body", 'the body must be {"name", "part_count", "record_count"} exactly')
        name, part_count, record_count = payload["name"], payload["part_count"], payload["record_count"]
        if not isinstance(name, str) or not name.strip():
            raise ApiError(422, "invalid_body", "name must be a non-empty string")
        if type(part_count) is not int or not 1 <= part_count <= 10000:
            raise ApiError(422, "invalid_body", "part_count must be an integer from 1 to 10000")
        if type(record_count) is not int or record_count < 1:
            raise ApiError(422, "invalid_body", "record_count must be a positive integer")
        with self.store.tx() as db:
            row = db.execute(
                "select id, status, part_count, record_count from uploads where account_id = ? and upload_key = ?",
                (account.id, upload_key),
            ).fetchone()
            if row is None:
                raise ApiError(404, "unknown_upload", f"no part of upload {upload_key} has been received")
            upload_id, status, stored_parts, stored_records = row
            if status != "Receiving":
                # Reading: a repeat with the same counts answers 200 (the first answer was 202).
                if (stored_parts, stored_records) == (part_count, record_count):
                    return 200, {"upload_key": upload_key, "status": status}
                raise ApiError(
                    409, "counts_conflict",
                    f"upload {upload_key} was completed with part_count {stored_parts} and record_count "
                    f"{stored_records}, not {part_count} and {record_count}",
                )  # fmt: skip
            parts = dict(db.execute("select part_number, records from parts where upload_id = ?", (upload_id,)))
            missing = [n for n in range(1, part_count + 1) if n not in parts]
            if missing:
                shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
                raise ApiError(422, "missing_parts", f"parts {shown} of upload {upload_key} have not been received")
            extra = sorted(n for n in parts if n > part_count)
            if extra:
                raise ApiError(
                    422, "unexpected_parts",
                    f"parts {', '.join(map(str, extra[:20]))} were received but part_count is {part_count}",
                )  # fmt: skip
            held = sum(parts.values())
            if held != record_count:
                raise ApiError(
                    422, "record_count_mismatch", f"the {part_count} parts hold {held} records, not {record_count}"
                )
            db.execute(
                "update uploads set status = 'Docked for Loading', name = ?, part_count = ?, record_count = ?,"
                " docked_at = ?, updated_at = ? where id = ?",
                (name, part_count, record_count, time.time(), utc(), upload_id),
            )
        self.wake.set()
        return 202, {"upload_key": upload_key, "status": "Docked for Loading"}

    _UPLOAD_COLS = (
        "id, upload_key, name, status, part_count, record_count, records_valid, records_loaded, records_rejected,"
        " failure_reason, created_at, updated_at, started_at, load_seconds"
    )

    def _upload_json(self, row: tuple, with_rejections: bool = True) -> dict:
        (upload_id, key, name, status, part_count, record_count, valid, loaded, rejected, failure, created, updated,
         started, load_seconds) = row  # fmt: skip
        if status == "In Progress" and started is not None:
            fraction = min(1.0, (time.time() - started) / load_seconds) if load_seconds else 1.0
            loaded = int(valid * fraction)
        parts = [n for (n,) in self.store.q("select part_number from parts where upload_id = ? order by 1", (upload_id,))]
        out = {
            "upload_key": key, "name": name, "status": status, "parts_received": parts, "part_count": part_count,
            "record_count": record_count, "records_loaded": loaded, "records_rejected": rejected,
            "rejections": [], "failure_reason": failure, "created_at": created, "updated_at": updated,
        }  # fmt: skip
        if with_rejections and rejected:
            out["rejections"] = [
                {"part": p, "line": ln, "sos_voter_id": sos, "reason": reason}
                for p, ln, sos, reason in self.store.q(
                    "select part, line, sos_voter_id, reason from rejections where upload_id = ? order by part, line",
                    (upload_id,),
                )
            ]
        return out

    def get_upload(self, account: Account, upload_key: str) -> dict:
        check_key(upload_key)
        row = self.store.one(
            f"select {self._UPLOAD_COLS} from uploads where account_id = ? and upload_key = ?",  # noqa: S608
            (account.id, upload_key),
        )
        if row is None:
            raise ApiError(404, "unknown_upload", f"no part of upload {upload_key} has been received")
        return self._upload_json(row)

    def list_uploads(self, account: Account, limit_raw: str | None) -> dict:
        # Reading: the contract names no maximum; 1..1000 is accepted, anything else is 422.
        limit = _int_param(limit_raw, "limit", 50, 1, 1000)
        rows = self.store.q(
            f"select {self._UPLOAD_COLS} from uploads where account_id = ? order by id desc limit ?",  # noqa: S608
            (account.id, limit),
        )
        return {"uploads": [self._upload_json(row) for row in rows]}

    def refresh_tags(self, account: Account) -> dict:
        with self.store.tx() as db:
            db.execute("update accounts set tag_refreshes = tag_refreshes + 1 where id = ?", (account.id,))
        return {"status": "Refreshing"}

    # ================================================================== changes

    def _cursor(self, account_id: int, seq: int, issued: float) -> str:
        payload = base64.urlsafe_b64encode(orjson.dumps({"a": account_id, "s": seq, "t": int(issued)})).rstrip(b"=")
        sig = base64.urlsafe_b64encode(hmac.new(self.store.secret, payload, hashlib.sha256).digest()[:12])
        return (payload + b"." + sig).decode()

    def _read_cursor(self, account_id: int, cursor: str) -> int:
        try:
            payload, _, sig = cursor.encode().partition(b".")
            good = base64.urlsafe_b64encode(hmac.new(self.store.secret, payload, hashlib.sha256).digest()[:12])
            if not hmac.compare_digest(sig, good):
                raise ValueError
            data = orjson.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
            owner, seq, issued = data["a"], data["s"], data["t"]
        except Exception:
            raise ApiError(422, "invalid_cursor", "the cursor is not one this Sidekick account issued") from None
        if owner != account_id:
            raise ApiError(422, "invalid_cursor", "the cursor is not one this Sidekick account issued")
        if time.time() - issued > RETENTION_SECONDS:
            raise ApiError(
                410, "cursor_expired", "the cursor is older than 30 days; start again without a cursor"
            )
        return seq

    def changes_page(self, account: Account, cursor: str | None, limit_raw: str | None) -> bytes:
        limit = _int_param(limit_raw, "limit", 1000, 1, 5000)
        after = 0 if cursor is None else self._read_cursor(account.id, cursor)
        keep_from = time.time() - RETENTION_SECONDS
        rows = self.store.q(
            "select seq, body from changes where account_id = ? and seq > ? and recorded_at >= ?"
            " order by seq limit ?",
            (account.id, after, keep_from, limit + 1),
        )
        has_more = len(rows) > limit
        rows = rows[:limit]
        resume = rows[-1][0] if rows else after
        redeliver = float(self.store.one("select redelivery from accounts where id = ?", (account.id,))[0])
        if redeliver > 0 and len(rows) >= 2:
            # At-least-once: rewind the cursor so the last part of this page comes again first
            # on the next page (or the next night); at least one change is always new.
            again = min(len(rows) - 1, max(1, round(len(rows) * redeliver)))
            resume = rows[len(rows) - 1 - again][0]
        next_cursor = self._cursor(account.id, resume, time.time())
        return b"".join(
            (
                b'{"changes":[', b",".join(body for _, body in rows), b'],"next_cursor":', orjson.dumps(next_cursor),
                b',"has_more":', b"true" if has_more else b"false", b"}",
            )
        )  # fmt: skip

    # ================================================================== loader

    def start(self) -> None:
        self._worker = threading.Thread(target=self._run, name="sidekick-loader", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._worker:
            self._worker.join(timeout=10)
        self.flush_log()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.tick()
            except Exception as exc:  # keep loading other uploads; the error is visible in the log
                print(f"sidekick-loader: {type(exc).__name__}: {exc}", flush=True)
                busy = False
            if not busy:
                self.wake.wait(0.05)
                self.wake.clear()

    def tick(self) -> bool:
        """One step of the background loader; True when it did work (so it runs again at once)."""
        self.flush_log()
        now = time.time()
        s = self.settings
        for upload_id, account_id, docked_at, dock_seconds in self.store.q(
            "select u.id, u.account_id, u.docked_at, a.dock_seconds from uploads u join accounts a"
            " on a.id = u.account_id where u.status = 'Docked for Loading' order by u.docked_at"
        ):
            wait = s["dock_seconds"] if dock_seconds is None else dock_seconds
            if docked_at + wait <= now:
                self._start_loading(upload_id, account_id)
                return True
        for upload_id, valid in self.store.q(
            "select id, records_valid from uploads where status = 'In Progress' and started_at + load_seconds <= ?",
            (now,),
        ):
            with self.store.tx() as db:
                db.execute(
                    "update uploads set status = 'Completed', records_loaded = ?, updated_at = ?"
                    " where id = ? and status = 'In Progress'",
                    (valid, utc(), upload_id),
                )
        return False

    def _digest(self, upload_id: int, part_number: int) -> Digest:
        row = self.store.one(
            "select body, digest from parts where upload_id = ? and part_number = ?", (upload_id, part_number)
        )
        if row[1] is not None:
            return Digest.loads(row[1])
        _, digest = records.read_part(row[0])  # parts stored before digests were kept at PUT
        with self.store.tx() as db:
            db.execute(
                "update parts set digest = ? where upload_id = ? and part_number = ?",
                (digest.dumps(), upload_id, part_number),
            )
        return digest

    def _start_loading(self, upload_id: int, account_id: int) -> None:
        """Docked → In Progress: decode and check every record, then load at the configured speed."""
        account = self.store.one("select load_rate, fail_next_load from accounts where id = ?", (account_id,))
        load_rate = account[0] or self.settings["load_rate"]
        if account[1] is not None:
            with self.store.tx() as db:
                db.execute("update accounts set fail_next_load = null where id = ?", (account_id,))
                db.execute(
                    "update uploads set status = 'Failed', failure_reason = ?, updated_at = ? where id = ?",
                    (account[1], utc(), upload_id),
                )
            return
        numbers = [
            n for (n,) in self.store.q("select part_number from parts where upload_id = ? order by 1", (upload_id,))
        ]
        digests = [(n, self._digest(upload_id, n)) for n in numbers]
        rejected = [[n, *r] for n, d in digests for r in d.rejected]
        rejected += records.find_duplicates(digests)
        rejected.sort(key=lambda r: (r[0], r[1]))
        valid = sum(len(d.sos) for _, d in digests) - sum(1 for r in rejected if r[3] == "duplicate_voter")
        load_seconds = max(self.settings["min_load_seconds"], valid / load_rate if load_rate > 0 else 0)
        with self.store.tx() as db:
            db.execute("delete from rejections where upload_id = ?", (upload_id,))
            db.executemany(
                "insert into rejections (upload_id, part, line, sos_voter_id, reason) values (?, ?, ?, ?, ?)",
                [(upload_id, *r) for r in rejected],
            )
            db.execute(
                "update uploads set status = 'In Progress', records_valid = ?, records_rejected = ?,"
                " started_at = ?, load_seconds = ?, updated_at = ? where id = ? and status = 'Docked for Loading'",
                (valid, len(rejected), time.time(), load_seconds, utc(), upload_id),
            )

    # ================================================================== control (dev-only)

    def register_account(self, spec: dict) -> dict:
        token = spec.get("token") or secrets.token_urlsafe(32)
        name = spec.get("name") or "Sidekick account"
        try:
            with self.store.tx() as db:
                account_id = db.execute(
                    "insert into accounts (name, token_hash, integration_enabled, redelivery, dock_seconds,"
                    " load_rate, created_at) values (?, ?, ?, ?, ?, ?, ?) returning id",
                    (
                        name, token_hash(token), int(spec.get("integration_enabled", True)),
                        float(spec.get("redelivery", 0)), spec.get("dock_seconds"), spec.get("load_rate"), utc(),
                    ),
                ).fetchone()[0]  # fmt: skip
        except Exception as exc:
            if "UNIQUE" in str(exc):
                raise ApiError(409, "token_taken", "that token is already registered to another account") from None
            raise
        return {"account_id": account_id, "name": name, "token": token}

    def account(self, account_id: int) -> dict:
        row = self.store.one(
            "select id, name, integration_enabled, redelivery, dock_seconds, load_rate, fail_next_load,"
            " tag_refreshes, created_at from accounts where id = ?",
            (account_id,),
        )
        if row is None:
            raise ApiError(404, "unknown_account", f"no account {account_id}")
        keys = ("account_id", "name", "integration_enabled", "redelivery", "dock_seconds", "load_rate",
                "fail_next_load", "tag_refreshes", "created_at")  # fmt: skip
        out = dict(zip(keys, row, strict=True))
        out["integration_enabled"] = bool(out["integration_enabled"])
        return out

    def update_account(self, account_id: int, spec: dict) -> dict:
        self.account(account_id)
        columns = {
            "name": str, "integration_enabled": int, "redelivery": float, "dock_seconds": float, "load_rate": float,
            "fail_next_load": str,
        }  # fmt: skip
        sets, params = [], []
        for key, value in spec.items():
            if key == "token":
                sets.append("token_hash = ?")
                params.append(token_hash(value))
            elif key in columns:
                sets.append(f"{key} = ?")
                params.append(None if value is None else columns[key](value))
            else:
                raise ApiError(422, "unknown_field", f"accounts have no field {key!r}")
        if sets:
            with self.store.tx() as db:
                db.execute(f"update accounts set {', '.join(sets)} where id = ?", (*params, account_id))  # noqa: S608
        with self._mem_lock:
            self._accounts.clear()
        return self.account(account_id)

    def add_changes(self, account_id: int, changes: list[dict], age_seconds: float = 0.0) -> list[dict]:
        """Store changes as canvassers made them; the server assigns ``seq`` (and ``id`` when absent)."""
        self.account(account_id)
        now = time.time()
        stored: list[dict] = []
        with self.store.tx() as db:
            seq = db.execute("select coalesce(max(seq), 0) from changes").fetchone()[0]
            rows = []
            for raw in changes:
                change = dict(raw)
                change.pop("seq", None)  # Sidekick assigns seq
                age = float(change.pop("age_seconds", 0)) + float(change.pop("age_days", 0)) * 86400
                recorded = now - (age or age_seconds)
                seq += 1
                body = {
                    "id": change.pop("id", None) or f"chg_{_ulid()}",
                    "seq": seq,
                    "type": change.pop("type"),
                    "occurred_at": change.pop("occurred_at", None) or utc(recorded),
                    "voter": change.pop("voter", {"webelect_voter_id": None, "sos_voter_id": None}),
                    "user": change.pop("user", None),
                    **change,
                }
                rows.append((seq, account_id, body["id"], recorded, orjson.dumps(body)))
                stored.append(body)
            db.executemany("insert into changes (seq, account_id, id, recorded_at, body) values (?, ?, ?, ?, ?)", rows)
        return stored

    def mint_cursor(self, account_id: int, after_seq: int, age_seconds: float) -> str:
        self.account(account_id)
        return self._cursor(account_id, after_seq, time.time() - age_seconds)

    def _control_upload_id(self, account_id: int, upload_key: str) -> int:
        row = self._upload_row(account_id, upload_key)
        if row is None:
            raise ApiError(404, "unknown_upload", f"account {account_id} has no upload {upload_key}")
        return row[0]

    def control_uploads(self, account_id: int) -> list[dict]:
        rows = self.store.q(
            f"select {self._UPLOAD_COLS} from uploads where account_id = ? order by id desc",  # noqa: S608
            (account_id,),
        )
        return [self._upload_json(row) for row in rows]

    def control_parts(self, account_id: int, upload_key: str) -> list[dict]:
        upload_id = self._control_upload_id(account_id, upload_key)
        rows = self.store.q(
            "select part_number, records, sha256, size, digest is not null, received_at from parts"
            " where upload_id = ? order by part_number",
            (upload_id,),
        )
        keys = ("part_number", "records", "sha256", "bytes", "digested", "received_at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def control_records(self, account_id: int, upload_key: str, part: int | None) -> bytes:
        """Every record received for the upload, decoded, in part and line order: ``{"records": [...]}``."""
        upload_id = self._control_upload_id(account_id, upload_key)
        sql = "select body from parts where upload_id = ?"
        params: tuple = (upload_id,)
        if part is not None:
            sql += " and part_number = ?"
            params = (upload_id, part)
        chunks = []
        for (body,) in self.store.q(sql + " order by part_number", params):
            lines = records.gunzip(body).split(b"\n")
            lines.pop()
            chunks.append(b",".join(lines))
        return b'{"records":[' + b",".join(c for c in chunks if c) + b"]}"

    def fail_upload(self, account_id: int, upload_key: str, reason: str) -> dict:
        upload_id = self._control_upload_id(account_id, upload_key)
        row = self.store.one(f"select {self._UPLOAD_COLS} from uploads where id = ?", (upload_id,))  # noqa: S608
        current = self._upload_json(row, with_rejections=False)
        if current["status"] in FINAL:
            raise ApiError(409, "already_final", f"upload {upload_key} is already {current['status']}")
        with self.store.tx() as db:
            db.execute(
                "update uploads set status = 'Failed', failure_reason = ?, records_loaded = ?, updated_at = ?"
                " where id = ?",
                (reason, current["records_loaded"], utc(), upload_id),
            )
        return self.get_upload(Account(account_id, "", True), upload_key)

    def requests_log(self, account_id: int | None, method: str | None, path: str | None, since_id: int) -> list[dict]:
        self.flush_log()
        sql = "select id, at, method, path, query, status, account_id, duration_ms from requests where id > ?"
        params: list[Any] = [since_id]
        if account_id is not None:
            sql += " and account_id = ?"
            params.append(account_id)
        if method:
            sql += " and method = ?"
            params.append(method.upper())
        rows = self.store.q(sql + " order by id", params)
        pattern = re.compile(path) if path else None
        keys = ("id", "at", "method", "path", "query", "status", "account_id", "duration_ms")
        return [dict(zip(keys, r, strict=True)) for r in rows if pattern is None or pattern.search(r[3])]

    def update_settings(self, changes: dict) -> dict:
        try:
            self.settings = self.store.update_settings(changes)
        except ValueError as exc:
            raise ApiError(422, "unknown_setting", str(exc)) from None
        with self._mem_lock:
            self._buckets.clear()
        return self.settings

    def reset(self) -> None:
        self.store.reset()
        with self._mem_lock:
            self._accounts.clear()
            self._buckets.clear()
            self._faults.clear()
            self._log.clear()
        self.settings = self.store.settings()
