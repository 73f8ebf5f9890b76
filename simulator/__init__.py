"""A Campaign Sidekick simulator that implements docs/spec/sidekick-api.md strictly.

Run it with ``python -m simulator --host 127.0.0.1 --port 8700 --db PATH``. It serves the
contract's ``/v1`` API over real HTTP, keeps its state in a SQLite file (WAL) so a restart
loses nothing, and offers dev-only ``/_control`` endpoints (no auth: never expose them) that
tests and the demo drive through :mod:`simulator.control`. See simulator/README.md.
"""
