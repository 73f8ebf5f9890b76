"""What ``dev.py`` runs once it is inside ``.venv``: test, demo, airflow."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The demo's folder; WEBELECT_DEMO_DIR moves it (the demo test uses a temporary one).
DEMO = Path(os.environ.get("WEBELECT_DEMO_DIR") or REPO / ".demo")


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def chromium_path() -> str | None:
    candidate = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    return candidate if Path(candidate).exists() else None


def run_tests(args: list[str]) -> int:
    say("ruff check (incl. Airflow's AIR rules)")
    lint = subprocess.call([sys.executable, "-m", "ruff", "check", "."], cwd=REPO)
    if lint != 0:
        print("ruff found problems (above): fix them, or run `.venv/bin/ruff check --fix .`", flush=True)
        return lint
    pytest_args = [sys.executable, "-m", "pytest", *args]
    if chromium_path() is None:
        say("browser tests NOT run: Chromium was not found at /usr/bin/chromium or $CHROMIUM "
            "(Debian/Ubuntu: apt-get install chromium); .ci/run installs it, so CI runs them")
        pytest_args += ["-m", "not browser"]
    say("pytest: " + " ".join(pytest_args[3:]) if len(pytest_args) > 3 else "pytest")
    return subprocess.call(pytest_args, cwd=REPO)


def module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def run(command: str, args: list[str]) -> int:
    if command == "test":
        return run_tests(args)
    if command == "demo":
        from devtools import demo

        return demo.main(args)
    if command == "airflow":
        from devtools import local_airflow

        return local_airflow.main(args)
    raise SystemExit(f"unknown command {command!r}")


def clean_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path
