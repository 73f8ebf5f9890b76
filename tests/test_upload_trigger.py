"""UploadStatusTrigger and WaitForUploadOperator against the simulator, with the token read from webElect."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from airflow.sdk.exceptions import TaskDeferred

from tests.sidekick_fixtures import gzip_ndjson, voter_record
from webelect_sidekick.errors import TransientError, UserFacingError
from webelect_sidekick.sidekick.hook import SidekickHook
from webelect_sidekick.sidekick.operators import WaitForUploadOperator
from webelect_sidekick.sidekick.trigger import UploadStatusTrigger


def next_event(trigger: UploadStatusTrigger, timeout: float = 20.0):
    """Drive ``run()`` as the triggerer does, until its first (and only) event."""

    async def first():
        return await asyncio.wait_for(trigger.run().asend(None), timeout)

    return asyncio.run(first())


@pytest.fixture
def campaign(factory, sidekick, sidekick_account):
    """A webElect campaign with Send to Sidekick on, whose token is the simulator account's."""
    campaign_id = factory.enabled_campaign("Smith for Senate", token=sidekick_account.token)
    return campaign_id


def send_upload(key: str, token: str, records: list[dict]) -> None:
    hook = SidekickHook("test", requests_per_second=0)
    hook.put_part(token, key, 1, gzip_ndjson(records))
    hook.complete_upload(token, key, name="List", part_count=1, record_count=len(records))
    hook.close()


def test_serialize_round_trips_and_holds_no_token():
    trigger = UploadStatusTrigger(7, "run-key-0001", campaign_label="campaign 7 (X)", poll_interval=0.5,
                                  poll_backoff=2.0, max_poll_interval=4.0, max_consecutive_errors=3)  # fmt: skip
    classpath, kwargs = trigger.serialize()
    module, name = classpath.rsplit(".", 1)
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs["campaign_id"] == 7 and kwargs["upload_key"] == "run-key-0001"
    assert not any("token" in key for key in kwargs)


def test_run_waits_until_completed(sidekick, sidekick_account, campaign):
    sidekick.control.update_account(sidekick_account.id, dock_seconds=0.6)
    send_upload("trigger-done", sidekick_account.token, [voter_record(1), voter_record(2, sos_voter_id=None)])
    trigger = UploadStatusTrigger(campaign, "trigger-done", poll_interval=0.05, poll_backoff=1.5)
    event = next_event(trigger)
    assert event.payload["status"] == "final"
    upload = event.payload["upload"]
    assert (upload["status"], upload["records_loaded"], upload["records_rejected"]) == ("Completed", 1, 1)
    assert upload["rejections_by_reason"] == {"missing_sos_voter_id": 1}
    assert "rejections" not in upload  # per-voter lists stay out of Airflow's database
    polls = sidekick.control.requests(account_id=sidekick_account.id, method="GET", path="trigger-done")
    assert 2 <= len(polls) < 0.8 / 0.05  # it polled, with a growing interval rather than every 50 ms


def test_run_reports_a_failed_upload_with_its_reason(sidekick, sidekick_account, campaign):
    sidekick.control.fail_next_load(sidekick_account.id, "The file could not be read")
    send_upload("trigger-failed", sidekick_account.token, [voter_record(1)])
    event = next_event(UploadStatusTrigger(campaign, "trigger-failed", poll_interval=0.05))
    assert event.payload["status"] == "final"
    assert event.payload["upload"]["status"] == "Failed"
    assert event.payload["upload"]["failure_reason"] == "The file could not be read"


def test_run_reports_an_unknown_upload_as_an_error_event(sidekick, campaign):
    event = next_event(UploadStatusTrigger(campaign, "never-uploaded", poll_interval=0.05))
    assert event.payload["status"] == "error" and event.payload["kind"] == "user"
    assert "never-uploaded" in event.payload["message"]


def test_run_reports_a_disabled_campaign_without_calling_sidekick(sidekick, sidekick_account, factory):
    campaign_id = factory.campaign("Off Campaign", enabled=False, token=None)
    event = next_event(UploadStatusTrigger(campaign_id, "some-upload-key", poll_interval=0.05))
    assert event.payload["kind"] == "user" and "turned off" in event.payload["message"]
    assert "\n" not in event.payload["message"]


def test_run_keeps_polling_through_transient_failures(sidekick, sidekick_account, campaign):
    send_upload("trigger-flaky", sidekick_account.token, [voter_record(1)])
    sidekick.control.add_fault("GET", "trigger-flaky", status=503, count=4)
    event = next_event(UploadStatusTrigger(campaign, "trigger-flaky", poll_interval=0.05))
    assert event.payload["upload"]["status"] == "Completed"


# --------------------------------------------------------------------------- the operator


class RecordingWait(WaitForUploadOperator):
    failed: list[dict] = []

    def on_upload_failed(self, context, status):
        self.failed.append(status)


def test_operator_returns_at_once_for_a_completed_upload(sidekick, sidekick_account, campaign):
    send_upload("operator-done", sidekick_account.token, [voter_record(1), voter_record(2, phones=[{"number": "x"}])])
    sidekick.control.wait_for_status(sidekick_account.id, "operator-done")
    result = WaitForUploadOperator(task_id="wait", campaign_id=campaign, upload_key="operator-done").execute({})
    assert result == {"status": "Completed", "records_loaded": 1, "records_rejected": 1,
                      "rejections_by_reason": {"invalid_phone": 1}, "failure_reason": None}  # fmt: skip


def test_operator_defers_to_a_trigger_without_the_token(sidekick, sidekick_account, campaign):
    sidekick.control.update_account(sidekick_account.id, dock_seconds=30)
    send_upload("operator-wait", sidekick_account.token, [voter_record(1)])
    operator = WaitForUploadOperator(task_id="wait", campaign_id=str(campaign), upload_key="operator-wait",
                                     poll_interval=0.2)  # fmt: skip
    with pytest.raises(TaskDeferred) as info:
        operator.execute({})
    assert info.value.method_name == "execute_complete"
    classpath, kwargs = info.value.trigger.serialize()
    assert classpath == "webelect_sidekick.sidekick.trigger.UploadStatusTrigger"
    assert kwargs["campaign_id"] == campaign and kwargs["poll_interval"] == 0.2
    assert kwargs["campaign_label"] == f"campaign {campaign} (Smith for Senate)"
    assert sidekick_account.token not in repr(kwargs)


def test_operator_defers_then_fails_a_failed_upload_with_sidekicks_reason(sidekick, sidekick_account, campaign):
    sidekick.control.update_account(sidekick_account.id, dock_seconds=0.5)
    sidekick.control.fail_next_load(sidekick_account.id, "Duplicate file")
    send_upload("operator-failed", sidekick_account.token, [voter_record(1)])
    operator = RecordingWait(task_id="wait", campaign_id=campaign, upload_key="operator-failed", poll_interval=0.05)
    RecordingWait.failed.clear()
    with pytest.raises(TaskDeferred) as deferred:  # the path Airflow takes: execute → trigger → execute_complete
        operator.execute({})
    event = next_event(deferred.value.trigger)
    with pytest.raises(UserFacingError, match="Duplicate file") as info:
        operator.execute_complete({}, event.payload)
    assert "operator-failed" in str(info.value) and "Smith for Senate" in str(info.value)
    assert [s["status"] for s in RecordingWait.failed] == ["Failed"]


def test_operator_turns_error_events_into_the_right_failure():
    operator = WaitForUploadOperator(task_id="wait", campaign_id=1, upload_key="whatever-key")
    with pytest.raises(TransientError, match="did not answer"):
        operator.execute_complete({}, {"status": "error", "kind": "transient", "message": "Sidekick did not answer"})
    with pytest.raises(UserFacingError, match="rotate"):
        operator.execute_complete({}, {"status": "error", "kind": "user", "message": "re-run rotate"})
