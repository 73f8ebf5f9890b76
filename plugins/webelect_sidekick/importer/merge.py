"""Step 4: apply every unapplied inbox change of the campaign in ONE transaction.

Staged into a temporary table with its voter, user, tag and rejection reason (one
INSERT … SELECT), then written with INSERT … SELECT … ON CONFLICT DO NOTHING per target:
voter tags (once), notes (one per change, external_id = change id), phones (E.164, not
when the voter has the number), emails (lower-cased, not when the voter has it in any
case). Every written row's created_by is the resolved user. Rejected changes go to
``sidekick_import_rejections`` with their reason. Then the changes' ids go to the ledger,
they leave the inbox, and the saved cursor moves to the run's pending cursor — all in the
same transaction, so the cursor never passes a change whose effects are not committed.
"""

from __future__ import annotations

import logging
import time

import psycopg
from psycopg.types.json import Jsonb

from webelect_sidekick import config, sql
from webelect_sidekick.errors import TransientError, UserFacingError
from webelect_sidekick.importer import faults, runs
from webelect_sidekick.importer.tags import map_tags
from webelect_sidekick.importer.users import resolve_users

log = logging.getLogger(__name__)


def _count(conn: psycopg.Connection, name: str, params: dict) -> int:
    return conn.execute(sql.load(f"sidekick_import/{name}.sql"), params).fetchone()[0]


def _stage(conn: psycopg.Connection, params: dict) -> int:
    conn.execute("drop table if exists pg_temp.sidekick_merge_stage")
    conn.execute(sql.load("sidekick_import/merge_stage_table.sql"))
    conn.execute(sql.load("sidekick_import/merge_stage.sql"), params)
    conn.execute("analyze pg_temp.sidekick_merge_stage")  # temporary tables get no autovacuum statistics
    return _count(conn, "merge_unmapped", params)


def merge_contacts(conn: psycopg.Connection, campaign_id: int, run_id: str, *, label: str) -> dict:
    started = time.monotonic()
    params = {"campaign_id": campaign_id, "run_id": run_id, "rank_score": config.user_rank_score()}
    with conn.transaction():
        conn.execute(sql.load("sidekick_import/lock_campaign.sql"), params)
        run = runs.get(conn, campaign_id, run_id)
        if run is None or run.pending_cursor is None:
            raise UserFacingError(
                f"The merge of {label} in run {run_id} found no finished pull: clear the run's "
                "pull_changes task (it re-pulls safely) rather than merge_contacts alone."
            )
        if _stage(conn, params):
            # Changes the map steps did not see (pulled after them): map them now, in this transaction.
            map_tags(conn, campaign_id, run_id)
            resolve_users(conn, campaign_id, run_id)
            if _stage(conn, params):
                raise TransientError(
                    f"Some changes of {label} still have no mapped tag or user after mapping; retrying the merge."
                )
        voter_tags = _count(conn, "merge_voter_tags", params)
        notes = _count(conn, "merge_notes", params)
        faults.checkpoint("merge:after_notes", campaign_id)
        conn.execute(sql.load("sidekick_import/merge_note_conflicts.sql"), params)
        phones = _count(conn, "merge_phones", params)
        emails = _count(conn, "merge_emails", params)
        conn.execute(sql.load("sidekick_import/merge_rejections.sql"), params)
        applied, rejected = dict(run.applied), dict(run.rejected)
        for change_type, reason, count in conn.execute(sql.load("sidekick_import/merge_outcomes.sql")):
            if reason is None:
                applied[change_type] = applied.get(change_type, 0) + count
            else:
                rejected[reason] = rejected.get(reason, 0) + count
        _count(conn, "merge_ledger", params)
        moved = conn.execute(sql.load("sidekick_import/cursor_commit.sql"), {
            **params, "pending_cursor": run.pending_cursor, "from_cursor": run.from_cursor,
        }).fetchone() is not None
        if not moved:
            # Already moved by an earlier attempt of this merge, or moved/reset by someone else
            # meanwhile: either way the saved cursor is left as it is (never moved backwards
            # past someone else's work, never ahead of the data).
            current = conn.execute(sql.load("sidekick_import/cursor_get.sql"), params).fetchone()
            moved = current is not None and current[0] == run.pending_cursor
            if not moved:
                log.warning("%s: the saved cursor changed during this run (a reset or another run); "
                            "it was left as it is. Nothing is lost: the next night pulls from there.", label)
        seconds = round(time.monotonic() - started, 3)
        conn.execute(sql.load("sidekick_import/merge_done.sql"), {
            **params, "cursor_committed": moved, "voter_tags": voter_tags, "notes": notes,
            "phones": phones, "emails": emails, "seconds": seconds,
            "applied": Jsonb(applied), "rejected": Jsonb(rejected),
        })
        faults.checkpoint("merge:before_commit", campaign_id)
    written = {"voter_tags": voter_tags, "notes": notes, "phones": phones, "emails": emails}
    log.info("%s: merged in %.1f s; rows written %s; cursor %s.", label, seconds, written,
             "committed" if moved else "left as it was")
    return {"rows_written": written, "cursor_committed": moved, "seconds": seconds}
