"""``WaitForUploadOperator``: wait for Sidekick to load an upload without holding a worker slot.

Deferral needs a class-based operator (TaskFlow functions cannot defer), and its trigger
must live in ``plugins/`` so the triggerer can import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from webelect_sidekick import campaigns, db
from webelect_sidekick.config import SIDEKICK_CONN_ID
from webelect_sidekick.errors import TransientError, UserFacingError
from webelect_sidekick.sidekick.hook import FINAL_STATUSES, SidekickHook
from webelect_sidekick.sidekick.trigger import UploadStatusTrigger, summarize_upload


def campaign_label_and_token(campaign_id: int) -> tuple[str, str]:
    """How messages name the campaign, and its token, read from webElect at the moment of use."""
    conn = db.connect()
    try:
        campaign = campaigns.load_campaign(conn, campaign_id)
        token = campaigns.sidekick_token(campaign_id, conn)
    finally:
        conn.close()
    return (campaign.label if campaign else f"campaign {campaign_id}"), token


class WaitForUploadOperator(BaseOperator):
    """Return once Sidekick has loaded the upload; fail with Sidekick's reason when it could not.

    One status check in ``execute``: an upload that is final already needs no trigger.
    Otherwise the task defers to :class:`UploadStatusTrigger`. The return value (an XCom)
    is small: ``status``, ``records_loaded``, ``records_rejected``, ``rejections_by_reason``
    and ``failure_reason``. Subclasses override :meth:`on_upload_failed` to record a failure
    (e.g. in the export's webElect record) before the task fails.
    """

    template_fields: Sequence[str] = ("campaign_id", "upload_key")
    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        campaign_id: int | str,
        upload_key: str,
        poll_interval: float = 1.0,
        poll_backoff: float = 1.5,
        max_poll_interval: float = 30.0,
        sidekick_conn_id: str = SIDEKICK_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.campaign_id = campaign_id
        self.upload_key = upload_key
        self.poll_interval = poll_interval
        self.poll_backoff = poll_backoff
        self.max_poll_interval = max_poll_interval
        self.sidekick_conn_id = sidekick_conn_id

    def execute(self, context: Any) -> dict:
        campaign_id = int(self.campaign_id)
        label, token = campaign_label_and_token(campaign_id)
        hook = SidekickHook(label, campaign_id=campaign_id, sidekick_conn_id=self.sidekick_conn_id)
        try:
            upload = hook.get_upload(token, self.upload_key)
        finally:
            hook.close()
        if upload is None:
            raise UserFacingError(
                f"Sidekick has no upload {self.upload_key} for {label}: its parts were never received; "
                "re-run the export's upload task."
            )
        if upload.get("status") in FINAL_STATUSES:
            return self._finish(context, summarize_upload(upload, label))
        self.log.info("Upload %s of %s is %s; waiting in the triggerer", self.upload_key, label, upload.get("status"))
        self.defer(
            trigger=UploadStatusTrigger(
                campaign_id, self.upload_key, campaign_label=label, poll_interval=self.poll_interval,
                poll_backoff=self.poll_backoff, max_poll_interval=self.max_poll_interval,
                sidekick_conn_id=self.sidekick_conn_id,
            ),  # fmt: skip
            method_name="execute_complete",
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict:
        event = event or {}
        if event.get("status") != "final":
            message = event.get("message") or f"The wait for upload {self.upload_key} ended without a status."
            raise (TransientError if event.get("kind") == "transient" else UserFacingError)(message)
        return self._finish(context, event["upload"])

    def on_upload_failed(self, context: Any, status: dict) -> None:
        """Called with the upload's summary just before a ``Failed`` upload fails the task; a no-op here."""

    def _finish(self, context: Any, upload: dict) -> dict:
        label = upload.get("campaign_label") or f"campaign {self.campaign_id}"
        if upload.get("status") == "Failed":
            self.on_upload_failed(context, upload)
            reason = upload.get("failure_reason") or "no reason given"
            raise UserFacingError(
                f"Sidekick could not load upload {self.upload_key} of {label}: {reason}. "
                "Fix what Sidekick names, then start a new export run."
            )
        self.log.info(
            "Sidekick loaded upload %s of %s: %s records loaded, %s rejected %s",
            self.upload_key, label, upload.get("records_loaded"), upload.get("records_rejected"),
            upload.get("rejections_by_reason") or "",
        )  # fmt: skip
        return {
            "status": upload.get("status"),
            "records_loaded": upload.get("records_loaded"),
            "records_rejected": upload.get("records_rejected"),
            "rejections_by_reason": upload.get("rejections_by_reason") or {},
            "failure_reason": upload.get("failure_reason"),
        }
