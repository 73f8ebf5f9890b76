"""The package's own ``sidekick_`` tables, created and upgraded at the start of every run.

Pointing the package at an existing webElect database is all the set-up it needs, so
each DAG run applies the migrations in ``include/sql/migrations`` (in file-name order,
each once). A transaction-scoped advisory lock makes two runs that start at once take
turns; the second finds nothing left to do. webElect's own tables are never touched.
"""

from __future__ import annotations

import logging

import psycopg

from webelect_sidekick.config import sql_dir

log = logging.getLogger(__name__)

#: Arbitrary but fixed: "sidekick" in ASCII, as a bigint advisory-lock key.
_LOCK_KEY = 0x736964656B69636B

_BOOKKEEPING = """
create table if not exists webelect.sidekick_schema_migrations (
    version    text primary key,
    applied_at timestamptz not null default now()
)
"""


def migration_files() -> list[tuple[str, str]]:
    """``(version, sql)`` for every migration, in the order they apply."""
    folder = sql_dir() / "migrations"
    return [(path.stem, path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.sql"))]


def apply_migrations(conn: psycopg.Connection) -> list[str]:
    """Apply what is missing in one transaction; return the versions applied now."""
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(_BOOKKEEPING)
        done = {row[0] for row in conn.execute("select version from webelect.sidekick_schema_migrations")}
        for version, statements in migration_files():
            if version in done:
                continue
            conn.execute(statements)
            conn.execute(
                "insert into webelect.sidekick_schema_migrations (version) values (%s)", (version,)
            )
            applied_now.append(version)
    if applied_now:
        log.info("Applied sidekick_ migrations: %s", ", ".join(applied_now))
    return applied_now
