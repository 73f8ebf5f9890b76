"""Every file in dags/ imports cleanly in Airflow's DagBag and follows the house rules."""

from __future__ import annotations

from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[1] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}, "\n".join(f"{k}: {v}" for k, v in dagbag.import_errors.items())


def test_every_dag_file_defines_a_dag(dagbag):
    files = {p.resolve() for p in DAGS.glob("*.py") if not p.name.startswith("_")}
    assert files, "dags/ is empty"
    defined = {Path(dag.fileloc).resolve() for dag in dagbag.dags.values()}
    assert files == defined


def test_house_rules(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.doc_md and len(dag.doc_md) > 200, f"{dag_id}: doc_md must explain the DAG to staff"
        assert dag.tags, f"{dag_id}: needs tags"
        assert dag.catchup is False, f"{dag_id}: catchup must be off"
        assert dag.max_active_runs is not None
        for t in dag.tasks:
            if t.task_id.startswith("cleanup") or getattr(t, "is_teardown", False):
                continue
            assert t.retries >= 2, f"{dag_id}.{t.task_id}: retries must be >= 2"
