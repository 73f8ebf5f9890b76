"""The per-campaign, per-night row in ``sidekick_import_runs``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import psycopg

from webelect_sidekick import db, sql
from webelect_sidekick.errors import TransientError, UserFacingError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunRow:
    status: str
    started_at: datetime
    finished_at: datetime | None
    cursor_reset: bool
    from_cursor: str | None
    pending_cursor: str | None
    cursor_committed: bool
    pages: int | None
    delivered: int | None
    new_changes: int | None
    duplicates: int | None
    root_tag_created: bool
    voter_tags_written: int
    notes_written: int
    phones_written: int
    emails_written: int
    applied: dict
    rejected: dict
    pull_seconds: float | None
    map_seconds: float | None
    users_seconds: float | None
    merge_seconds: float | None
    error: str | None


def get(conn: psycopg.Connection, campaign_id: int, run_id: str) -> RunRow | None:
    row = conn.execute(sql.load("sidekick_import/run_get.sql"), {"campaign_id": campaign_id, "run_id": run_id}).fetchone()
    return RunRow(*row) if row else None


def step_done(conn: psycopg.Connection, campaign_id: int, run_id: str, status: str, *,
              map_seconds: float | None = None, users_seconds: float | None = None) -> None:
    conn.execute(sql.load("sidekick_import/run_step_done.sql"), {
        "campaign_id": campaign_id, "run_id": run_id, "status": status,
        "map_seconds": map_seconds, "users_seconds": users_seconds,
    })


def describe(exc: BaseException, step: str) -> str:
    """What the run row says about a failure: our own sentences, else only the error's type.

    Other exceptions' messages can quote data (a database error's DETAIL line names values),
    and the run row, like the log, must never hold names, phones, emails or notes.
    """
    if isinstance(exc, (UserFacingError, TransientError)):
        return str(exc)
    return f"{type(exc).__name__} during {step}; the task log has the details."


def record_failure(campaign_id: int, run_id: str, exc: BaseException, step: str) -> None:
    """Mark the night failed on a fresh connection (the step's own transaction rolled back)."""
    try:
        with db.transaction() as conn:
            conn.execute(sql.load("sidekick_import/run_failed.sql"), {
                "campaign_id": campaign_id, "run_id": run_id, "error": describe(exc, step)[:2000],
            })
    except Exception:  # the original error matters more than the bookkeeping
        log.warning("Could not record the failure of %s for campaign %s in sidekick_import_runs.", step, campaign_id)
