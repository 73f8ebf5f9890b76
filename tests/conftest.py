"""Test foundation: a real PostgreSQL, a fresh webElect database per session, a temporary AIRFLOW_HOME.

- The PostgreSQL server is found as devtools/postgres.py says (WEBELECT_PG_URL, else a
  local server on 127.0.0.1:5432, else an embedded one from pgserver).
- Each test session creates its own database ``webelect_test_<pid>``, installs the
  webElect schema as the server's superuser (standing in for webElect itself), creates
  the least-privilege role, applies the package's migrations *as that role*, and points
  ``AIRFLOW_CONN_WEBELECT_DB`` at it: the package never runs as a superuser in tests.
- Every test that uses ``webelect`` gets empty tables afterwards (truncate), so data is
  isolated per test.
- Airflow's metadata database is SQLite in a temporary AIRFLOW_HOME, never the user's.

Fixtures: ``webelect`` (URLs + an admin connection + a factory), ``factory``,
``airflow_db`` (migrated metadata DB, for dag.test()), ``sidekick`` (the simulator,
from tests/sidekick_fixtures.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from devtools.airflow_env import private_airflow  # noqa: E402 - imports no Airflow

# --- Airflow environment: must be in place before anything imports airflow. ----------
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="webelect-sidekick-airflow-"))
os.environ.update(private_airflow(_AIRFLOW_HOME))
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ.pop("AIRFLOW_CONN_WEBELECT_DB", None)
os.environ.pop("AIRFLOW_CONN_SIDEKICK_DEFAULT", None)

import psycopg  # noqa: E402
import pytest  # noqa: E402

from devtools import postgres  # noqa: E402
from tests.factories import WebElectFactory  # noqa: E402

if (REPO / "tests" / "sidekick_fixtures.py").exists():
    pytest_plugins = ["tests.sidekick_fixtures"]

_DATA_TABLES = (
    "campaigns, users, households, voters, tags, voter_tags, groups, group_members, "
    "notes, phones, emails, target_queries, target_query_voters"
)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)
    # pytest's "no tests collected" is not a failure of the suite we ship.
    if exitstatus == 5:
        session.exitstatus = 0


class WebElectDB:
    """What a test needs to reach the session's webElect database."""

    def __init__(self, admin_url: str, app_url: str):
        self.admin_url = admin_url  # superuser: plays webElect itself (seeding, inspecting)
        self.app_url = app_url  # the package's least-privilege role
        self.admin = psycopg.connect(admin_url, autocommit=True)

    def scalar(self, query: str, params: tuple | dict | None = None):
        row = self.admin.execute(query, params).fetchone()
        return None if row is None else row[0]

    def rows(self, query: str, params: tuple | dict | None = None) -> list[tuple]:
        return self.admin.execute(query, params).fetchall()

    def truncate(self) -> None:
        tables = [f"webelect.{t.strip()}" for t in _DATA_TABLES.split(",")]
        sidekick = [
            f"webelect.{name}"
            for (name,) in self.admin.execute(
                "select tablename from pg_tables where schemaname = 'webelect'"
                " and tablename like 'sidekick\\_%%' and tablename <> 'sidekick_schema_migrations'"
            ).fetchall()
        ]
        self.admin.execute(f"truncate {', '.join(tables + sidekick)} restart identity cascade")  # noqa: S608


@pytest.fixture(scope="session")
def pg_server() -> str:
    url, how = postgres.server_url()
    sys.stderr.write(f"\n[tests] PostgreSQL: {how}\n")
    return url


@pytest.fixture(scope="session")
def webelect_session(pg_server: str):
    dbname = f"webelect_test_{os.getpid()}"
    admin_url = postgres.create_database(pg_server, dbname, recreate=True)
    postgres.install_webelect_schema(admin_url)
    app_url = postgres.create_app_role(admin_url)
    os.environ["AIRFLOW_CONN_WEBELECT_DB"] = postgres.airflow_conn_uri(app_url)

    from webelect_sidekick.migrations import apply_migrations

    with psycopg.connect(app_url) as conn:
        apply_migrations(conn)
    handle = WebElectDB(admin_url, app_url)
    yield handle
    handle.admin.close()
    postgres.drop_database(pg_server, dbname)


@pytest.fixture
def webelect(webelect_session: WebElectDB):
    """The session's webElect database, emptied after the test."""
    yield webelect_session
    webelect_session.truncate()


@pytest.fixture
def factory(webelect: WebElectDB) -> WebElectFactory:
    return WebElectFactory(webelect.admin)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Airflow's metadata DB (SQLite in the temporary AIRFLOW_HOME), migrated once per session."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    return _AIRFLOW_HOME
