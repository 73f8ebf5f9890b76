"""The simulator's state in one SQLite file (WAL), so that a restart loses nothing.

One connection guarded by a lock: SQLite serialises writers anyway, every statement here is
short, and the CPU-heavy work (gzip, JSON) happens outside the lock. Parts are stored as the
compressed bytes that arrived (one blob per part, not one row per record); their decoded
records are produced on demand for the ``/_control`` read endpoints.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson

SCHEMA = """
create table if not exists meta (key text primary key, value blob not null);
create table if not exists accounts (
    id integer primary key,
    name text not null,
    token_hash text not null unique,
    integration_enabled integer not null default 1,
    redelivery real not null default 0,
    dock_seconds real,
    load_rate real,
    fail_next_load text,
    tag_refreshes integer not null default 0,
    created_at text not null
);
create table if not exists uploads (
    id integer primary key,
    account_id integer not null references accounts(id),
    upload_key text not null,
    name text,
    status text not null,
    part_count integer,
    record_count integer,
    records_valid integer not null default 0,
    records_loaded integer not null default 0,
    records_rejected integer not null default 0,
    failure_reason text,
    created_at text not null,
    updated_at text not null,
    docked_at real,
    started_at real,
    load_seconds real,
    unique (account_id, upload_key)
);
create table if not exists parts (
    upload_id integer not null references uploads(id),
    part_number integer not null,
    records integer not null,
    sha256 text not null,
    size integer not null,
    body blob not null,
    digest blob,
    received_at text not null,
    primary key (upload_id, part_number)
);
create table if not exists rejections (
    upload_id integer not null,
    part integer not null,
    line integer not null,
    sos_voter_id text,
    reason text not null
);
create index if not exists rejections_upload on rejections (upload_id, part, line);
create table if not exists changes (
    seq integer primary key,
    account_id integer not null,
    id text not null,
    recorded_at real not null,
    body blob not null
);
create index if not exists changes_account_seq on changes (account_id, seq);
create table if not exists requests (
    id integer primary key,
    at text not null,
    method text not null,
    path text not null,
    query text not null,
    status integer not null,
    account_id integer,
    duration_ms real not null
);
"""

DEFAULT_SETTINGS = {
    # Contract: 10 requests per second per token. A token bucket of `rate_burst` requests
    # refilled at `rate_limit` per second; 0 turns limiting off.
    "rate_limit": 10.0,
    "rate_burst": 10,
    # Loading speed: how long an upload stays "Docked for Loading", how many records per
    # second it loads while "In Progress", and the least time it stays there.
    "dock_seconds": 0.2,
    "load_rate": 5_000_000.0,
    "min_load_seconds": 0.2,
}


def utc(ts: float | None = None) -> str:
    """The contract's timestamp format, ``YYYY-MM-DDTHH:MM:SSZ``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if ts is None else ts))


def token_hash(token: str) -> str:
    """Tokens are stored and compared as hashes: the simulator keeps no secret it does not need."""
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("pragma journal_mode=wal")
        self.db.execute("pragma synchronous=normal")
        self.db.execute("pragma busy_timeout=5000")
        self.db.executescript(SCHEMA)
        self.secret = self._meta("cursor_secret", lambda: secrets.token_bytes(32))

    def _meta(self, key: str, default):
        with self.lock:
            row = self.db.execute("select value from meta where key = ?", (key,)).fetchone()
            if row:
                return row[0]
            value = default()
            self.db.execute("insert into meta (key, value) values (?, ?)", (key, value))
            return value

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock."""
        with self.lock:
            self.db.execute("begin immediate")
            try:
                yield self.db
            except BaseException:
                self.db.execute("rollback")
                raise
            self.db.execute("commit")

    def q(self, sql: str, params=()) -> list[tuple]:
        with self.lock:
            return self.db.execute(sql, params).fetchall()

    def one(self, sql: str, params=()) -> tuple | None:
        with self.lock:
            return self.db.execute(sql, params).fetchone()

    # ------------------------------------------------------------------ settings

    def settings(self) -> dict:
        row = self.one("select value from meta where key = 'settings'")
        stored = orjson.loads(row[0]) if row else {}
        return {**DEFAULT_SETTINGS, **stored}

    def update_settings(self, changes: dict) -> dict:
        unknown = set(changes) - set(DEFAULT_SETTINGS)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        merged = {**self.settings(), **changes}
        with self.tx() as db:
            db.execute(
                "insert into meta (key, value) values ('settings', ?)"
                " on conflict (key) do update set value = excluded.value",
                (orjson.dumps({k: merged[k] for k in DEFAULT_SETTINGS}),),
            )
        return merged

    # ------------------------------------------------------------------ reset

    def reset(self) -> None:
        with self.tx() as db:
            for table in ("requests", "changes", "rejections", "parts", "uploads", "accounts"):
                db.execute(f"delete from {table}")  # noqa: S608 - fixed table names
            db.execute("delete from meta where key = 'settings'")

    def close(self) -> None:
        with self.lock:
            self.db.close()
