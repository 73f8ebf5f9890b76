"""The export's record in webElect (``webelect.sidekick_exports``, rule 6) and "Add To Group".

One row per run, upserted by run id as the run moves on: ``Building`` (parts being built
and sent), ``Receiving`` (every part sent), then Sidekick's own statuses (``Docked for
Loading``, ``In Progress``) and finally ``Completed`` or ``Failed`` with the reason. A dry
run writes nothing here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg

from webelect_sidekick import db, sql
from webelect_sidekick.export.records import array_literal
from webelect_sidekick.export.request import ExportRequest

BUILDING = "Building"
RECEIVING = "Receiving"
COMPLETED = "Completed"
FAILED = "Failed"

#: Voters added to the group per statement.
GROUP_BATCH = 200_000


def _row(request: ExportRequest, status: str, **values: Any) -> dict[str, Any]:
    row = {
        "run_id": request.run_id, "upload_key": request.upload_key, "query_id": request.query_id,
        "campaign_id": request.campaign_id, "status": status, "add_to_group": request.add_to_group,
        "targeted_sent": None, "housemates_sent": None, "skipped_purged": None,
        "part_count": None, "record_count": None, "records_loaded": None, "records_rejected": None,
        "rejections": None, "failure_reason": None, "started_at": datetime.fromisoformat(request.started_at),
        "finished_at": None,
    }  # fmt: skip
    unknown = set(values) - set(row)
    if unknown:
        raise TypeError(f"unknown export columns: {sorted(unknown)}")
    row.update(values)
    if isinstance(row["rejections"], dict):
        row["rejections"] = json.dumps(row["rejections"], sort_keys=True)
    return row


def save(conn: psycopg.Connection, request: ExportRequest, status: str, **values: Any) -> None:
    """Upsert the run's row (inside the caller's transaction)."""
    conn.execute(sql.load("sidekick_export/export_upsert.sql"), _row(request, status, **values))


def save_now(request: ExportRequest, status: str, **values: Any) -> None:
    """Upsert the run's row in a transaction of its own."""
    with db.transaction() as conn:
        save(conn, request, status, **values)


def record_failure(request: ExportRequest, reason: str) -> None:
    """Mark the run's export ``Failed`` with ``reason`` (the first reason recorded is kept)."""
    save_now(request, FAILED, failure_reason=reason[:2000], finished_at=datetime.now(UTC))


def exists(conn: psycopg.Connection, run_id: str) -> bool:
    return conn.execute("select 1 from webelect.sidekick_exports where run_id = %s", (run_id,)).fetchone() is not None


def add_to_group(conn: psycopg.Connection, *, campaign_id: int, name: str, voter_ids: np.ndarray) -> dict[str, Any]:
    """Create the campaign's group ``name`` when missing and add the voters (inside the caller's transaction)."""
    row = None
    for _ in range(3):  # a run creating the same group at this moment: its row is visible on the next try
        row = conn.execute(sql.load("sidekick_export/group_ensure.sql"), {"campaign_id": campaign_id,
                                                                           "name": name}).fetchone()  # fmt: skip
        if row is not None:
            break
    if row is None:
        raise RuntimeError(f"group {name!r} of campaign {campaign_id} could neither be created nor found")
    group_id, created = row
    added = 0
    statement = sql.load("sidekick_export/group_add_members.sql")
    for start in range(0, len(voter_ids), GROUP_BATCH):
        batch = voter_ids[start: start + GROUP_BATCH]
        added += conn.execute(statement, {"group_id": group_id, "voter_ids": array_literal(batch)}).rowcount
    return {"group_id": int(group_id), "group_created": bool(created), "group_added": int(added)}
