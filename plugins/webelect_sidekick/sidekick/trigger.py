"""Wait in the triggerer, not in a worker slot, until a Sidekick upload is ``Completed`` or ``Failed``.

The trigger's kwargs are stored in Airflow's metadata database, so they hold the campaign
id and the upload key, never the token: :meth:`UploadStatusTrigger.run` reads the token from
webElect (``campaigns.sidekick_token``) each time it starts. It only reads (GET), so running
it twice, as Airflow may, has no effect on Sidekick or webElect.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from webelect_sidekick import campaigns
from webelect_sidekick.config import SIDEKICK_CONN_ID
from webelect_sidekick.errors import TransientError, UserFacingError
from webelect_sidekick.sidekick.hook import FINAL_STATUSES, SidekickHook

log = logging.getLogger(__name__)

CLASSPATH = "webelect_sidekick.sidekick.trigger.UploadStatusTrigger"


def summarize_upload(upload: dict, campaign_label: str | None = None) -> dict:
    """The upload's status without the per-record ``rejections`` list (counts by reason instead).

    Trigger events and XComs are stored in Airflow's database: a list with one entry per
    rejected voter does not belong there.
    """
    reasons = Counter(r.get("reason", "unknown") for r in upload.get("rejections") or [] if isinstance(r, dict))
    return {
        "upload_key": upload.get("upload_key"),
        "name": upload.get("name"),
        "status": upload.get("status"),
        "part_count": upload.get("part_count"),
        "record_count": upload.get("record_count"),
        "records_loaded": upload.get("records_loaded"),
        "records_rejected": upload.get("records_rejected"),
        "rejections_by_reason": dict(sorted(reasons.items())),
        "failure_reason": upload.get("failure_reason"),
        "updated_at": upload.get("updated_at"),
        "campaign_label": campaign_label,
    }


class UploadStatusTrigger(BaseTrigger):
    """Poll ``GET /v1/uploads/{key}`` with a growing interval until the upload is final.

    Fires one event: ``{"status": "final", "upload": summarize_upload(...)}``, or
    ``{"status": "error", "kind": "user" | "transient", "message": "<one sentence>"}``.

    Polling runs the synchronous :class:`SidekickHook` in a thread (``asyncio.to_thread``)
    rather than an async client: the worker and the triggerer then share one implementation
    of the contract's error table and of the per-token pacing, a thread is busy only for
    the milliseconds of one request, and the waits between polls are ``asyncio.sleep``. The
    hook here makes few attempts per poll; a transient failure just means "poll again
    later", up to ``max_consecutive_errors`` polls in a row.
    """

    def __init__(
        self,
        campaign_id: int,
        upload_key: str,
        *,
        campaign_label: str | None = None,
        poll_interval: float = 1.0,
        poll_backoff: float = 1.5,
        max_poll_interval: float = 30.0,
        max_consecutive_errors: int = 10,
        sidekick_conn_id: str = SIDEKICK_CONN_ID,
    ):
        super().__init__()
        self.campaign_id = int(campaign_id)
        self.upload_key = upload_key
        self.campaign_label = campaign_label
        self.poll_interval = float(poll_interval)
        self.poll_backoff = float(poll_backoff)
        self.max_poll_interval = float(max_poll_interval)
        self.max_consecutive_errors = int(max_consecutive_errors)
        self.sidekick_conn_id = sidekick_conn_id

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            CLASSPATH,
            {
                "campaign_id": self.campaign_id,
                "upload_key": self.upload_key,
                "campaign_label": self.campaign_label,
                "poll_interval": self.poll_interval,
                "poll_backoff": self.poll_backoff,
                "max_poll_interval": self.max_poll_interval,
                "max_consecutive_errors": self.max_consecutive_errors,
                "sidekick_conn_id": self.sidekick_conn_id,
            },
        )

    @property
    def label(self) -> str:
        return self.campaign_label or f"campaign {self.campaign_id}"

    @staticmethod
    def _error(kind: str, message: str) -> TriggerEvent:
        return TriggerEvent({"status": "error", "kind": kind, "message": " ".join(message.split())})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            token = await asyncio.to_thread(campaigns.sidekick_token, self.campaign_id)
        except UserFacingError as exc:
            yield self._error("user", str(exc))
            return
        except Exception as exc:  # the webElect database is unreachable: worth a task retry
            yield self._error("transient", f"Could not read the Sidekick token of {self.label} from webElect: {exc}")
            return
        hook = SidekickHook(
            self.label, campaign_id=self.campaign_id, sidekick_conn_id=self.sidekick_conn_id, max_attempts=3,
            backoff_cap=5.0,
        )  # fmt: skip
        interval = self.poll_interval
        errors = 0
        try:
            while True:
                try:
                    upload = await asyncio.to_thread(hook.get_upload, token, self.upload_key)
                except TransientError as exc:
                    errors += 1
                    if errors >= self.max_consecutive_errors:
                        yield self._error("transient", str(exc))
                        return
                    log.warning("Polling upload %s of %s failed (%s); polling again", self.upload_key, self.label, exc)
                except UserFacingError as exc:
                    yield self._error("user", str(exc))
                    return
                else:
                    errors = 0
                    if upload is None:
                        yield self._error(
                            "user",
                            f"Sidekick has no upload {self.upload_key} for {self.label}: its parts were never "
                            "received; re-run the export's upload task.",
                        )
                        return
                    if upload.get("status") in FINAL_STATUSES:
                        yield TriggerEvent({"status": "final", "upload": summarize_upload(upload, self.label)})
                        return
                    log.info(
                        "Upload %s of %s is %s; next check in %.1f s",
                        self.upload_key, self.label, upload.get("status"), interval,
                    )  # fmt: skip
                await asyncio.sleep(interval)
                interval = min(self.max_poll_interval, interval * self.poll_backoff)
        finally:
            hook.close()
