"""What the browser tests (tests/test_ui_browser.py) stand on: a whole stack and page helpers.

``ui_stack()`` starts, in this order, and tears down in reverse:
1. a fresh webElect database ``webelect_ui_<pid>`` on the PostgreSQL that
   ``devtools.postgres.server_url()`` finds;
2. a Sidekick simulator (own process, own SQLite file), slowed down so that the export's
   wait step stays *deferred* long enough to be seen in the UI;
3. the demo seed (``devtools.seed.seed``): schema, least-privilege role, two campaigns
   with Sidekick enabled and their tokens registered with the simulator;
4. a local Airflow 3 (``devtools.local_airflow.running_airflow``): api-server, scheduler,
   dag-processor and triggerer, metadata in a throw-away PostgreSQL database.

The page helpers use what staff see — roles, labels and text — and Airflow's own
``data-testid`` only where the React UI offers nothing else (the pause switch).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from devtools import postgres
from devtools.local_airflow import LocalAirflow, Simulator, running_airflow, running_simulator

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "docs" / "screenshots"

#: Chromium as root on a machine with a closed network (see .ci/run and the machine notes).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

#: The simulator keeps an upload "Docked for Loading" then "In Progress" this long, so the
#: export's wait step is deferred for ~12 s: four UI refreshes (the UI polls every 3 s).
SLOW_SIMULATOR = {"dock_seconds": 4.0, "min_load_seconds": 8.0}

#: Fast retries for the import: a transient error should not sit out a 60 s retry delay.
FAST_RETRY_ENV = {"WEBELECT_SIDEKICK_IMPORT_RETRY_DELAY_SECONDS": "2"}


def chromium_executable() -> str | None:
    candidate = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    return candidate if Path(candidate).exists() else None


def screenshot_dir(tmp_dir: Path) -> Path:
    """``docs/screenshots`` when ``UPDATE_SCREENSHOTS=1`` (to refresh the committed ones), else ``tmp_dir``."""
    target = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_dir
    target.mkdir(parents=True, exist_ok=True)
    return target


@dataclass
class UIStack:
    airflow: LocalAirflow
    simulator: Simulator
    seeded: object  # devtools.seed.SeedResult
    webelect_admin_url: str
    timings: dict[str, float]


@contextlib.contextmanager
def ui_stack(*, voters: int = 300) -> Iterator[UIStack]:
    from devtools.seed import seed

    timings: dict[str, float] = {}
    started = time.monotonic()
    pg_admin, _how = postgres.server_url()
    dbname = f"webelect_ui_{os.getpid()}"
    webelect_admin = postgres.create_database(pg_admin, dbname, recreate=True)
    work = Path(tempfile.mkdtemp(prefix="webelect-sidekick-ui-"))
    try:
        with running_simulator(work / "simulator.sqlite3", **SLOW_SIMULATOR) as sim:
            seeded = seed(webelect_admin, simulator_url=sim.url, voters=voters)
            timings["seed"] = time.monotonic() - started
            with running_airflow(
                webelect_conn_uri=postgres.airflow_conn_uri(seeded.app_url),
                sidekick_url=sim.url,
                pg_admin_url=pg_admin,
                extra_env=FAST_RETRY_ENV,
            ) as airflow:
                timings.update({f"airflow_{k}": v for k, v in airflow.startup_seconds.items()})
                timings["stack"] = time.monotonic() - started
                yield UIStack(airflow, sim, seeded, webelect_admin, timings)
    finally:
        with contextlib.suppress(Exception):
            postgres.drop_database(pg_admin, dbname)
        import shutil

        shutil.rmtree(work, ignore_errors=True)


def small_query_id(campaign) -> int:
    """The seeded campaign's small saved query, "Demo: 100 voters" (devtools.synthetic)."""
    return next(qid for name, qid in campaign.query_ids.items() if name.startswith("Demo"))


# --------------------------------------------------------------------------- pages


def login(page, airflow: LocalAirflow) -> None:
    """Sign in through Airflow's login form, as staff do."""
    from playwright.sync_api import expect

    page.goto(airflow.base_url + "/")
    expect(page.get_by_role("heading", name=re.compile("Sign into Airflow"))).to_be_visible()
    page.get_by_label("Username").fill(airflow.username)
    page.get_by_label("Password").fill(airflow.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Dags").first).to_be_visible()


def display_name(airflow: LocalAirflow, dag_id: str) -> str:
    """The name the UI shows for ``dag_id`` (its ``dag_display_name``)."""
    return airflow.get(f"/dags/{dag_id}").get("dag_display_name") or dag_id


def open_dag(page, airflow: LocalAirflow, dag_id: str) -> str:
    """From the Dags list, open ``dag_id``'s page by the name staff see; return that name."""
    from playwright.sync_api import expect

    name = display_name(airflow, dag_id)
    page.goto(airflow.base_url + "/dags")
    page.get_by_role("link", name=name, exact=True).first.click()
    # The app routes on the client: wait for the DAG's own heading, not just the URL.
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    return name


def open_trigger_form(page, name: str):
    """Click the DAG page's Trigger button; return the dialog (titled with the DAG's display ``name``)."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="Trigger Dag").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=f"Trigger Dag - {name}")).to_be_visible()
    return dialog


def submit_trigger_form(page, dialog) -> str:
    """Click the dialog's Trigger button; return the run id the UI navigates to."""
    from playwright.sync_api import expect

    dialog.get_by_role("button", name="Trigger", exact=True).click()
    expect(dialog).to_be_hidden()
    page.wait_for_url(re.compile(r".*/runs/[^/]+$"))
    return unquote(page.url.rsplit("/runs/", 1)[1])


def run_url(airflow: LocalAirflow, dag_id: str, run_id: str) -> str:
    return f"{airflow.base_url}/dags/{dag_id}/runs/{run_id}"


def run_row(page, airflow: LocalAirflow, dag_id: str, run_id: str):
    """Open the DAG's Runs tab; return the row of ``run_id``."""
    page.goto(f"{airflow.base_url}/dags/{dag_id}/runs")
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=run_id, exact=True))


def task_row(page, task_id: str, map_index_label: str | None = None):
    """The row of ``task_id`` (mapped: of its ``map_index_label``, e.g. "campaign 3") in a run's task table."""
    rows = page.get_by_role("row").filter(has=page.get_by_role("link", name=task_id, exact=True))
    if map_index_label is not None:
        rows = rows.filter(has=page.get_by_role("link", name=map_index_label, exact=True))
    return rows


def open_task_log(page, airflow: LocalAirflow, dag_id: str, run_id: str, task_id: str,
                  map_index_label: str | None = None):  # fmt: skip
    """From the run's task table, open ``task_id`` (or one of its mapped instances); return the log view."""
    from playwright.sync_api import expect

    page.goto(run_url(airflow, dag_id, run_id))
    row = task_row(page, task_id, map_index_label)
    row.get_by_role("link", name=map_index_label or task_id, exact=True).click()
    page.wait_for_url(re.compile(rf".*/runs/.+/tasks/{re.escape(task_id)}(/mapped/\d+)?$"))
    expect(page.get_by_role("link", name="Logs", exact=True)).to_be_visible()
    log = page.get_by_role("code").first
    expect(log).to_be_visible()
    return log
