"""docker-compose.yaml has every service, mount, connection and variable the DAGs need.

No Docker engine runs here, so the file is checked as data.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())


def test_services_in_the_shape_of_airflows_official_file(compose):
    services = compose["services"]
    for name in (*AIRFLOW_SERVICES, "airflow-init", "postgres", "redis", "webelect-db", "sidekick-simulator",
                 "webelect-init"):
        assert name in services, name
    commands = {name: services[name]["command"] for name in AIRFLOW_SERVICES}
    assert commands == {
        "airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor", "airflow-triggerer": "triggerer",
        "airflow-worker": "celery worker",
    }
    for name, service in services.items():
        if name not in ("airflow-init", "webelect-init"):
            assert "healthcheck" in service, f"{name} needs a health check"


def test_celery_profile_has_workers_and_redis(compose):
    services = compose["services"]
    assert services["airflow-worker"]["profiles"] == ["celery"]
    assert services["redis"]["profiles"] == ["celery"]
    env = services["airflow-worker"]["environment"]
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert "CeleryExecutor" in (REPO / "docker-compose.yaml").read_text()


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_airflow_services_mount_the_package_and_wire_both_connections(compose, service):
    spec = compose["services"][service]
    targets = {v.split(":")[1] for v in spec["volumes"]}
    for folder in ("dags", "plugins", "include", "logs"):
        assert f"/opt/airflow/{folder}" in targets
        source = next(v.split(":")[0] for v in spec["volumes"] if v.split(":")[1] == f"/opt/airflow/{folder}")
        if not source.startswith("$"):
            assert (REPO / source).is_dir(), source
    assert "/opt/airflow/runs" in targets, "workers must share the run folder"
    env = spec["environment"]
    assert env["AIRFLOW_CONN_WEBELECT_DB"].startswith("postgres://webelect_sidekick:")
    assert "@webelect-db:5432/" in env["AIRFLOW_CONN_WEBELECT_DB"]
    assert env["AIRFLOW_CONN_SIDEKICK_DEFAULT"] == "http://sidekick-simulator:8700"
    assert env["WEBELECT_SIDEKICK_STORAGE"] == "file:///opt/airflow/runs"
    assert env["WEBELECT_SIDEKICK_SQL_DIR"] == "/opt/airflow/include/sql"
    assert "/opt/airflow/plugins" in env["PYTHONPATH"].split(":")
    for dependency in ("postgres", "webelect-db", "sidekick-simulator", "airflow-init"):
        assert dependency in spec["depends_on"], f"{service} must wait for {dependency}"


def test_every_setting_the_package_reads_is_known_to_compose(compose):
    """Each WEBELECT_SIDEKICK_* variable the code reads is set in compose or has a default in code."""
    env = compose["x-airflow-common"]["environment"]
    read = set()
    for path in (REPO / "plugins").rglob("*.py"):
        read |= set(re.findall(r"""environ(?:\.get)?\(\s*["'](WEBELECT_SIDEKICK_\w+)""", path.read_text()))
        read |= set(re.findall(r"""environ\[\s*["'](WEBELECT_SIDEKICK_\w+)""", path.read_text()))
    must_be_set = {"WEBELECT_SIDEKICK_STORAGE", "WEBELECT_SIDEKICK_SQL_DIR"}
    assert must_be_set <= set(env)
    assert read, "the package reads its settings from WEBELECT_SIDEKICK_* variables"
    for name in read - set(env):
        # Not set in compose: the code must fall back to a default (environ.get with a default or `or`).
        assert any(
            re.search(rf"""environ\.get\(\s*["']{name}["']""", p.read_text()) for p in (REPO / "plugins").rglob("*.py")
        ), f"{name} is read with environ[...] but compose does not set it"


def test_seed_and_simulator_commands_point_at_real_modules(compose):
    services = compose["services"]
    seed = services["webelect-init"]["command"]
    assert seed[:3] == ["python", "-m", "devtools.seed"]
    assert (REPO / "devtools" / "seed.py").is_file()
    sim = services["sidekick-simulator"]["command"]
    assert sim[:3] == ["python", "-m", "simulator"]
    assert (REPO / "simulator" / "__main__.py").is_file()


def test_image_pins_the_same_airflow_as_requirements():
    pinned = re.search(r"^apache-airflow==(\S+)$", (REPO / "requirements.txt").read_text(), re.M).group(1)
    assert f"FROM apache/airflow:{pinned}-python3.11" in (REPO / "Dockerfile").read_text()
    assert "requirements.txt" in (REPO / "Dockerfile").read_text()
