"""``python -m simulator --host 127.0.0.1 --port 8700 --db PATH``: serve the Sidekick simulator.

Every flag also reads an environment variable (docker-compose sets them that way). Speed
and rate-limit flags, when given, are stored in the state file like the ``/_control/settings``
endpoint stores them.
"""

from __future__ import annotations

import argparse
import os

import uvicorn

from simulator.app import create_app
from simulator.store import Store


def main(argv: list[str] | None = None) -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=env("SIDEKICK_SIM_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("SIDEKICK_SIM_PORT", "8700")))
    parser.add_argument("--db", default=env("SIDEKICK_SIM_DB", "sidekick-simulator.sqlite3"),
                        help="SQLite state file (created if missing; WAL mode)")  # fmt: skip
    parser.add_argument("--dock-seconds", type=float, help="time an upload stays 'Docked for Loading'")
    parser.add_argument("--load-rate", type=float, help="records loaded per second while 'In Progress'")
    parser.add_argument("--min-load-seconds", type=float, help="least time an upload stays 'In Progress'")
    parser.add_argument("--rate-limit", type=float, help="requests per second per token (contract: 10; 0 = off)")
    parser.add_argument("--rate-burst", type=int, help="burst size of the per-token rate limit")
    parser.add_argument("--log-level", default=env("SIDEKICK_SIM_LOG_LEVEL", "warning"))
    args = parser.parse_args(argv)

    overrides = {
        key: value
        for key, value in {
            "dock_seconds": args.dock_seconds, "load_rate": args.load_rate, "min_load_seconds": args.min_load_seconds,
            "rate_limit": args.rate_limit, "rate_burst": args.rate_burst,
        }.items()
        if value is not None
    }  # fmt: skip
    if overrides:
        store = Store(args.db)
        store.update_settings(overrides)
        store.close()
    print(f"Sidekick simulator on http://{args.host}:{args.port} (state in {args.db})", flush=True)
    uvicorn.run(
        create_app(args.db), host=args.host, port=args.port, log_level=args.log_level, access_log=False,
        timeout_graceful_shutdown=5, timeout_keep_alive=30,
    )  # fmt: skip


if __name__ == "__main__":
    main()
