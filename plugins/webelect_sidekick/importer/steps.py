"""The import's steps as the DAG's tasks call them: one connection and one transaction each.

Each function takes the campaign id and the Airflow run id, does its step, records a
failure in the campaign's ``sidekick_import_runs`` row (a sentence, never data) and re-raises
it, and returns a small dict for XCom (counts only: never data, never the token).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from webelect_sidekick import db, sql
from webelect_sidekick.campaigns import Campaign, enabled_campaign_ids, load_campaign, sidekick_token
from webelect_sidekick.errors import UserFacingError, explained
from webelect_sidekick.importer import cursor, faults, runs, settings
from webelect_sidekick.importer.merge import merge_contacts
from webelect_sidekick.importer.pull import PageSource, pull_into_inbox
from webelect_sidekick.importer.report import build_report, log_report, save_report
from webelect_sidekick.importer.tags import map_tags
from webelect_sidekick.importer.users import resolve_users

log = logging.getLogger(__name__)


def repull_instructions(campaign_id: int) -> str:
    return (
        f"reset its cursor with 'python -m webelect_sidekick.importer.cursor reset --campaign {campaign_id}' "
        f"(or trigger sidekick_import with reset_cursor_for_campaign = {campaign_id}) and run the import again: "
        "it then pulls every change Sidekick still keeps (30 days), and changes imported before are skipped"
    )


@explained
def prepare(reset_cursor_for_campaign: int | None = None) -> list[int]:
    """Apply the package's migrations and list the campaigns to import (Sidekick on, with a token)."""
    conn = db.connect()
    conn.autocommit = True
    try:
        from webelect_sidekick.migrations import apply_migrations

        apply_migrations(conn)
        ids = enabled_campaign_ids(conn)
    finally:
        conn.close()
    if reset_cursor_for_campaign is not None and reset_cursor_for_campaign not in ids:
        raise UserFacingError(
            f"reset_cursor_for_campaign = {reset_cursor_for_campaign}, but that campaign does not exist or has "
            "Send to Sidekick turned off (or no token): give the id of a campaign with Sidekick enabled, or leave it empty."
        )
    log.info("Campaigns with Sidekick enabled: %s", ids or "none")
    return ids


@contextmanager
def _step(campaign_id: int, run_id: str, step: str) -> Iterator[psycopg.Connection]:
    conn = None
    try:
        conn = db.connect()
        conn.autocommit = True  # every step's work is inside explicit conn.transaction() blocks
        conn.execute(sql.load("sidekick_import/session.sql"))
        yield conn
    except BaseException as exc:
        runs.record_failure(campaign_id, run_id, exc, step)
        raise
    finally:
        if conn is not None:
            conn.close()


def _campaign(conn: psycopg.Connection, campaign_id: int) -> Campaign:
    campaign = load_campaign(conn, campaign_id)
    if campaign is None:
        raise UserFacingError(f"Campaign {campaign_id} no longer exists in webElect; nothing to import for it.")
    return campaign


def _sidekick_pages(campaign: Campaign) -> PageSource:
    def pages(from_cursor: str | None):
        from webelect_sidekick.sidekick.hook import SidekickHook

        hook = SidekickHook(campaign_label=campaign.label, campaign_id=campaign.id)
        # The token is read at the moment of use and lives only in this call.
        return hook.iter_change_pages(sidekick_token(campaign.id), from_cursor, limit=settings.page_size())

    return pages


def _cursor_expired_type() -> type[BaseException]:
    try:
        from webelect_sidekick.sidekick.hook import CursorExpired
    except ImportError:  # the client is not installed: nothing can raise it
        return type("NeverRaised", (Exception,), {})
    return CursorExpired


@explained
def pull(campaign_id: int, run_id: str, *, reset_cursor: bool = False, page_source: PageSource | None = None) -> dict:
    """Step 1. ``reset_cursor``: forget the saved cursor first (once per run) for a full re-pull."""
    params = {"campaign_id": campaign_id, "run_id": run_id}
    with _step(campaign_id, run_id, "pull_changes") as conn:
        campaign = _campaign(conn, campaign_id)
        with conn.transaction():
            row = conn.execute(sql.load("sidekick_import/run_start.sql"), {**params, "status": "pulling"}).fetchone()
            if reset_cursor and not row[1]:
                cursor.reset(conn, campaign_id, f"run:{run_id}")
                conn.execute(sql.load("sidekick_import/run_mark_reset.sql"), params)
                log.info("%s: saved cursor reset for a full re-pull, as the run's params asked.", campaign.label)
        cursor_expired = _cursor_expired_type()
        try:
            result = pull_into_inbox(conn, campaign_id, run_id, page_source or _sidekick_pages(campaign),
                                     label=campaign.label)
        except cursor_expired:
            raise UserFacingError(
                f"Sidekick no longer has the changes after the saved cursor of {campaign.label} (410: the cursor is "
                f"older than the 30 days Sidekick keeps), so a full re-pull is needed: {repull_instructions(campaign_id)}."
            ) from None
        faults.checkpoint("pull:after_commit", campaign_id)
    return {"campaign_id": campaign_id, **result.as_dict()}


@explained
def tags(campaign_id: int, run_id: str) -> dict:
    """Step 2."""
    with _step(campaign_id, run_id, "map_tags") as conn:
        campaign = _campaign(conn, campaign_id)
        started = time.monotonic()
        result = map_tags(conn, campaign_id, run_id)
        seconds = round(time.monotonic() - started, 3)
        runs.step_done(conn, campaign_id, run_id, "tags_mapped", map_seconds=seconds)
        log.info("%s: %d tag names mapped, %d tags created%s in %.1f s.", campaign.label, result["tag_names"],
                 result["tags_created_now"], " (and the root tag 'Sidekick')" if result["root_tag_created_now"] else "",
                 seconds)
        faults.checkpoint("map_tags:after_commit", campaign_id)
    return {"campaign_id": campaign_id, **result, "seconds": seconds}


@explained
def users(campaign_id: int, run_id: str) -> dict:
    """Step 3."""
    with _step(campaign_id, run_id, "resolve_users") as conn:
        campaign = _campaign(conn, campaign_id)
        started = time.monotonic()
        result = resolve_users(conn, campaign_id, run_id)
        seconds = round(time.monotonic() - started, 3)
        runs.step_done(conn, campaign_id, run_id, "users_resolved", users_seconds=seconds)
        log.info("%s: %d Sidekick users resolved, %d created in %.1f s.", campaign.label, result["users"],
                 result["users_created_now"], seconds)
        faults.checkpoint("resolve_users:after_commit", campaign_id)
    return {"campaign_id": campaign_id, **result, "seconds": seconds}


@explained
def merge(campaign_id: int, run_id: str) -> dict:
    """Step 4."""
    with _step(campaign_id, run_id, "merge_contacts") as conn:
        campaign = _campaign(conn, campaign_id)
        result = merge_contacts(conn, campaign_id, run_id, label=campaign.label)
        faults.checkpoint("merge:after_commit", campaign_id)
    return {"campaign_id": campaign_id, **result}


@explained
def report(campaign_id: int, run_id: str) -> dict:
    """Step 5: the night's report (the cursor was committed with the merge)."""
    params = {"campaign_id": campaign_id, "run_id": run_id}
    with _step(campaign_id, run_id, "commit_report") as conn:
        campaign = _campaign(conn, campaign_id)
        with conn.transaction():
            conn.execute(sql.load("sidekick_import/lock_campaign.sql"), params)
            result = build_report(conn, campaign_id, run_id, label=campaign.label)
            save_report(conn, campaign_id, run_id, result)
            faults.checkpoint("report:before_commit", campaign_id)
    log_report(result)
    return result


def run_night(campaign_id: int, run_id: str, *, reset_cursor: bool = False,
              page_source: PageSource | None = None) -> dict:
    """All five steps in order, outside Airflow (tests, the benchmark, a manual catch-up)."""
    pull(campaign_id, run_id, reset_cursor=reset_cursor, page_source=page_source)
    tags(campaign_id, run_id)
    users(campaign_id, run_id)
    merge(campaign_id, run_id)
    return report(campaign_id, run_id)
