"""The run's report (rule 7): a dict (the last task's return value) and the lines for the log.

Counts, names of the query, campaign and group, the upload key and Sidekick's status —
never a voter's name, phone, email or note, never the token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from webelect_sidekick.export.request import ExportRequest


def build(request: ExportRequest, selection: dict, built: dict, sent: dict | None, waited: dict | None,
          recorded: dict | None, *, now: datetime | None = None) -> dict[str, Any]:  # fmt: skip
    now = now or datetime.now(UTC)
    seconds = max((now - datetime.fromisoformat(request.started_at)).total_seconds(), 0.001)
    records = built["record_count"]
    waited = waited or {}
    return {
        "transfer": "dry run" if request.dry_run else "complete",
        "query_id": request.query_id,
        "query_name": request.query_name,
        "campaign_id": request.campaign_id,
        "campaign_name": request.campaign_name,
        "targeted_sent": built["targeted_sent"],
        "housemates_sent": built["housemates_sent"],
        "skipped_purged": selection["skipped_purged"],
        "ignored_other_campaign": selection.get("other_campaign", 0),
        "parts": built["part_count"],
        "records": records,
        "bytes_gzip": built["bytes"],
        "upload_key": request.upload_key,
        "status": "not sent (dry run)" if request.dry_run else waited.get("status"),
        "records_loaded": waited.get("records_loaded"),
        "records_rejected": waited.get("records_rejected"),
        "rejections_by_reason": waited.get("rejections_by_reason") or {},
        "parts_sent": None if sent is None else sent.get("created"),
        "parts_already_there": None if sent is None else sent.get("already"),
        "add_to_group": request.add_to_group,
        "group_created": (recorded or {}).get("group_created"),
        "group_added": (recorded or {}).get("group_added"),
        "seconds": round(seconds, 1),
        "voters_per_second": round(records / seconds, 1),
    }


def lines(report: dict[str, Any]) -> list[str]:
    """The report as log lines, the first one the clear notice staff look for."""
    dry = report["transfer"] == "dry run"
    rejections = report["rejections_by_reason"]
    out = [
        "Send to Sidekick — DRY RUN, nothing was sent; this is what would have been sent:"
        if dry else "Send to Sidekick — transfer complete.",
        f"Query {report['query_id']} ({report['query_name']!r}) of campaign {report['campaign_id']} "
        f"({report['campaign_name']}).",
        f"Targeted voters sent: {report['targeted_sent']:,}; housemates sent: {report['housemates_sent']:,}; "
        f"skipped (purged): {report['skipped_purged']:,}"
        + (f"; ignored (voter of another campaign): {report['ignored_other_campaign']:,}"
           if report["ignored_other_campaign"] else "") + ".",
        f"Parts: {report['parts']:,} ({report['records']:,} records, {report['bytes_gzip'] / 1e6:,.1f} MB gzip).",
    ]  # fmt: skip
    if not dry:
        out.append(f"Upload key: {report['upload_key']}; Sidekick status: {report['status']}; "
                   f"records loaded: {report['records_loaded'] or 0:,}; "
                   f"rejected: {report['records_rejected'] or 0:,}.")  # fmt: skip
        out.append("Rejections by reason: " + (", ".join(f"{k} {v:,}" for k, v in rejections.items()) or "none") + ".")
    if report["add_to_group"]:
        if dry:
            out.append(f"Add To Group {report['add_to_group']!r}: would add {report['targeted_sent']:,} voters.")
        else:
            created = " (group created)" if report["group_created"] else ""
            added, targeted = report["group_added"] or 0, report["targeted_sent"]
            already = f"; the other {targeted - added:,} were members already" if added < targeted else ""
            out.append(f"Add To Group {report['add_to_group']!r}{created}: {added:,} targeted voters added{already}.")
    out.append(f"Seconds taken: {report['seconds']:,.1f}; voters per second: {report['voters_per_second']:,.0f}.")
    return out
