#!/usr/bin/env python3
"""The two commands: ``python3 dev.py demo`` and ``python3 dev.py test``.

Everything a newcomer needs, with nothing but Python 3.11+ installed:

- ``setup``   create ``.venv`` and install the pinned requirements (uv, from PyPI)
- ``demo``    setup, find or start PostgreSQL, build a synthetic webElect, start the
              Sidekick simulator, enable Sidekick for the campaign, run the export DAG
              for a sample query and the import DAG on simulated canvass changes, and
              print both reports
- ``test``    setup, ``ruff check``, then the whole pytest suite (the browser tests too
              when Chromium is at /usr/bin/chromium or $CHROMIUM)
- ``airflow`` start a local Airflow 3 (api-server, scheduler, dag-processor, triggerer)
              with its own synthetic webElect (database ``webelect_local``) and a
              Sidekick simulator; Ctrl-C stops it

The first three lines of work run under whatever ``python3`` started this file; the
rest re-runs itself inside ``.venv``.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent
VENV = REPO / ".venv"
VENV_PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
REQUIREMENT_FILES = ("requirements.txt", "requirements-dev.txt", "constraints.txt")
STAMP = VENV / ".requirements-sha256"


def _say(message: str) -> None:
    print(f"==> {message}", flush=True)


def _requirements_digest() -> str:
    digest = hashlib.sha256()
    for name in REQUIREMENT_FILES:
        digest.update((REPO / name).read_bytes())
    return digest.hexdigest()


def setup() -> None:
    """Create .venv and install the pinned requirements, once per change of the pins."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs under any python3
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not VENV_PY.exists():
        _say("creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _requirements_digest():
        return
    _say("installing pinned requirements into .venv (first time: about a minute)")
    subprocess.run([str(VENV_PY), "-m", "pip", "install", "-q", "--disable-pip-version-check", "uv==0.13.9"],
                   check=True)
    subprocess.run(
        [str(VENV_PY), "-m", "uv", "pip", "install", "-q", "--python", str(VENV_PY),
         "-r", "requirements.txt", "-r", "requirements-dev.txt", "-c", "constraints.txt"],
        check=True, cwd=REPO,
    )
    STAMP.write_text(_requirements_digest())


def _in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command not in {"setup", "demo", "test", "airflow"}:
        print(__doc__)
        return 0 if command in {"help", "-h", "--help"} else 2
    if not _in_venv():
        setup()
        if command == "setup":
            _say("ready: .venv is installed")
            return 0
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "plugins"), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
        child = subprocess.Popen([str(VENV_PY), str(REPO / "dev.py"), *argv], env=env, cwd=REPO)
        # Ctrl-C reaches the child too (same process group): let it stop its services in order.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *_: child.terminate())
        return child.wait()

    from devtools import commands

    return commands.run(command, argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
