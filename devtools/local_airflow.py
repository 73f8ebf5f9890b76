"""A local Airflow 3 with this package: ``python3 dev.py airflow``, and ``running_airflow()`` for tests.

What runs: the four Airflow 3 components as separate processes — ``api-server``,
``scheduler`` (LocalExecutor), ``dag-processor`` and ``triggerer`` — each in its own
process group so that stopping one stops the task processes it started too. We don't use
``airflow standalone``: it finds ``airflow`` on ``$PATH`` rather than in this venv, stops
its children only on Ctrl-C (not on SIGTERM), and picks a random admin password.

- AIRFLOW_HOME: ``.local/airflow`` for ``dev.py airflow``; a temporary directory for tests.
  Never ``~/airflow``.
- Metadata DB: a database on the local PostgreSQL that ``devtools.postgres.server_url()``
  finds (``airflow_local`` for ``dev.py airflow``; a throw-away one per test session), so
  LocalExecutor runs tasks in parallel just as in production.
- Login: SimpleAuthManager with a fixed user and password (``admin`` / ``admin``).
- ``webelect_db`` = the package's least-privilege role on the local webElect database;
  ``sidekick_default`` = a Sidekick simulator started alongside.
- Ctrl-C or SIGTERM stops every process: SIGTERM to each process group, SIGKILL after a
  grace period. On Linux the children also die if this process is killed outright.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

REPO = Path(__file__).resolve().parents[1]
DEMO_HOME = REPO / ".local" / "airflow"  # not .demo/: `dev.py demo` wipes that
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
HEALTH_COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
PACKAGE_DAGS = ("sidekick_export", "sidekick_import")
DEFAULT_USER = "admin"
DEFAULT_PASSWORD = "admin"  # noqa: S105 - a local dev login, printed on purpose


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


class AirflowStartupError(RuntimeError):
    """Airflow did not come up; the message says which component and shows its log tail."""


# --------------------------------------------------------------------------- helpers


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AirflowStartupError(f"process {proc.args!r} exited with {proc.returncode} before {host}:{port} answered")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise AirflowStartupError(f"nothing answered on {host}:{port} within {timeout:.0f}s")


def sqlalchemy_url(libpq_url: str) -> str:
    """A SQLAlchemy URL (psycopg2 driver, which Airflow defaults to) for a libpq URL."""
    parts = urlsplit(libpq_url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _sigterm_when_parent_dies() -> None:
    """Linux: ask the kernel to SIGTERM this process when its parent dies (PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """A new session (own process group), and SIGTERM when the process that started it dies."""
    os.setsid()
    _sigterm_when_parent_dies()


def start_process(args: list[str], *, env: dict[str, str], log_path: Path, cwd: Path = REPO) -> subprocess.Popen:
    """Start ``args`` in a new session (its own process group), output to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )


def stop_processes(procs: Iterable[subprocess.Popen], grace: float = 15.0) -> None:
    """SIGTERM every process group, wait up to ``grace`` seconds, then SIGKILL what is left."""
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    for proc in procs:
        # The leader may be gone while task processes of its group still run: kill the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.wait(timeout=5)


# --------------------------------------------------------------------------- simulator


@dataclass
class Simulator:
    url: str
    port: int
    db_path: Path
    log_path: Path
    process: subprocess.Popen


@contextlib.contextmanager
def running_simulator(db_path: Path, *, port: int | None = None, log_path: Path | None = None,
                      env: dict[str, str] | None = None, **settings: float) -> Iterator[Simulator]:
    """The Sidekick simulator (``python -m simulator``) on 127.0.0.1, stopped at exit.

    ``settings``: its speed flags, e.g. ``dock_seconds=5`` → ``--dock-seconds 5``.
    """
    port = port or free_port()
    log_path = log_path or db_path.with_suffix(".log")
    flags = [item for key, value in settings.items() for item in (f"--{key.replace('_', '-')}", str(value))]
    proc = start_process(
        [sys.executable, "-m", "simulator", "--host", "127.0.0.1", "--port", str(port), "--db", str(db_path), *flags],
        env=_base_env(env), log_path=log_path,
    )
    try:
        try:
            wait_for_port(port, timeout=30, proc=proc)
            deadline = time.monotonic() + 30
            while httpx.get(f"http://127.0.0.1:{port}/_control/health", timeout=5).status_code != 200:
                if time.monotonic() > deadline:
                    raise AirflowStartupError("its /_control/health never answered 200")
                time.sleep(0.2)
        except (AirflowStartupError, httpx.HTTPError) as exc:
            raise AirflowStartupError(f"the Sidekick simulator did not start: {exc}\n{tail(log_path)}") from None
        yield Simulator(url=f"http://127.0.0.1:{port}", port=port, db_path=db_path, log_path=log_path, process=proc)
    finally:
        stop_processes([proc], grace=5)


# --------------------------------------------------------------------------- Airflow


def _base_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    # Tests run with conftest's environment (a SQLite AIRFLOW_HOME, unit-test mode): none of
    # that may leak into the Airflow we start.
    for key in list(env):
        if key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")) or key in {"AIRFLOW_HOME", "_AIRFLOW_DB_MIGRATED"}:
            del env[key]
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), str(REPO / "plugins"), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def _secrets(home: Path) -> dict[str, str]:
    """Keys every component must share (JWT, API secret, Fernet), kept in the home so logins survive restarts."""
    path = home / "local-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    from cryptography.fernet import Fernet

    values = {
        "jwt_secret": secrets.token_urlsafe(32),
        "secret_key": secrets.token_urlsafe(32),
        "fernet_key": Fernet.generate_key().decode(),
    }
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


def airflow_env(
    *,
    home: Path,
    port: int,
    metadata_url: str,
    webelect_conn_uri: str | None,
    sidekick_url: str | None,
    username: str = DEFAULT_USER,
    password: str = DEFAULT_PASSWORD,
    dags_folder: Path = REPO / "dags",
    plugins_folder: Path = REPO / "plugins",
    fast: bool = True,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment all four components (and ``airflow db migrate``) run with."""
    home.mkdir(parents=True, exist_ok=True)
    keys = _secrets(home)
    passwords_file = home / "simple_auth_manager_passwords.json"
    passwords_file.write_text(json.dumps({username: password}) + "\n")
    passwords_file.chmod(0o600)
    base_url = f"http://127.0.0.1:{port}"
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{username}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS": "False",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": keys["secret_key"],
        "AIRFLOW__API__EXPOSE_CONFIG": "False",
        # Long log lines (the report, a failure's one-sentence reason) wrap instead of running off-screen.
        "AIRFLOW__API__DEFAULT_WRAP": "True",
        "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH": str(home / "dag_bundles"),
        # Pick up DAG files quickly; for tests parse once and stay quiet (two CPU cores in CI).
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5" if fast else "10",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "120" if fast else "10",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1" if fast else "2",
        "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "300",
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "WEBELECT_SIDEKICK_STORAGE": f"file://{home / 'runs'}",
    }
    if webelect_conn_uri:
        env["AIRFLOW_CONN_WEBELECT_DB"] = webelect_conn_uri
    if sidekick_url:
        env["AIRFLOW_CONN_SIDEKICK_DEFAULT"] = sidekick_url
    env.update(extra or {})
    return _base_env(env)


@dataclass
class LocalAirflow:
    """A running local Airflow: where it is, how to log in, and a small REST client."""

    base_url: str
    username: str
    password: str
    home: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    startup_seconds: dict[str, float] = field(default_factory=dict)
    _token: str | None = None
    _token_at: float = 0.0

    # -- logs
    def log_path(self, component: str) -> Path:
        return self.home / "logs" / f"{component}.log"

    def check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise AirflowStartupError(
                    f"Airflow's {name} exited with code {proc.returncode}; the end of its log "
                    f"({self.log_path(name)}):\n{tail(self.log_path(name))}"
                )

    # -- REST API
    def token(self) -> str:
        if self._token is None or time.monotonic() - self._token_at > 1800:
            resp = httpx.post(f"{self.base_url}/auth/token",
                              json={"username": self.username, "password": self.password}, timeout=30)
            resp.raise_for_status()
            self._token = resp.json()["access_token"]
            self._token_at = time.monotonic()
        return self._token

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        """A call to ``/api/v2`` + ``path`` with a JWT; returns the response (not raised)."""
        headers = {"Authorization": f"Bearer {self.token()}", **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.base_url}/api/v2{path}", headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **kwargs) -> dict:
        resp = self.api("GET", path, **kwargs)
        resp.raise_for_status()
        return resp.json()

    def health(self) -> dict:
        resp = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
        resp.raise_for_status()
        return resp.json()

    def import_errors(self) -> list[dict]:
        return self.get("/importErrors").get("import_errors", [])

    def wait_until(self, predicate, *, timeout: float, interval: float = 1.0, what: str = "condition"):
        """Poll ``predicate()`` until it returns a truthy value; fail with ``what`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        last_exc: Exception | None = None
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                value = predicate()
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                last_exc, value = exc, None
            if value:
                return value
            time.sleep(interval)
        raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}" + (f" (last error: {last_exc})" if last_exc else ""))

    def wait_healthy(self, timeout: float = 180) -> None:
        def healthy():
            data = self.health()
            return all(data.get(c, {}).get("status") == "healthy" for c in HEALTH_COMPONENTS)

        self.wait_until(healthy, timeout=timeout, interval=0.5, what="every Airflow component to report healthy")

    def wait_dags(self, dag_ids: Iterable[str], timeout: float = 120) -> None:
        wanted = set(dag_ids)

        def parsed():
            errors = self.import_errors()
            if errors:
                text = "\n".join(f"{e.get('filename')}: {e.get('stack_trace', '')[-2000:]}" for e in errors)
                raise AirflowStartupError(f"DAG files failed to import:\n{text}")
            found = {d["dag_id"] for d in self.get("/dags", params={"limit": 100}).get("dags", [])}
            return wanted <= found

        self.wait_until(parsed, timeout=timeout, interval=1.0, what=f"DAGs {sorted(wanted)} to be parsed")

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})["task_instances"]

    def latest_run(self, dag_id: str) -> dict | None:
        runs = self.get(f"/dags/{dag_id}/dagRuns", params={"order_by": "-run_after", "limit": 1})["dag_runs"]
        return runs[0] if runs else None

    def task_log(self, dag_id: str, run_id: str, task_id: str, lines: int = 30) -> str:
        """The last ``lines`` events of a task's newest log file(s), as text (for failure messages)."""
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        out = []
        for path in sorted(folder.rglob("attempt=*.log")):
            for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    event = json.loads(raw)
                    text = f"{event.get('level', '')}: {event.get('event', '')}"
                    if event.get("error_detail"):
                        text += f" {json.dumps(event['error_detail'])[:1500]}"
                except ValueError:
                    text = raw
                out.append(f"{path.relative_to(folder)}: {text}")
        return "\n".join(out[-lines:])

    def explain_run(self, dag_id: str, run_id: str) -> str:
        """Which tasks of a run failed, with the end of their logs."""
        parts = [f"run {run_id} of {dag_id}: {self.dag_run(dag_id, run_id)['state']}"]
        for ti in self.task_instances(dag_id, run_id):
            if ti["state"] in {"failed", "up_for_retry", "upstream_failed"}:
                parts.append(f"- {ti['task_id']} [{ti.get('map_index', -1)}] {ti['state']}")
                if ti["state"] != "upstream_failed":
                    parts.append(self.task_log(dag_id, run_id, ti["task_id"]))
        return "\n".join(parts)

    def wait_run_finished(self, dag_id: str, run_id: str, timeout: float = 300) -> dict:
        def finished():
            run = self.dag_run(dag_id, run_id)
            return run if run["state"] in {"success", "failed"} else None

        return self.wait_until(finished, timeout=timeout, interval=1.0, what=f"run {run_id} of {dag_id} to finish")


def migrate_metadata(env: dict[str, str], log_path: Path) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        code = subprocess.call([sys.executable, "-m", "airflow", "db", "migrate"], env=env, cwd=REPO,
                               stdout=log, stderr=subprocess.STDOUT)
    if code != 0:
        raise AirflowStartupError(f"`airflow db migrate` failed (exit {code}):\n{tail(log_path)}")


@contextlib.contextmanager
def running_airflow(
    *,
    webelect_conn_uri: str | None = None,
    sidekick_url: str | None = None,
    home: Path | None = None,
    metadata_url: str | None = None,
    pg_admin_url: str | None = None,
    port: int | None = None,
    username: str = DEFAULT_USER,
    password: str = DEFAULT_PASSWORD,
    dags_folder: Path = REPO / "dags",
    expect_dags: Iterable[str] = PACKAGE_DAGS,
    fast: bool = True,
    extra_env: dict[str, str] | None = None,
    startup_timeout: float = 240,
    keep_home: bool = False,
) -> Iterator[LocalAirflow]:
    """Start a local Airflow, wait until it is healthy and ``expect_dags`` are parsed, yield it, stop it.

    ``home``: AIRFLOW_HOME (default: a new temporary directory, removed at exit unless
    ``keep_home``). ``metadata_url``: a SQLAlchemy URL for the metadata DB; default: a new
    database ``airflow_tmp_<pid>_<n>`` on ``pg_admin_url`` (default: the server
    ``devtools.postgres.server_url()`` finds), dropped at exit.
    """
    from devtools import postgres

    own_home = home is None
    home = Path(tempfile.mkdtemp(prefix="webelect-sidekick-local-airflow-")) if own_home else home
    port = port or free_port()
    own_db: tuple[str, str] | None = None
    if metadata_url is None:
        admin = pg_admin_url or postgres.server_url()[0]
        dbname = f"airflow_tmp_{os.getpid()}_{secrets.token_hex(3)}"
        metadata_url = sqlalchemy_url(postgres.create_database(admin, dbname, recreate=True))
        own_db = (admin, dbname)
    env = airflow_env(home=home, port=port, metadata_url=metadata_url, webelect_conn_uri=webelect_conn_uri,
                      sidekick_url=sidekick_url, username=username, password=password, dags_folder=dags_folder,
                      fast=fast, extra=extra_env)
    airflow = LocalAirflow(base_url=f"http://127.0.0.1:{port}", username=username, password=password,
                           home=home, env=env)
    try:
        started = time.monotonic()
        migrate_metadata(env, airflow.log_path("db-migrate"))
        migrated = time.monotonic()
        for name in COMPONENTS:
            proc = start_process([sys.executable, "-m", "airflow", name], env=env, log_path=airflow.log_path(name))
            airflow.processes[name] = proc
        wait_for_port(port, timeout=startup_timeout, proc=airflow.processes["api-server"])
        airflow.wait_healthy(timeout=startup_timeout)
        airflow.wait_dags(expect_dags, timeout=startup_timeout)
        airflow.startup_seconds = {"migrate": migrated - started, "total": time.monotonic() - started}
        yield airflow
    finally:
        stop_processes(airflow.processes.values())
        if own_db is not None:
            with contextlib.suppress(Exception):
                postgres.drop_database(*own_db)
        if own_home and not keep_home:
            shutil.rmtree(home, ignore_errors=True)


# --------------------------------------------------------------------------- dev.py airflow


def _parse(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 dev.py airflow",
        description="Start a local Airflow 3 (api-server, scheduler, dag-processor, triggerer) with this "
                    "package, a synthetic webElect and a Sidekick simulator. Ctrl-C stops everything.",
    )
    parser.add_argument("--port", type=int, default=8080, help="the UI's port (default 8080; a free one if taken)")
    parser.add_argument("--home", type=Path, default=DEMO_HOME, help=f"AIRFLOW_HOME (default {DEMO_HOME.relative_to(REPO)})")
    parser.add_argument("--reset", action="store_true",
                        help="start over: new webElect data, simulator state and Airflow history")
    parser.add_argument("--voters", type=int, default=None, help="synthetic voters per campaign (default: devtools.seed's, 5,000)")
    return parser.parse_args(args)


def _seed_local(admin_url: str, home: Path, simulator_url: str, voters: int | None, reset: bool) -> dict:
    """Create (or, unless ``reset``, reuse) the local webElect database ``webelect_local``; return what seed() made."""
    from devtools import postgres

    state = home / "seed.json"
    if not reset and state.exists():
        say("reusing webElect database webelect_local and the simulator's state (--reset starts over)")
        return json.loads(state.read_text())
    from devtools.seed import seed

    say("building a synthetic webElect in database webelect_local")
    db_admin_url = postgres.create_database(admin_url, "webelect_local", recreate=True)
    result = seed(db_admin_url, simulator_url=simulator_url, **({"voters": voters} if voters else {}))
    data = dataclasses.asdict(result)
    state.write_text(json.dumps(data, indent=2, default=str))
    state.chmod(0o600)
    return data


def main(args: list[str]) -> int:
    opts = _parse(args)
    from devtools import postgres

    home: Path = opts.home.resolve()
    if opts.reset and home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    port = opts.port if port_is_free(opts.port) else free_port()

    stopping = False

    def on_signal(signum, frame):
        """The first Ctrl-C or SIGTERM starts the clean stop; later ones must not interrupt it."""
        nonlocal stopping
        if not stopping:
            stopping = True
            say("stopping Airflow and the simulator")
            raise KeyboardInterrupt
        print("==> still stopping (each process gets up to 15 s, then SIGKILL)", flush=True)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # dev.py runs us as a child of itself: if that wrapper is killed, stop cleanly too.
    _sigterm_when_parent_dies()

    admin_url, how = postgres.server_url()
    say(f"PostgreSQL: {how}")
    metadata_admin = postgres.create_database(admin_url, "airflow_local", recreate=opts.reset)
    sim_db = home / "simulator.sqlite3"
    try:
        with running_simulator(sim_db, log_path=home / "logs" / "simulator.log") as sim:
            say(f"Sidekick simulator: {sim.url} (state in {sim_db})")
            seeded = _seed_local(admin_url, home, sim.url, opts.voters, reset=opts.reset or not sim_db.exists())
            say(f"starting Airflow in {home} (about half a minute)")
            with running_airflow(
                webelect_conn_uri=postgres.airflow_conn_uri(seeded["app_url"]),
                sidekick_url=sim.url,
                home=home,
                metadata_url=sqlalchemy_url(metadata_admin),
                port=port,
                fast=False,
                keep_home=True,
            ) as airflow:
                _banner(airflow, sim, seeded)
                while True:
                    airflow.check_alive()
                    if sim.process.poll() is not None:
                        raise AirflowStartupError(f"the Sidekick simulator exited:\n{tail(sim.log_path)}")
                    time.sleep(1)
    except KeyboardInterrupt:
        say("stopped")
        return 0
    except (AirflowStartupError, TimeoutError) as exc:
        print(f"\nAirflow stopped: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return 0


def _banner(airflow: LocalAirflow, sim: Simulator, seeded: dict) -> None:
    lines = [
        "",
        f"Airflow is ready: {airflow.base_url}   login: {airflow.username} / {airflow.password}",
        f"  DAGs: {', '.join(PACKAGE_DAGS)} (paused until you switch them on or trigger them)",
        "  webElect: database webelect_local (the DAGs connect as the least-privilege role)",
        f"  Sidekick simulator: {sim.url}",
    ]
    for campaign in seeded.get("campaigns", []):
        lines.append(f"  campaign {campaign['id']} ({campaign['name']}), Sidekick enabled; saved queries:")
        lines += [f"      query_id {qid}: {name}" for name, qid in campaign.get("query_ids", {}).items()]
    lines += [
        f"  logs: {airflow.home / 'logs'} (api-server.log, scheduler.log, ... and task logs)",
        "  Ctrl-C stops everything.",
        "",
    ]
    print("\n".join(lines), flush=True)
