"""Load a DAG file afresh, as the dag-processor would, for dag.test() runs."""

from __future__ import annotations

import importlib.util
import secrets
from pathlib import Path

DAGS = Path(__file__).resolve().parents[1] / "dags"


def load_dag(dag_id: str):
    """A new DAG object from ``dags/<dag_id>.py`` (settings are read when the file is parsed)."""
    path = DAGS / f"{dag_id}.py"
    spec = importlib.util.spec_from_file_location(f"{dag_id}_dag_{secrets.token_hex(4)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, dag_id)()
