"""Names and settings shared by the DAGs, hooks and tools.

Settings come from environment variables (or Airflow Variables through the usual
``AIRFLOW_VAR_`` mechanism at the call sites that read them), never from code edits.
"""

from __future__ import annotations

import os
from pathlib import Path

WEBELECT_CONN_ID = "webelect_db"
SIDEKICK_CONN_ID = "sidekick_default"

#: The rank score given to phones and emails that canvassers enter in Sidekick.
DEFAULT_USER_RANK_SCORE = 90


def sql_dir() -> Path:
    """Where the package's ``.sql`` files live (``include/sql`` beside ``plugins/``)."""
    override = os.environ.get("WEBELECT_SIDEKICK_SQL_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "include" / "sql"


def user_rank_score() -> int:
    """Rank for user-entered phones and emails; ``WEBELECT_SIDEKICK_USER_RANK`` overrides 90."""
    raw = os.environ.get("WEBELECT_SIDEKICK_USER_RANK")
    if raw is None or raw.strip() == "":
        return DEFAULT_USER_RANK_SCORE
    value = int(raw)
    if not 0 <= value <= 100:
        raise ValueError(f"WEBELECT_SIDEKICK_USER_RANK must be between 0 and 100, not {value}.")
    return value
