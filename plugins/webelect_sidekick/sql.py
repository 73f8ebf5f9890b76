"""Load the package's SQL from ``include/sql``.

Statements live in ``.sql`` files with ``%(name)s`` placeholders; values are always
bound by psycopg, never formatted into the text.
"""

from __future__ import annotations

from functools import cache

from webelect_sidekick.config import sql_dir


@cache
def load(relative_path: str) -> str:
    """The text of ``include/sql/<relative_path>``, read once per process."""
    return (sql_dir() / relative_path).read_text(encoding="utf-8")
