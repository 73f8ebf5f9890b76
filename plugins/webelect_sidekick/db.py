"""Connections to the webElect database.

One place turns the Airflow connection ``webelect_db`` into a psycopg 3 connection
and turns "cannot connect" into a sentence that says what to fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from airflow.sdk.exceptions import AirflowNotFoundException

from webelect_sidekick.config import WEBELECT_CONN_ID
from webelect_sidekick.errors import TransientError, UserFacingError


def connect(conn_id: str = WEBELECT_CONN_ID) -> psycopg.Connection:
    """Open a psycopg 3 connection to webElect (autocommit off)."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    try:
        conn = PostgresHook(postgres_conn_id=conn_id, enable_log_db_messages=False).get_conn()
    except AirflowNotFoundException:
        raise UserFacingError(
            f"The Airflow connection '{conn_id}' is not defined: add it under Admin → Connections "
            f"or set AIRFLOW_CONN_{conn_id.upper()} to the webElect database URL."
        ) from None
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TransientError(
            f"Cannot reach the webElect database through connection '{conn_id}' ({first_line}); "
            "check the host, port, database name and credentials of that connection."
        ) from None
    if not isinstance(conn, psycopg.Connection):  # pragma: no cover - psycopg2 fallback
        raise UserFacingError(
            "The postgres provider returned a psycopg2 connection; install psycopg 3 "
            "(psycopg[binary]) and SQLAlchemy 2 as requirements.txt pins them."
        )
    return conn


@contextmanager
def transaction(conn_id: str = WEBELECT_CONN_ID) -> Iterator[psycopg.Connection]:
    """A connection whose work commits on success and rolls back on any error."""
    conn = connect(conn_id)
    try:
        with conn.transaction():
            yield conn
    finally:
        conn.close()
