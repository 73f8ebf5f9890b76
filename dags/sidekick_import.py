"""
### Sidekick import — canvass data back into webElect, every night

**What it does.** For every campaign with *Enable Send to Sidekick* switched on (and a
token), it fetches what canvassers added in Campaign Sidekick since the last night —
tags, notes, phone numbers, email addresses — and adds them to the campaign's voters in
webElect. Each campaign runs on its own: one campaign's failure never stops another's.

**When.** Every night at **01:00 America/New_York**, done well before 2 AM. Change it with
the environment variables (or Airflow Variables) `WEBELECT_SIDEKICK_IMPORT_SCHEDULE`
(a cron expression, default `0 1 * * *`) and `WEBELECT_SIDEKICK_IMPORT_TIMEZONE` (default
`America/New_York`). Missed nights are not replayed one by one (catch-up is off): the next
run picks up everything since the last successful one. One run at a time. Switching the
DAG on runs the most recent night straight away; **Trigger** runs it again now.

**Steps, per campaign** (the mapped group `campaign`, one map index per campaign id):
1. `pull_changes` — every page of Sidekick's changes since the campaign's saved cursor,
   stored once each (a change Sidekick sends twice is counted as a duplicate and skipped);
2. `map_tags` — each Sidekick tag to a webElect tag: the tag whose *Sidekick Tag* field
   matches it exactly, else the tag with that name (any case), else a new tag under the
   root tag **Sidekick** (created if missing);
3. `resolve_users` — each canvasser to the campaign's webElect user with that email (any
   case), else a new user who **cannot log in** (level 0, expired at creation,
   created via 'sidekick');
4. `merge_contacts` — in one transaction: voter tags, notes (source 'sidekick'), phones
   (E.164, US by default, rank 90, source 'user') and emails (lower-cased) — nothing the
   voter already has — and only then moves the campaign's saved cursor;
5. `commit_report` — the night's report.

Voters are matched by webElect voter id (when it is a voter of the campaign), else by SOS
voter id within the campaign. Bad changes (unknown voter, invalid phone or email, empty
note or tag, unknown type, ...) never stop the night: they are skipped, counted, and kept
with their reason in `webelect.sidekick_import_rejections`.

**The report** — in the log of `commit_report`, as its return value (XCom), and in
`webelect.sidekick_import_runs.report` (one row per campaign per night): changes pulled,
duplicates skipped, applied by type, rows written, rejected by reason, tags and users
created, seconds per step. The row's `status` goes `pulling → pulled → tags_mapped →
users_resolved → merged → complete`, or `failed` with a one-sentence `error`.
It never contains names, phone numbers, emails, note text or tokens.

**Where to look** (all in schema `webelect`): `sidekick_import_runs` (one row per campaign
per night: status, error, report), `sidekick_import_rejections` (each rejected change with
its reason and what Sidekick sent), `sidekick_import_cursors` (where each campaign's next pull
starts), `sidekick_change_inbox` (changes pulled and not yet applied — empty after a good
night), `sidekick_change_ledger` (ids of changes already applied, kept 35 days, so a change
Sidekick sends again is skipped).

**Safe to retry or clear anything.** Every task is idempotent and every write is keyed,
so a retried task, a re-run night or a change delivered twice never doubles a row, and the
cursor only moves together with the data it covers. Tasks retry 3 times with growing
delays; errors that only a person can fix (a bad token, the integration turned off in
Sidekick) fail at once with a sentence that says what to do.

**"Cursor expired" (HTTP 410).** If a campaign was not imported for more than 30 days,
Sidekick no longer has its place in the feed and that campaign's `pull_changes` fails
(the others carry on). Do a full re-pull, either way:
- trigger this DAG with **`reset_cursor_for_campaign`** = the campaign id, or
- run `python -m webelect_sidekick.importer.cursor reset --campaign <id>` and wait for
  the next night (or trigger the DAG).

The re-pull fetches every change Sidekick still keeps (30 days); changes imported before
are skipped as duplicates. Changes older than 30 days cannot be fetched again.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, chain, dag, get_current_context, task, task_group

from webelect_sidekick.importer import settings, steps

# The UI names each mapped task by its campaign ("campaign 12") instead of a bare map index.
_MAP_INDEX = "campaign {{ campaign_id_for_map_index }}"


def _run(campaign_id: int) -> str:
    """The run id, after labelling the mapped task with its campaign."""
    context = get_current_context()
    context["campaign_id_for_map_index"] = campaign_id
    return context["run_id"]


@task
def enabled_campaigns() -> list[int]:
    """Apply the package's migrations; list the campaigns with Sidekick enabled and a token."""
    return steps.prepare(get_current_context()["params"].get("reset_cursor_for_campaign"))


@task(map_index_template=_MAP_INDEX)
def pull_changes(campaign_id: int) -> dict:
    run_id = _run(campaign_id)
    reset_for = get_current_context()["params"].get("reset_cursor_for_campaign")
    return steps.pull(campaign_id, run_id, reset_cursor=reset_for == campaign_id)


@task(map_index_template=_MAP_INDEX)
def map_tags(campaign_id: int) -> dict:
    return steps.tags(campaign_id, _run(campaign_id))


@task(map_index_template=_MAP_INDEX)
def resolve_users(campaign_id: int) -> dict:
    return steps.users(campaign_id, _run(campaign_id))


@task(map_index_template=_MAP_INDEX)
def merge_contacts(campaign_id: int) -> dict:
    return steps.merge(campaign_id, _run(campaign_id))


@task(map_index_template=_MAP_INDEX)
def commit_report(campaign_id: int) -> dict:
    return steps.report(campaign_id, _run(campaign_id))


@task_group(group_id="campaign")
def campaign(campaign_id: int) -> None:
    """One campaign's night; the group is mapped, one map index per campaign."""
    chain(
        pull_changes(campaign_id),
        map_tags(campaign_id),
        resolve_users(campaign_id),
        merge_contacts(campaign_id),
        commit_report(campaign_id),
    )


@dag(
    dag_id="sidekick_import",
    dag_display_name="Sidekick nightly import",
    schedule=CronTriggerTimetable(settings.import_schedule(), timezone=settings.import_timezone()),
    start_date=pendulum.datetime(2026, 1, 1, tz=settings.import_timezone()),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": settings.retries(),
        "retry_delay": settings.retry_delay(),
        "retry_exponential_backoff": 2.0,  # a multiplier in Airflow 3.3: 1, 2, 4 minutes ...
        "max_retry_delay": timedelta(minutes=10),
    },
    tags=["webelect", "sidekick", "import", "nightly"],
    params={
        "reset_cursor_for_campaign": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            title="Full re-pull for campaign ID (only after a 'cursor expired' failure)",
            description_md=(
                "Leave empty for a normal night. After a **cursor expired (410)** failure, give the "
                "campaign id: its saved cursor is reset first and this run pulls every change Sidekick "
                "still keeps (30 days); changes imported before are skipped as duplicates."
            ),
        ),
    },
    doc_md=__doc__,
)
def sidekick_import() -> None:
    campaign.expand(campaign_id=enabled_campaigns())


sidekick_import()
