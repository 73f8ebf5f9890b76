"""Benchmark of sidekick_import: 200,000 canvass changes for one campaign, pulled and applied.

    .venv/bin/python bench/bench_import.py [--changes 200000] [--voters 50000] [--seed 1]
                                          [--page-size 5000] [--no-http] [--keep]

What it does, on the PostgreSQL that devtools/postgres.py finds (a fresh database
``webelect_bench_import``, dropped afterwards unless ``--keep``):
1. webElect schema, the least-privilege role, the package's migrations (as that role);
2. one campaign with ``--voters`` voters, 20 staff users, 30 tags (some with a Sidekick
   name), and existing phones and emails for a tenth of the voters — bulk-loaded with COPY;
3. ``--changes`` simulated canvass changes from devtools/canvass.py (every kind of messy
   input) loaded into the Sidekick simulator, started on a free port with the contract's
   rate limit (10 requests/s per token) — not timed;
4. the night's five steps exactly as the DAG's tasks run them (``steps.pull`` … ``steps.report``),
   each timed; then a second night with nothing new, timed too.

``--no-http`` feeds the pull from memory instead of the simulator (to time the database
part alone). Results: printed, and written to bench/results/import-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "plugins")]
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="bench-import-airflow-"))
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_AIRFLOW_HOME}/airflow.db")

import psycopg  # noqa: E402

from devtools import canvass, postgres  # noqa: E402

DB_NAME = "webelect_bench_import"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Simulator:
    """``python -m simulator`` on a free port with its state in a temporary file."""

    def __init__(self, workdir: Path):
        from simulator.control import SimulatorControl

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH")))))
        self.log = open(workdir / "simulator.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "simulator", "--host", "127.0.0.1", "--port", str(self.port),
             "--db", str(workdir / "simulator.sqlite3"), "--rate-limit", "10", "--rate-burst", "10"],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.control = SimulatorControl(self.url, timeout=120)
        self.control.wait_until_up(30)

    def stop(self) -> None:
        self.control.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def seed(admin_url: str, voters: int, token: str) -> int:
    """One campaign, bulk-loaded; returns its id."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        campaign_id = conn.execute(
            "insert into webelect.campaigns (name, sidekick_enabled, sidekick_token) values (%s, true, %s) returning id",
            ("Bench for Governor", token),
        ).fetchone()[0]
        with conn.cursor() as cur:
            with cur.copy("copy webelect.voters (campaign_id, sos_voter_id, first_name, last_name, status) from stdin") as cp:
                for i in range(voters):
                    cp.write_row((campaign_id, f"OH{i:010d}", "Voter", f"Number {i}", "active"))
            for first, last in canvass.CANVASSERS:
                cur.execute("insert into webelect.users (campaign_id, email, first_name, last_name, level) "
                            "values (%s, %s, %s, %s, 2)", (campaign_id, canvass._canvasser_email(first, last).lower(),
                                                          first, last))
            for i, name in enumerate(canvass.TAGS[:30]):
                cur.execute("insert into webelect.tags (campaign_id, name, sidekick_name) values (%s, %s, %s)",
                            (campaign_id, name if i % 3 else f"WE {name}", name if i % 3 == 0 else None))
            cur.execute(
                "insert into webelect.phones (voter_id, number, phone_type, source, rank_score) "
                "select id, '+1614' || lpad((2000000 + id %% 7000000)::text, 7, '0'), 'landline', 'voter_file', 50 "
                "from webelect.voters where campaign_id = %s and id %% 10 = 0", (campaign_id,))
            cur.execute(
                "insert into webelect.emails (voter_id, address, source, rank_score) "
                "select id, 'voter' || id || '.1@gmail.com', 'vendor', 40 "
                "from webelect.voters where campaign_id = %s and id %% 10 = 0", (campaign_id,))
        conn.execute("analyze")
    return campaign_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200_000)
    parser.add_argument("--voters", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--no-http", action="store_true", help="pull from memory instead of the simulator")
    parser.add_argument("--keep", action="store_true", help=f"keep the database {DB_NAME}")
    args = parser.parse_args(argv)

    server, how = postgres.server_url()
    print(f"PostgreSQL: {how}", flush=True)
    admin_url = postgres.create_database(server, DB_NAME, recreate=True)
    postgres.install_webelect_schema(admin_url)
    app_url = postgres.create_app_role(admin_url)
    os.environ["AIRFLOW_CONN_WEBELECT_DB"] = postgres.airflow_conn_uri(app_url)
    os.environ["WEBELECT_SIDEKICK_IMPORT_PAGE_SIZE"] = str(args.page_size)

    from webelect_sidekick.importer import steps
    from webelect_sidekick.migrations import apply_migrations

    with psycopg.connect(app_url) as conn:
        apply_migrations(conn)
    token = f"bench-{secrets.token_urlsafe(32)}"
    started = time.monotonic()
    campaign_id = seed(admin_url, args.voters, token)
    with psycopg.connect(admin_url) as conn:
        voters = canvass.campaign_voters(conn, campaign_id)
    changes = canvass.generate(voters, args.changes, seed=args.seed)
    print(f"seeded {args.voters:,} voters and generated {len(changes):,} changes in "
          f"{time.monotonic() - started:.1f} s", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    sim = None
    page_source = None
    try:
        if args.no_http:
            from tests.test_import_support import Feed

            for seq, change in enumerate(changes, 1):
                change["seq"] = seq
            page_source = Feed(changes, page_size=args.page_size).pages
        else:
            sim = Simulator(workdir)
            account = sim.control.register_account("Bench for Governor", token=token)
            t = time.monotonic()
            for i in range(0, len(changes), 5000):
                sim.control.add_changes(account.id, changes[i:i + 5000])
            os.environ["AIRFLOW_CONN_SIDEKICK_DEFAULT"] = sim.url
            print(f"loaded the changes into the simulator at {sim.url} in {time.monotonic() - t:.1f} s", flush=True)

        figures: dict[str, float] = {}

        def timed(name: str, call):
            t0 = time.monotonic()
            result = call()
            figures[name] = round(time.monotonic() - t0, 2)
            print(f"  {name:<14} {figures[name]:>7.2f} s", flush=True)
            return result

        run_id = "bench-night-1"
        print(f"night 1: {len(changes):,} changes, pages of {args.page_size}"
              f"{' (from memory)' if args.no_http else ' over HTTP, 10 requests/s'}", flush=True)
        timed("pull", lambda: steps.pull(campaign_id, run_id, page_source=page_source))
        timed("map_tags", lambda: steps.tags(campaign_id, run_id))
        timed("resolve_users", lambda: steps.users(campaign_id, run_id))
        timed("merge", lambda: steps.merge(campaign_id, run_id))
        report = timed("report", lambda: steps.report(campaign_id, run_id))
        figures["total"] = round(sum(figures.values()), 2)
        figures["apply_after_pull"] = round(figures["total"] - figures["pull"], 2)
        print(f"  {'total':<14} {figures['total']:>7.2f} s "
              f"({len(changes) / figures['total']:,.0f} changes/s; after the pull {figures['apply_after_pull']:.2f} s)")
        from webelect_sidekick.importer.report import format_report

        print(format_report(report))

        t = time.monotonic()
        second = steps.run_night(campaign_id, "bench-night-2", page_source=page_source)
        figures["quiet_night"] = round(time.monotonic() - t, 2)
        print(f"night 2 (nothing new): {figures['quiet_night']:.2f} s, "
              f"{second['new_changes']} new, {sum(second['rows_written'].values())} rows written")

        requests = None
        if sim is not None:
            requests = len(sim.control.requests(account_id=account.id, path="/v1/changes"))
        result = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "changes": len(changes), "voters": args.voters, "page_size": args.page_size,
            "http": not args.no_http, "change_requests": requests, "seconds": figures,
            "report": report, "second_night": {k: second[k] for k in ("new_changes", "rows_written", "seconds")},
        }
        out_dir = REPO / "bench" / "results"
        out_dir.mkdir(parents=True, exist_ok=True)
        out = out_dir / f"import-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
        out.write_text(json.dumps(result, indent=2, default=str))
        print(f"results in {out.relative_to(REPO)}")
    finally:
        if sim is not None:
            sim.stop()
        if not args.keep:
            postgres.drop_database(server, DB_NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
