"""Pytest fixtures for the Sidekick simulator: a real HTTP server in its own process.

Loaded for every test by tests/conftest.py (``pytest_plugins``). Fixtures:

``sidekick_server`` (session)
    one ``python -m simulator`` on a free port with a fresh SQLite file, stopped at the end.
``sidekick`` (function)
    the same server, with ``AIRFLOW_CONN_SIDEKICK_DEFAULT`` pointing at it for this test;
    faults and settings are put back afterwards. Use ``sidekick.control`` (a
    :class:`simulator.control.SimulatorControl`) to register accounts, load changes,
    schedule faults and read what arrived.
``sidekick_account`` (function)
    a fresh Sidekick account with a random token (``.id``, ``.name``, ``.token``).

Each test gets its own account (and so its own token and rate limit), so tests never see
each other's uploads even though the server is shared.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from simulator.control import SimAccount
from simulator.process import SimulatorProcess, free_port  # noqa: F401 - re-exported for tests
from simulator.store import DEFAULT_SETTINGS


@pytest.fixture(scope="session")
def sidekick_server():
    with tempfile.TemporaryDirectory(prefix="sidekick-sim-") as tmp:
        sim = SimulatorProcess(Path(tmp) / "simulator.sqlite3")
        sim.start()
        try:
            yield sim
        finally:
            sim.stop()
            sim.control.close()


@pytest.fixture
def sidekick(sidekick_server: SimulatorProcess, monkeypatch: pytest.MonkeyPatch) -> SimulatorProcess:
    monkeypatch.setenv("AIRFLOW_CONN_SIDEKICK_DEFAULT", sidekick_server.url)
    yield sidekick_server
    if sidekick_server.process is not None and sidekick_server.process.poll() is None:
        sidekick_server.control.clear_faults()
        sidekick_server.control.settings(**DEFAULT_SETTINGS)


@pytest.fixture
def sidekick_account(sidekick: SimulatorProcess) -> SimAccount:
    return sidekick.register()


# --------------------------------------------------------------------------- record helpers


def voter_record(i: int, **overrides) -> dict:
    """A valid voter record as the contract shows it; ``overrides`` replace keys (``None`` values included)."""
    record = {
        "webelect_voter_id": i, "sos_voter_id": f"OH{i:010d}", "rnc_reg_id": None, "targeted": True,
        "household_id": 1000 + i // 2, "first_name": "Ana", "middle_name": None, "last_name": "Ruiz",
        "suffix": None, "birth_date": "1980-04-02", "gender": "F", "party": "REP", "registration_date": "2012-10-01",
        "voter_status": "active", "precinct": "FRA-07",
        "address": {"line1": f"{i} Elm St", "unit": None, "city": "Columbus", "state": "OH", "zip5": "43215"},
        "tags": ["Walk 12/04", "Yard Sign"],
        "notes": [{"body": "Asked about early voting", "created_at": "2026-11-30T15:04:05Z",
                   "author_email": "jo@example.org"}],
        "phones": [{"number": f"+1614555{i % 10000:04d}", "type": "cell", "rank": 90}],
        "emails": [{"address": f"voter{i}@example.org", "rank": 90}],
    }  # fmt: skip
    record.update(overrides)
    return record


def ndjson_lines(records: list[dict]) -> list[bytes]:
    import orjson

    return [orjson.dumps(r) + b"\n" for r in records]


def gzip_ndjson(records: list[dict]) -> bytes:
    import zlib

    return zlib.compress(b"".join(ndjson_lines(records)), 1, wbits=31)
