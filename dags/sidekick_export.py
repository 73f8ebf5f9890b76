"""
# Send to Sidekick

Sends the voters of one saved **webElect target query** to **Campaign Sidekick**, the
canvassing and phone-banking app, with their tags, groups, notes, phones and emails. It is
what the "Send to Sidekick" button does, and it only runs when someone triggers it.

## How to start it
Press **Trigger** (▶) and fill in the form:

- **Query ID** (required) — the number of the saved query in webElect's *Targeting →
  Saved Queries*. Every voter of the query is sent, except purged voters (they are
  counted as *skipped*). Each voter's **housemates** (same household, not purged, not in
  the query) come along for reference, marked as not targeted.
- **Add To Group** (optional) — a webElect group name. Every targeted voter that was sent
  is added to that group of the campaign (the group is created if it does not exist), and
  the group name is sent among their tags. Leave it empty for no group; spaces around the
  name are ignored.
- **Dry run** — tick it to check a query first: everything is read and built, but nothing
  is sent to Sidekick and nothing is written to webElect (no group, no export record, not
  even the package's own table updates). The report shows what would have been sent.

The campaign must have *Settings → Data Sharing → "Enable Send to Sidekick"* turned on.
If the query does not exist, Sidekick is not enabled or the query has no voter to send,
the first step fails at once with a sentence saying what to fix, and nothing is sent.

## What the steps do
1. **check_request** — checks the query and the campaign.
2. **select_voters** — picks the targeted voters and their housemates.
3. **build_parts** — builds Sidekick's files (parts of 10,000 voters) and starts sending them.
4. **upload_parts** — makes sure Sidekick has every part (a retry sends only what is missing).
5. **complete_upload** — tells Sidekick the list is complete.
6. **wait_for_sidekick** — waits, without holding a worker, while Sidekick loads the list.
7. **refresh_tag_cache** — presses Sidekick's "Refresh Tag Cache" so new tags show.
8. **record_export** — records the export in webElect and adds voters to the group.
9. **report** — the summary (see below). **clean_up** then deletes the run's files, also
   when the run failed.

A step that fails because of something a person must fix (a wrong ID, a revoked token)
fails at once with a one-line message in its log; a passing problem (Sidekick or the
database briefly unreachable) is retried a few times by itself. Clearing a step, or the
whole run, never sends the list twice: Sidekick sees one upload per run, which picks up
where it stopped.

## Statuses
The run's export is recorded in `webelect.sidekick_exports` with one of these statuses:
*Building* (files being built and sent), *Receiving* (Sidekick has every part),
*Docked for Loading* / *In Progress* (Sidekick is loading it), **Completed**, or
**Failed** with the reason (Sidekick's own reason when its loading failed, else the step
that failed and why). A dry run records nothing.

## The report
Open the **report** step's log (or its XCom `return_value`): it starts with
**"transfer complete"** (or "DRY RUN") and lists targeted voters sent, housemates sent,
purged voters skipped, parts, Sidekick's rejections by reason (voters Sidekick could not
load, e.g. a phone that is not E.164), the upload key and final status, the seconds taken
and voters per second.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task

from webelect_sidekick.export import tasks

DEFAULT_ARGS = {
    "owner": "webelect",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
    "on_failure_callback": tasks.on_task_failure,
}


@dag(
    dag_id="sidekick_export",
    dag_display_name="Send to Sidekick",
    description="Send a webElect target query's voters to Campaign Sidekick",
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    # One export at a time: a run keeps two database connections and both cores of a small
    # worker busy and uses the campaign's 10 requests/second at Sidekick; more runs would only
    # queue behind each other (queued runs start by themselves, in order).
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["webelect", "sidekick", "export"],
    params={
        "query_id": Param(
            type="integer",
            minimum=1,
            title="Query ID",
            description="The number of the saved target query in webElect (Targeting → Saved Queries).",
        ),
        "add_to_group": Param(
            None,
            type=["null", "string"],
            maxLength=200,
            title="Add To Group",
            description="Optional: a webElect group to add every targeted voter that was sent to (created if "
            "missing); the name is also sent among their tags. Leave empty for none.",
        ),
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Read and build everything but send nothing to Sidekick and write nothing to webElect; "
            "the report shows what would have been sent.",
        ),
    },
)
def sidekick_export():
    @task(multiple_outputs=True)
    def check_request() -> dict:
        return tasks.check_request()

    @task
    def select_voters(request: dict) -> dict:
        return tasks.select_voters(request)

    @task
    def build_parts(request: dict, selection: dict) -> dict:
        return tasks.build_parts(request, selection)

    @task
    def upload_parts(request: dict, built: dict) -> dict:
        return tasks.upload_parts(request, built)

    @task
    def complete_upload(request: dict, built: dict) -> dict:
        return tasks.complete_upload(request, built)

    @task
    def refresh_tag_cache(request: dict) -> None:
        tasks.refresh_tag_cache(request)

    @task
    def record_export(request: dict, built: dict, waited: dict) -> dict:
        return tasks.record_export(request, built, waited)

    # Runs when the Sidekick steps were skipped (a dry run) too. It reads the setup steps'
    # results itself: a setup step may only be followed directly by all-success steps.
    @task(trigger_rule="none_failed")
    def report(request: dict, sent: dict | None, waited: dict | None, recorded: dict | None) -> dict:
        return tasks.make_report(request, sent, waited, recorded)

    @task
    def clean_up(request: dict | None) -> None:
        tasks.clean_up(request)

    request = check_request()
    selection = select_voters(request)
    built = build_parts(request, selection)
    sent = upload_parts(request, built)
    completed = complete_upload(request, built)
    sent >> completed
    waited = tasks.WaitForExportUpload(
        task_id="wait_for_sidekick",
        campaign_id=request["campaign_id"],
        upload_key=request["upload_key"],
    )
    completed >> waited
    refreshed = refresh_tag_cache(request)
    waited >> refreshed
    recorded = record_export(request, built, waited.output)
    refreshed >> recorded
    summary = report(request, sent, waited.output, recorded)
    cleaned = clean_up(request).as_teardown(setups=[selection, built])
    [recorded, summary] >> cleaned


sidekick_export()
