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

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from simulator.control import SimAccount, SimulatorControl
from simulator.store import DEFAULT_SETTINGS

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SimulatorProcess:
    """A running simulator: ``url``, ``control``, and ``restart()`` (same port, same state file)."""

    db_path: Path
    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __post_init__(self) -> None:
        self.log_path = self.log_path or self.db_path.with_suffix(".log")
        self.control = SimulatorControl(self.url)

    def start(self, timeout: float = 30.0) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO), env.get("PYTHONPATH"))))
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "simulator", "--host", "127.0.0.1", "--port", str(self.port),
                 "--db", str(self.db_path)],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not self.control.health():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Sidekick simulator did not start:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def register(self, name: str = "Test campaign", token: str | None = None, **options) -> SimAccount:
        return self.control.register_account(name, token or f"test-{secrets.token_urlsafe(24)}", **options)


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
