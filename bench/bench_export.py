"""Benchmark: the sidekick_export DAG end to end, 1,000,000 targeted voters (+ housemates) to the simulator.

    .venv/bin/python bench/bench_export.py [--db-url URL] [--fresh] [--query-size N] [--json PATH]

What it does:

1. Stands up (once; reused on later runs unless ``--fresh``) a synthetic webElect in the
   database ``webelect_bench_export``: ``devtools.synthetic.generate(benchmark=True)``
   — a campaign of 1.5M voters with tags, groups, notes, phones and emails and a saved
   query of exactly 1,000,000 targeted voters (~0.34M housemates come along), plus a
   second campaign of 1.5M voters that must never leak in. Runs as the package's
   least-privilege role; enables Send to Sidekick for the campaign.
2. Starts the Sidekick simulator (``python -m simulator``, contract rate limit of 10
   requests per second per token) and registers the campaign's token.
3. Times a bare ``COPY (select <voter rows of the same voters>) TO STDOUT`` as the
   baseline: reading the same voters with their household, nothing else.
4. Runs the DAG with ``dag.test()`` (every task in this process, the wait in the
   in-process triggerer) and prints total seconds, seconds per task, the report's
   voters per second, peak RSS of this process (every task ran in it) and of the
   simulator, the baseline and the ratio; checks that Sidekick loaded every record.

``--query-size N`` adds (once) a query of N voters and exports it instead, to show that
memory does not grow with the size of the list; ``--add-to-group "Bench group"`` also
times adding the targeted voters to a (new) group. Results go to ``bench/results/``
(git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "plugins")]

BENCH_DB = "webelect_bench_export"
BENCH_TOKEN_NAME = "bench"  # the campaign name the token is registered under in the simulator


def _setup_airflow_env(home: Path) -> None:
    from devtools.airflow_env import private_airflow

    os.environ.update(private_airflow(home))
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def _rss_mb(pid: int, field: str = "VmHWM") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class RssSampler(threading.Thread):
    """Samples this process's current RSS every 50 ms (VmHWM gives the peak; this gives the curve)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        while not self._halt.wait(0.05):
            self.samples.append((time.monotonic() - start, _rss_mb(os.getpid(), "VmRSS")))

    def stop(self) -> None:
        self._halt.set()
        self.join()


def prepare_database(server_url: str, fresh: bool, query_size: int | None) -> dict:
    import psycopg

    from devtools import postgres, synthetic
    from webelect_sidekick.migrations import apply_migrations

    admin_url = postgres.with_database(server_url, BENCH_DB)
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (BENCH_DB,)).fetchone()
    if fresh or not exists:
        postgres.create_database(server_url, BENCH_DB, recreate=True)
    postgres.install_webelect_schema(admin_url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        loaded = conn.execute("select count(*) from webelect.voters").fetchone()[0]
    if not loaded:
        print("==> generating the benchmark campaign (devtools.synthetic, benchmark=True; ~2 min, once)", flush=True)
        synthetic.generate(admin_url, benchmark=True, campaigns=2)
    app_url = postgres.create_app_role(admin_url)
    with psycopg.connect(app_url) as conn:
        apply_migrations(conn)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        campaign_id = conn.execute("select min(id) from webelect.campaigns").fetchone()[0]
        if query_size:
            name = f"Bench sample of {query_size}"
            row = conn.execute("select id from webelect.target_queries where campaign_id = %s and name = %s",
                               (campaign_id, name)).fetchone()  # fmt: skip
            if row is None:
                query_id = conn.execute("insert into webelect.target_queries (campaign_id, name) values (%s, %s) "
                                        "returning id", (campaign_id, name)).fetchone()[0]  # fmt: skip
                conn.execute(
                    "insert into webelect.target_query_voters (query_id, voter_id) select %s, id from "
                    "(select id from webelect.voters where campaign_id = %s and status <> 'purged' "
                    "order by md5(id::text) limit %s) s", (query_id, campaign_id, query_size))  # fmt: skip
                conn.execute("analyze webelect.target_query_voters")
            else:
                query_id = row[0]
        else:
            query_id = conn.execute(
                "select q.id from webelect.target_queries q where q.campaign_id = %s and q.name like 'Sample of %%' "
                "order by q.id limit 1", (campaign_id,)).fetchone()[0]  # fmt: skip
        token = f"bench-{secrets.token_urlsafe(32)}"
        conn.execute("update webelect.campaigns set sidekick_enabled = true, sidekick_token = %s where id = %s",
                     (token, campaign_id))  # fmt: skip
        conn.execute("truncate webelect.sidekick_exports")
        conn.execute("delete from webelect.group_members where group_id in"
                     " (select id from webelect.groups where name like 'Bench %%')")  # fmt: skip
        conn.execute("delete from webelect.groups where name like 'Bench %%'")
    return {"admin_url": admin_url, "app_url": app_url, "campaign_id": campaign_id, "query_id": query_id,
            "token": token}  # fmt: skip


def baseline_copy(app_url: str, campaign_id: int, query_id: int) -> tuple[float, int]:
    """A bare COPY of the same voters' rows (voter + household), read by psycopg and thrown away."""
    import psycopg
    from psycopg import sql as pg_sql

    from webelect_sidekick import sql
    from webelect_sidekick.export import voters

    with psycopg.connect(app_url) as conn:
        size = conn.execute("select count(*) from webelect.target_query_voters where query_id = %s",
                            (query_id,)).fetchone()[0]  # fmt: skip
        name = "select_voters_large" if voters.strategy(conn, size) == "large" else "select_voters"
    selection = sql.load(f"sidekick_export/{name}.sql").rstrip().rstrip(";")
    columns = ("v.id, v.sos_voter_id, v.rnc_reg_id, v.household_id, v.first_name, v.middle_name, v.last_name, "
               "v.suffix, v.birth_date, v.gender, v.party, v.registration_date, v.status, v.precinct, "
               "h.address_line1, h.unit, h.city, h.state, h.zip5")
    statement = pg_sql.SQL(
        "copy (select {} from ({}) s join webelect.voters v on v.id = s.voter_id "
        "left join webelect.households h on h.id = v.household_id order by v.id) to stdout (format csv)"
    ).format(pg_sql.SQL(columns), pg_sql.SQL(selection))
    with psycopg.connect(app_url) as conn:
        conn.execute("set jit = off")
        conn.execute("set work_mem = '256MB'")
        started = time.perf_counter()
        size = 0
        with conn.cursor().copy(statement, {"campaign_id": campaign_id, "query_id": query_id}) as copy:
            for block in copy:
                size += len(block)
        return time.perf_counter() - started, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", help="a superuser URL of the PostgreSQL server (default: as devtools.postgres finds one)")
    parser.add_argument("--fresh", action="store_true", help="drop and regenerate the benchmark database")
    parser.add_argument("--query-size", type=int, help="export a query of this many voters instead of the 1M preset")
    parser.add_argument("--add-to-group", help="also add the targeted voters to this group (created if missing)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="bench-export-airflow-"))
    _setup_airflow_env(home)
    from devtools import postgres

    server_url = args.db_url or postgres.server_url()[0]
    setup = prepare_database(server_url, args.fresh, args.query_size)
    os.environ["AIRFLOW_CONN_WEBELECT_DB"] = postgres.airflow_conn_uri(setup["app_url"])

    print("==> migrating Airflow's metadata database (SQLite, temporary)", flush=True)
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True,
                   env=os.environ.copy())  # fmt: skip

    from simulator.process import free_port

    port = free_port()
    sim_log = open(home / "simulator.log", "ab")  # noqa: SIM115
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    sim = subprocess.Popen([sys.executable, "-m", "simulator", "--host", "127.0.0.1", "--port", str(port),
                            "--db", str(home / "simulator.sqlite3")], cwd=REPO, env=env, stdout=sim_log,
                           stderr=subprocess.STDOUT)  # fmt: skip
    from simulator.control import SimulatorControl

    control = SimulatorControl(f"http://127.0.0.1:{port}", timeout=120)
    try:
        control.wait_until_up(30)
        account = control.register_account(BENCH_TOKEN_NAME, setup["token"])
        os.environ["AIRFLOW_CONN_SIDEKICK_DEFAULT"] = f"http://127.0.0.1:{port}"

        print("==> baseline: bare COPY of the same voters' rows", flush=True)
        baseline_seconds, baseline_bytes = baseline_copy(setup["app_url"], setup["campaign_id"], setup["query_id"])
        print(f"    {baseline_seconds:.1f} s, {baseline_bytes / 1e6:.0f} MB of CSV", flush=True)

        import importlib.util

        spec = importlib.util.spec_from_file_location("sidekick_export_bench", REPO / "dags" / "sidekick_export.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        dag = module.sidekick_export()

        print(f"==> dag.test(): export query {setup['query_id']} of campaign {setup['campaign_id']}", flush=True)
        rss_before = _rss_mb(os.getpid(), "VmRSS")
        sampler = RssSampler()
        sampler.start()
        cpu_self, cpu_sim = _cpu_seconds(os.getpid()), _cpu_seconds(sim.pid)
        started = time.perf_counter()
        conf = {"query_id": setup["query_id"]}
        if args.add_to_group:
            conf["add_to_group"] = args.add_to_group
        run = dag.test(run_conf=conf)
        total = time.perf_counter() - started
        sampler.stop()
        cpu_self, cpu_sim = _cpu_seconds(os.getpid()) - cpu_self, _cpu_seconds(sim.pid) - cpu_sim
        peak_self = _rss_mb(os.getpid(), "VmHWM")
        peak_sim = _rss_mb(sim.pid, "VmHWM")

        tis = sorted(run.get_task_instances(), key=lambda ti: ti.start_date or ti.end_date)
        per_task = {ti.task_id: round((ti.end_date - ti.start_date).total_seconds(), 2) if ti.start_date and ti.end_date
                    else None for ti in tis}  # fmt: skip
        states = {ti.task_id: str(ti.state) for ti in tis}
        report = next((ti.xcom_pull(task_ids="report") for ti in tis if ti.task_id == "report"), None)
        if report is None:
            from airflow.models.xcom import XComModel
            from airflow.utils.session import create_session

            with create_session() as session:
                row = session.query(XComModel).filter_by(dag_id=run.dag_id, run_id=run.run_id,
                                                         task_id="report", key="return_value").one_or_none()  # fmt: skip
                report = row.value if row is not None else None
                if isinstance(report, str):
                    report = json.loads(report)
        upload = control.uploads(account.id)[0] if control.uploads(account.id) else {}
        puts = [r for r in control.requests(account_id=account.id, method="PUT") if r["status"] in (200, 201)]
        put_ms = sorted(r["duration_ms"] for r in puts)
        result = {
            "state": str(run.state),
            "total_seconds_dag_test": round(total, 1),
            "report_seconds": report and report["seconds"],
            "voters_per_second": report and report["voters_per_second"],
            "records": report and report["records"],
            "targeted_sent": report and report["targeted_sent"],
            "housemates_sent": report and report["housemates_sent"],
            "parts": report and report["parts"],
            "mb_gzip": report and round(report["bytes_gzip"] / 1e6, 1),
            "sidekick_status": upload.get("status"),
            "sidekick_records_loaded": upload.get("records_loaded"),
            "seconds_per_task": per_task,
            "task_states": states,
            "puts": len(puts),
            "put_ms_median": put_ms and round(put_ms[len(put_ms) // 2], 1),
            "put_ms_p95": put_ms and round(put_ms[int(len(put_ms) * 0.95)], 1),
            "cpu_seconds_airflow_process": round(cpu_self, 1),
            "cpu_seconds_simulator": round(cpu_sim, 1),
            "peak_rss_mb_airflow_process": round(peak_self, 0),
            "rss_mb_before_run": round(rss_before, 0),
            "rss_mb_growth_during_run": round(max((s for _, s in sampler.samples), default=rss_before) - rss_before, 0),
            "peak_rss_mb_simulator": round(peak_sim, 0),
            "peak_rss_mb_getrusage_self": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "baseline_copy_seconds": round(baseline_seconds, 2),
            "ratio_export_to_baseline": report and round(report["seconds"] / baseline_seconds, 1),
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
        }
    finally:
        sim.terminate()
        sim.wait(timeout=30)
        control.close()
        sim_log.close()

    print(json.dumps(result, indent=2), flush=True)
    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (out_dir / f"export-{stamp}.json").write_text(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    ok = result["state"] == "success" and result["sidekick_records_loaded"] is not None and \
        result["sidekick_records_loaded"] + (upload.get("records_rejected") or 0) == result["records"]  # fmt: skip
    shutil.rmtree(home, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
