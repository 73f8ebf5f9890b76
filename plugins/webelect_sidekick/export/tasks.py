"""What each step of the ``sidekick_export`` DAG does; the DAG file only wires these together.

Between steps only small values travel through XCom (ids, names, counts, the upload key,
the run folder's URL); the voter list and the parts live in the run's folder
(``storage``). The token is read from webElect by each step that talks to Sidekick, at
the moment it does, and is never logged, returned or stored.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import get_current_context
from airflow.sdk.exceptions import AirflowSkipException

from webelect_sidekick import campaigns, db, migrations
from webelect_sidekick.errors import UserFacingError, explained
from webelect_sidekick.export import build, history, report, request, storage, upload, voters
from webelect_sidekick.export.request import ExportRequest
from webelect_sidekick.sidekick.hook import SidekickHook
from webelect_sidekick.sidekick.operators import WaitForUploadOperator

log = logging.getLogger(__name__)

DRY_RUN_SKIP = "Dry run: nothing is sent to Sidekick and nothing is written to webElect."


def _hook(req: ExportRequest) -> SidekickHook:
    return SidekickHook(req.campaign_label, campaign_id=req.campaign_id)


def _token(req: ExportRequest) -> str:
    return campaigns.sidekick_token(req.campaign_id)


# --------------------------------------------------------------------------- 1. check


@explained
def check_request() -> dict[str, Any]:
    """Apply the package's migrations (not in a dry run), then refuse what rule 1 refuses."""
    context = get_current_context()
    query_id, group, dry_run = request.read_params(dict(context["params"]))
    dag_run = context["dag_run"]
    key = request.upload_key_for(dag_run.dag_id, dag_run.run_id)
    conn = db.connect()
    try:
        if not dry_run:
            migrations.apply_migrations(conn)
        with conn.transaction():
            req = request.check(conn, query_id=query_id, add_to_group=group, dry_run=dry_run,
                                run_id=dag_run.run_id, upload_key=key, folder=str(storage.run_folder(key)))  # fmt: skip
    finally:
        conn.close()
    log.info("Export of query %s (%r, %s rows) of %s%s; upload key %s%s.", req.query_id, req.query_name,
             f"{req.query_rows:,}", req.campaign_label, " — DRY RUN" if dry_run else "", req.upload_key,
             f"; Add To Group {group!r}" if group else "")  # fmt: skip
    return req.to_xcom()


# --------------------------------------------------------------------------- 2. select


@explained
def select_voters(req_data: dict[str, Any]) -> dict[str, Any]:
    """Decide which voters are sent (rule 2) and write the list to the run's folder."""
    req = ExportRequest.from_xcom(req_data)
    conn = db.connect()
    try:
        selection = voters.select_voters(conn, campaign_id=req.campaign_id, query_id=req.query_id,
                                         query_rows=req.query_rows)  # fmt: skip
    finally:
        conn.close()
    if selection.voters.num_rows == 0:
        raise UserFacingError(
            f"Target query {req.query_id} of {req.campaign_label} has no voter to send any more (its voters were "
            "purged or removed since the export started): save the selection again in Targeting."
        )
    path = storage.write_voters(storage.folder_from(req.folder), selection.voters)
    targeted, housemates, skipped = selection.targeted, selection.housemates, selection.skipped_purged
    other_campaign = max(req.query_rows - targeted - skipped, 0)
    log.info("Selected %s voters: %s targeted, %s housemates; %s purged skipped%s.", f"{selection.voters.num_rows:,}",
             f"{targeted:,}", f"{housemates:,}", f"{skipped:,}",
             f"; {other_campaign:,} voter ids of another campaign ignored" if other_campaign else "")  # fmt: skip
    return {"voters": str(path), "targeted": targeted, "housemates": housemates, "skipped_purged": skipped,
            "other_campaign": other_campaign}  # fmt: skip


# --------------------------------------------------------------------------- 3. build (and send early)


@explained
def build_parts(req_data: dict[str, Any], selection: dict[str, Any]) -> dict[str, Any]:
    """Build the gzip parts into the run's folder; unless this is a dry run, start sending them meanwhile.

    Sending while building hides the build behind Sidekick's rate limit (10 requests per
    second). It is only a head start: if Sidekick refuses or cannot be reached, the build
    still completes and the next step, ``upload_parts``, sends what is missing and fails
    there with Sidekick's answer.
    """
    req = ExportRequest.from_xcom(req_data)
    folder = storage.folder_from(req.folder)
    sender = None
    hook = None
    if not req.dry_run:
        history.save_now(req, history.BUILDING, targeted_sent=selection["targeted"],
                         housemates_sent=selection["housemates"], skipped_purged=selection["skipped_purged"])  # fmt: skip
        hook = _hook(req)
        try:
            token = _token(req)
            resume = upload.resume_state(hook, token, req.upload_key)
            if resume.completed:
                log.info("Sidekick already has upload %s (%s): building the parts for the record, sending none.",
                         req.upload_key, resume.status)  # fmt: skip
            else:
                sender = upload.PartSender(hook, token, req.upload_key, skip=resume.received)
        except Exception as exc:  # noqa: BLE001 - a head start only; upload_parts reports Sidekick's problems
            log.warning("Not sending parts while building (%s); upload_parts will send them.", exc)
    try:
        manifest = build.build_parts(folder, campaign_id=req.campaign_id, add_to_group=req.add_to_group,
                                     sender=sender)  # fmt: skip
    finally:
        if sender is not None:
            stats = sender.close()
            if sender.error is not None:
                log.warning("Sending parts while building stopped (%s); upload_parts will send the rest.",
                            sender.error)  # fmt: skip
            else:
                log.info("Sent %d parts while building (%d were there already).", stats.created, stats.already)
        if hook is not None:
            hook.close()
    log.info("Built %s parts: %s records (%s targeted, %s housemates), %.1f MB gzip, in %.1f s.",
             f"{manifest['part_count']:,}", f"{manifest['record_count']:,}", f"{manifest['targeted_sent']:,}",
             f"{manifest['housemates_sent']:,}", manifest["bytes"] / 1e6, manifest["seconds"])  # fmt: skip
    return build.summary(manifest)


# --------------------------------------------------------------------------- 4. upload


@explained
def upload_parts(req_data: dict[str, Any], built: dict[str, Any]) -> dict[str, Any]:
    """Make sure Sidekick holds every part: ask first, send only what it lacks (rules 4, 5)."""
    req = ExportRequest.from_xcom(req_data)
    if req.dry_run:
        raise AirflowSkipException(DRY_RUN_SKIP)
    folder = storage.folder_from(req.folder)
    hook = _hook(req)
    try:
        token = _token(req)
        resume = upload.resume_state(hook, token, req.upload_key)
        if resume.completed:
            log.info("Sidekick has upload %s as %s already: nothing to send.", req.upload_key, resume.status)
            return {"status": resume.status, "created": 0, "already": built["part_count"]}
        manifest = storage.read_manifest(folder)
        stats = upload.send_missing(hook, token, req.upload_key, folder, manifest, resume)
    finally:
        hook.close()
    history.save_now(req, history.RECEIVING, targeted_sent=built["targeted_sent"],
                     housemates_sent=built["housemates_sent"], part_count=built["part_count"],
                     record_count=built["record_count"])  # fmt: skip
    log.info("Sidekick holds all %d parts of upload %s (%d sent now, %d were there already).",
             built["part_count"], req.upload_key, stats.created, stats.already)  # fmt: skip
    return {"status": upload.RECEIVING, **stats.summary()}


# --------------------------------------------------------------------------- 5. complete


@explained
def complete_upload(req_data: dict[str, Any], built: dict[str, Any]) -> dict[str, Any]:
    """Ask Sidekick to load the upload (calling it again with the same counts is harmless)."""
    req = ExportRequest.from_xcom(req_data)
    hook = _hook(req)
    try:
        answer = hook.complete_upload(_token(req), req.upload_key, name=req.upload_name,
                                      part_count=built["part_count"], record_count=built["record_count"])  # fmt: skip
    finally:
        hook.close()
    status = answer.get("status")
    history.save_now(req, status, part_count=built["part_count"], record_count=built["record_count"])
    log.info("Upload %s is %s in Sidekick.", req.upload_key, status)
    return {"status": status}


# --------------------------------------------------------------------------- 6. wait


class WaitForExportUpload(WaitForUploadOperator):
    """Waits in the triggerer for Sidekick to load the upload; records a ``Failed`` load in webElect."""

    def on_upload_failed(self, context: Any, status: dict) -> None:
        req = ExportRequest.from_xcom(context["ti"].xcom_pull(task_ids="check_request"))
        history.save_now(req, history.FAILED, failure_reason=status.get("failure_reason") or "no reason given",
                         records_loaded=status.get("records_loaded"),
                         records_rejected=status.get("records_rejected"),
                         rejections=status.get("rejections_by_reason") or {}, finished_at=datetime.now(UTC))  # fmt: skip


# --------------------------------------------------------------------------- 7. refresh


@explained
def refresh_tag_cache(req_data: dict[str, Any]) -> None:
    """Press Sidekick's "Refresh Tag Cache", so that new tags show in its list builders."""
    req = ExportRequest.from_xcom(req_data)
    hook = _hook(req)
    try:
        hook.refresh_tags(_token(req))
    finally:
        hook.close()
    log.info("Asked Sidekick to refresh the tag cache of %s.", req.campaign_label)


# --------------------------------------------------------------------------- 8. record


@explained
def record_export(req_data: dict[str, Any], built: dict[str, Any], waited: dict[str, Any]) -> dict[str, Any]:
    """Record the finished export and, when asked, add the targeted voters to the group — one transaction."""
    req = ExportRequest.from_xcom(req_data)
    result: dict[str, Any] = {"group_created": None, "group_added": None}
    with db.transaction() as conn:
        if req.add_to_group:
            ids = build.targeted_ids(storage.folder_from(req.folder))
            result = history.add_to_group(conn, campaign_id=req.campaign_id, name=req.add_to_group, voter_ids=ids)
        history.save(conn, req, waited["status"], targeted_sent=built["targeted_sent"],
                     housemates_sent=built["housemates_sent"], part_count=built["part_count"],
                     record_count=built["record_count"], records_loaded=waited.get("records_loaded"),
                     records_rejected=waited.get("records_rejected"),
                     rejections=waited.get("rejections_by_reason") or {}, finished_at=datetime.now(UTC))  # fmt: skip
    if req.add_to_group:
        log.info("Group %r of %s%s: %s targeted voters added.", req.add_to_group, req.campaign_label,
                 " (created)" if result["group_created"] else "", f"{result['group_added']:,}")  # fmt: skip
    return result


# --------------------------------------------------------------------------- 9. report


@explained
def make_report(req_data: dict[str, Any], sent: dict[str, Any] | None, waited: dict[str, Any] | None,
                recorded: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    """The run's report, in the log and as the return value (rule 7)."""
    ti = get_current_context()["ti"]
    selection = ti.xcom_pull(task_ids="select_voters")
    built = ti.xcom_pull(task_ids="build_parts")
    req = ExportRequest.from_xcom(req_data)
    result = report.build(req, selection, built, sent, waited, recorded)
    for line in report.lines(result):
        log.info("%s", line)
    return result


# --------------------------------------------------------------------------- clean-up


def clean_up(req_data: dict[str, Any] | None) -> None:
    """Delete the run's folder, whether the run succeeded or not."""
    if not req_data:
        return
    folder = storage.folder_from(req_data["folder"])
    if storage.remove(folder):
        log.info("Removed the run's folder %s.", folder)
    else:
        log.info("The run's folder %s was already gone.", folder)


def on_task_failure(context: Any) -> None:
    """Record in webElect which step failed and why (the first failure of the run is kept)."""
    try:
        req_data = context["ti"].xcom_pull(task_ids="check_request")
        if not req_data:
            return
        req = ExportRequest.from_xcom(req_data)
        if req.dry_run:
            return
        conn = db.connect()
        try:
            known = history.exists(conn, req.run_id)
        finally:
            conn.close()
        if not known:  # nothing was sent yet: no export to record
            return
        error = context.get("exception")
        message = " ".join(str(error).split()) if error else "failed"
        history.record_failure(req, f"{context['ti'].task_id}: {message}")
    except Exception:  # noqa: BLE001 - a failure callback must never hide the task's own error
        log.exception("Could not record the failed step in webelect.sidekick_exports")
