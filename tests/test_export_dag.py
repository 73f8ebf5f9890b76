"""The sidekick_export DAG end to end: dag.test() against PostgreSQL and the simulator over HTTP."""

from __future__ import annotations

import importlib.util
import secrets
from pathlib import Path

DAG_FILE = Path(__file__).resolve().parents[1] / "dags" / "sidekick_export.py"


def load_dag():
    spec = importlib.util.spec_from_file_location(f"sidekick_export_dag_{secrets.token_hex(4)}", DAG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.sidekick_export()


def linked_campaign(factory, sidekick, name="Smith for Senate"):
    token = f"tok-{secrets.token_urlsafe(32)}"
    campaign_id = factory.enabled_campaign(name, token=token)
    return campaign_id, sidekick.register(name, token=token), token


def test_smoke(webelect, factory, sidekick, airflow_db):
    c, account, token = linked_campaign(factory, sidekick)
    h = factory.household(c)
    v1 = factory.voter(c, h)
    factory.voter(c, h)
    q = factory.query(c, [v1])
    dag = load_dag()
    run = dag.test(run_conf={"query_id": q})
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    print(states)
    assert str(run.state) == "success", states
