"""Find or start a PostgreSQL for dev, tests and the demo, and stand up a synthetic webElect in it.

Order of preference, so that nothing has to be installed by hand:
1. the server named by ``WEBELECT_PG_URL`` (a superuser or database-owner URL);
2. a local server on 127.0.0.1:5432 when one answers (user ``postgres``);
3. an embedded PostgreSQL from the ``pgserver`` wheel, with its data in ``.pgdata/``.

The package itself never runs as that superuser: ``create_app_role`` makes the
least-privilege role that behaviour.md describes, and the DAGs connect as it.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
SCHEMA_SQL = REPO / "include" / "sql" / "webelect" / "schema.sql"
APP_ROLE = "webelect_sidekick"
_LOCAL_CANDIDATES = (
    "postgresql://postgres@127.0.0.1:5432/postgres",
    "postgresql://127.0.0.1:5432/postgres",
)
_embedded = None  # keeps the pgserver handle alive for the life of the process


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def server_url() -> tuple[str, str]:
    """``(admin_url, how_found)`` of a PostgreSQL server we may create databases on."""
    env_url = os.environ.get("WEBELECT_PG_URL")
    if env_url:
        if not _answers(env_url):
            raise SystemExit(
                "WEBELECT_PG_URL is set but no PostgreSQL answers there: fix the URL or unset it."
            )
        return env_url, "WEBELECT_PG_URL"
    for url in _LOCAL_CANDIDATES:
        if _answers(url):
            return url, "local server on 127.0.0.1:5432"
    return _start_embedded(), "embedded PostgreSQL (pgserver) in .pgdata/"


def _start_embedded() -> str:
    global _embedded
    try:
        import pgserver
    except ImportError:  # pragma: no cover - requirements-dev.txt installs it
        raise SystemExit(
            "No PostgreSQL found: set WEBELECT_PG_URL, start one on 127.0.0.1:5432, "
            "or install pgserver (pip install -r requirements-dev.txt)."
        ) from None
    data_dir = Path(os.environ.get("WEBELECT_PGDATA", REPO / ".pgdata"))
    # 'stop' shuts the embedded server down when the last process using it exits.
    _embedded = pgserver.get_server(data_dir, cleanup_mode="stop")
    return _embedded.get_uri()


def with_database(url: str, dbname: str, user: str | None = None) -> str:
    """The same server URL pointing at another database (and optionally another user)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1]
        netloc = f"{quote(user)}@{host}"
    return urlunsplit((parts.scheme, netloc, "/" + dbname, parts.query, parts.fragment))


def create_database(admin_url: str, dbname: str, *, recreate: bool = False) -> str:
    """Create ``dbname`` (dropping it first when asked); return its admin URL."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", dbname):
        raise SystemExit(f"Database name {dbname!r} must be lower-case letters, digits and _.")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        if exists and recreate:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(dbname)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    return with_database(admin_url, dbname)


def drop_database(admin_url: str, dbname: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))


def install_webelect_schema(db_url: str) -> None:
    """Create webElect's own tables (dev/test/demo only; idempotent)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(SCHEMA_SQL.read_text(encoding="utf-8"))


def create_app_role(db_url: str, role: str = APP_ROLE, password: str | None = None) -> str:
    """Create the package's least-privilege role and grant it exactly what behaviour.md allows.

    It owns none of webElect's tables: SELECT, INSERT, UPDATE, DELETE on them (identity
    columns need no sequence grant), plus USAGE and CREATE on schema ``webelect`` for
    its own ``sidekick_`` tables. Returns the role's URL.
    """
    ident = sql.Identifier(role)
    with psycopg.connect(db_url, autocommit=True) as conn:
        dbname = conn.info.dbname
        with conn.transaction():
            # Roles are cluster-wide; many test databases share one. Serialise creation.
            conn.execute("select pg_advisory_xact_lock(7301)")
            if not conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
                conn.execute(sql.SQL("create role {} login nosuperuser nocreatedb nocreaterole").format(ident))
        if password is not None:
            conn.execute(sql.SQL("alter role {} password {}").format(ident, sql.Literal(password)))
        conn.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(dbname), ident))
        conn.execute(sql.SQL("grant usage, create on schema webelect to {}").format(ident))
        conn.execute(
            sql.SQL("grant select, insert, update, delete on all tables in schema webelect to {}").format(ident)
        )
    user_url = with_database(db_url, urlsplit(db_url).path.lstrip("/"), user=role)
    if password is not None:
        parts = urlsplit(user_url)
        host = parts.netloc.rsplit("@", 1)[-1]
        user_url = urlunsplit(
            (parts.scheme, f"{quote(role)}:{quote(password)}@{host}", parts.path, parts.query, "")
        )
    return user_url


def airflow_conn_uri(db_url: str) -> str:
    """An Airflow connection URI (``postgres://``) for a libpq URL."""
    parts = urlsplit(db_url)
    query = parts.query
    # pgserver hands out socket URLs (host=/path in the query): keep them as extras.
    return urlunsplit(("postgres", parts.netloc, parts.path, query, ""))
