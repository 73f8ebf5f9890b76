"""Step 5: the night's report for a campaign — saved, logged (counts only), returned.

The cursor itself was committed by the merge, in the transaction that applied the changes;
this step confirms it and writes the report to ``sidekick_import_runs.report``. Counts are
summed by the merge transactions that committed them, or read from the run's maps (tags and
users created), so a retried step reports the same numbers.
Never in the report or the log: names, phones, emails, notes, the token.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import psycopg
from psycopg.types.json import Jsonb

from webelect_sidekick import sql
from webelect_sidekick.importer import runs, settings
from webelect_sidekick.importer.normalize import KNOWN_TYPES

log = logging.getLogger(__name__)


def build_report(conn: psycopg.Connection, campaign_id: int, run_id: str, *, label: str) -> dict:
    params = {"campaign_id": campaign_id, "run_id": run_id}
    run = runs.get(conn, campaign_id, run_id)
    if run is None:
        raise ValueError(f"no sidekick_import_runs row for campaign {campaign_id}, run {run_id}")
    applied = {t: 0 for t in sorted(KNOWN_TYPES)}
    applied.update(run.applied)
    rejected = dict(sorted(run.rejected.items()))
    tags_created, users_created, still_unapplied = conn.execute(
        sql.load("sidekick_import/report_created.sql"), params).fetchone()
    written = {"voter_tags": run.voter_tags_written, "notes": run.notes_written,
               "phones": run.phones_written, "emails": run.emails_written}
    total = (datetime.now(UTC) - run.started_at).total_seconds()
    return {
        "campaign_id": campaign_id,
        "campaign": label,
        "run_id": run_id,
        "changes_pulled": run.delivered or 0,
        "pages": run.pages or 0,
        "new_changes": run.new_changes or 0,
        "duplicates_skipped": run.duplicates or 0,
        "applied": applied,
        "applied_total": sum(applied.values()),
        "rows_written": written,
        "already_present": {
            "tag": applied.get("tag", 0) - written["voter_tags"],
            "phone": applied.get("phone", 0) - written["phones"],
            "email": applied.get("email", 0) - written["emails"],
        },
        "rejected": rejected,
        "rejected_total": sum(rejected.values()),
        "tags_created": tags_created,
        "root_tag_created": run.root_tag_created,
        "users_created": users_created,
        "cursor_committed": run.cursor_committed,
        "still_unapplied": still_unapplied,
        "seconds": {
            "pull": run.pull_seconds, "map_tags": run.map_seconds, "resolve_users": run.users_seconds,
            "merge": run.merge_seconds, "total": round(total, 3),
        },
    }


def save_report(conn: psycopg.Connection, campaign_id: int, run_id: str, report: dict) -> dict:
    """Save the report and prune what Sidekick can no longer deliver again; inside the caller's transaction."""
    params = {"campaign_id": campaign_id, "run_id": run_id}
    conn.execute(sql.load("sidekick_import/report_save.sql"), {**params, "report": Jsonb(report)})
    inbox, tag_maps, user_maps = conn.execute(
        sql.load("sidekick_import/prune.sql"), {**params, "days": settings.inbox_retention_days()}).fetchone()
    if inbox or tag_maps or user_maps:
        log.info("Pruned %d inbox rows and %d+%d map rows older than %d days.", inbox, tag_maps, user_maps,
                 settings.inbox_retention_days())
    return report


def format_report(report: dict) -> str:
    """The report as text for the log and the demo: counts only."""
    lines = [
        f"Sidekick import report for {report['campaign']} (run {report['run_id']}):",
        f"  changes pulled:      {report['changes_pulled']} in {report['pages']} pages "
        f"({report['new_changes']} new, {report['duplicates_skipped']} duplicates skipped)",
        f"  applied:             {report['applied_total']} — "
        + ", ".join(f"{k} {v}" for k, v in report["applied"].items()),
        "  rows written:        " + ", ".join(f"{k} {v}" for k, v in report["rows_written"].items()),
        "  already present:     " + ", ".join(f"{k} {v}" for k, v in report["already_present"].items()),
        f"  rejected:            {report['rejected_total']}"
        + (" — " + ", ".join(f"{k} {v}" for k, v in sorted(report["rejected"].items())) if report["rejected"] else ""),
        f"  tags created:        {report['tags_created']}" + (" (and the root tag 'Sidekick')" if report["root_tag_created"] else ""),
        f"  users created:       {report['users_created']}",
        f"  cursor committed:    {'yes' if report['cursor_committed'] else 'no (changed by a reset or another run meanwhile)'}",
        "  seconds:             " + ", ".join(f"{k} {v}" for k, v in report["seconds"].items() if v is not None),
    ]
    if report["still_unapplied"]:
        lines.append(f"  still unapplied:     {report['still_unapplied']} (pulled after this run's merge; the next night applies them)")
    return "\n".join(lines)


def log_report(report: dict) -> None:
    log.info("%s", format_report(report))
