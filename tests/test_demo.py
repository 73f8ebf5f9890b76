"""The README's first command: `python3 dev.py demo` runs both DAGs and prints both reports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devtools import postgres

REPO = Path(__file__).resolve().parents[1]


def test_demo_runs_both_dags_and_prints_both_reports(pg_server, tmp_path):
    dbname = f"webelect_demo_test_{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({"WEBELECT_DEMO_DIR": str(tmp_path / "demo"), "WEBELECT_DEMO_DB": dbname,
                "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")])})
    try:
        done = subprocess.run([sys.executable, str(REPO / "dev.py"), "demo"], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=600)
    finally:
        postgres.drop_database(pg_server, dbname)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "NOT BUILT YET" not in output
    assert "Send to Sidekick — transfer complete." in output
    assert "Sidekick status: Completed" in output
    assert output.count("Sidekick import report for campaign") == 2
    assert output.count("cursor committed:    yes") == 2
    assert "demo finished" in output
    assert (tmp_path / "demo" / "logs" / "sidekick_export.log").is_file(), "the demo keeps to its own folder"
