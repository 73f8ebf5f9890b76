"""The settings of a private Airflow for tests, the demo and the benchmarks.

One place says what "an Airflow that only knows this repo" means: its own AIRFLOW_HOME
with a SQLite metadata database and logs, this repo's dags/ and plugins/, no examples,
and run files under the home. Callers add connections and their own extras. Importing
this module does not import Airflow, so it can run before Airflow reads its config.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def private_airflow(home: Path) -> dict[str, str]:
    """Environment variables for an Airflow whose every file lives under ``home``."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "WEBELECT_SIDEKICK_STORAGE": f"file://{home}/runs",
    }
