"""The sidekick_import DAG end to end: dag.test() against PostgreSQL and the simulator over HTTP.

- two campaigns, one with an expired cursor (410): only that campaign's mapped tasks fail,
  the other imports; a run with ``reset_cursor_for_campaign`` re-pulls it; a night with
  nothing new writes nothing;
- a crash injected in the middle of the merge: Airflow retries the task and the night
  ends with exactly the expected rows.
"""

from __future__ import annotations

import secrets

import pytest

from tests import dag_files
from tests.test_import_support import change, logical_snapshot
from webelect_sidekick.importer import faults

STEP_TASKS = ("pull_changes", "map_tags", "resolve_users", "merge_contacts", "commit_report")


def load_dag():
    return dag_files.load_dag("sidekick_import")


def states(dag_run, campaign_ids: list[int]) -> dict[tuple[str, int | None], tuple[str, int]]:
    """{(task, campaign id): (state, try_number)} of a finished run (map index i = i-th enabled campaign)."""
    result = {}
    for ti in dag_run.get_task_instances():
        campaign = None if ti.map_index < 0 else campaign_ids[ti.map_index]
        if str(ti.state) == "success" and campaign is not None:
            assert ti.rendered_map_index == f"campaign {campaign}"  # the UI's label
        result[(ti.task_id.removeprefix("campaign."), campaign)] = (str(ti.state), ti.try_number)
    return result


def linked_campaign(factory, sidekick, name: str):
    token = f"tok-{secrets.token_urlsafe(32)}"
    campaign_id = factory.enabled_campaign(name, token=token)
    return campaign_id, sidekick.register(name, token=token)


def load(sidekick, account, changes):
    return sidekick.control.add_changes(account.id, [{k: v for k, v in c.items() if k != "seq"} for c in changes])


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setenv("WEBELECT_SIDEKICK_IMPORT_RETRY_DELAY_SECONDS", "0")


def test_dag_file_follows_the_house_rules():
    dag = load_dag()
    assert dag.dag_id == "sidekick_import" and dag.catchup is False and dag.max_active_runs == 1
    assert "nightly" in dag.tags and len(dag.doc_md) > 500 and "reset_cursor_for_campaign" in dag.doc_md
    assert (dag.timetable.expression, str(dag.timetable.timezone)) == ("0 1 * * *", "America/New_York")
    assert dag.start_date.tzinfo is not None
    group_tasks = [t.task_id for t in dag.tasks if t.task_id.startswith("campaign.")]
    assert group_tasks == [f"campaign.{name}" for name in STEP_TASKS]
    for name in STEP_TASKS[1:]:
        task = dag.get_task(f"campaign.{name}")
        previous = f"campaign.{STEP_TASKS[STEP_TASKS.index(name) - 1]}"
        assert task.upstream_task_ids == {previous, "enabled_campaigns"}  # the mapped campaign id comes from it
    for task in dag.tasks:
        assert task.retries >= 2 and task.retry_exponential_backoff > 0 and task.max_retry_delay


def test_schedule_is_configurable(monkeypatch):
    monkeypatch.setenv("WEBELECT_SIDEKICK_IMPORT_SCHEDULE", "30 0 * * *")
    monkeypatch.setenv("AIRFLOW_VAR_WEBELECT_SIDEKICK_IMPORT_TIMEZONE", "America/Chicago")
    dag = load_dag()
    assert (dag.timetable.expression, str(dag.timetable.timezone)) == ("30 0 * * *", "America/Chicago")


def test_one_campaigns_410_fails_only_that_campaign_then_a_reset_run_repulls_it(
        webelect, factory, sidekick, airflow_db, fast_retries):
    a, account_a = linked_campaign(factory, sidekick, "Alpha")
    b, account_b = linked_campaign(factory, sidekick, "Bravo")
    factory.campaign("Charlie (no token)", enabled=True, token=None)  # enabled without a token: not imported
    factory.campaign("Echo (disabled)", enabled=False, token="tok-echo-0123456789abcdef0123456789")
    va, vb = factory.voter(a, sos_voter_id="OH-A"), factory.voter(b, sos_voter_id="OH-B")
    load(sidekick, account_a, [change("tag", voter_id=va, tag="Yard Sign", change_id="a1"),
                               change("note", sos="OH-A", note="Alpha note", change_id="a2")])
    load(sidekick, account_b, [change("note", voter_id=vb, note="Bravo note", change_id="b1")])
    expired = sidekick.control.mint_cursor(account_b.id, after_seq=0, age_days=31)
    webelect.admin.execute("insert into webelect.sidekick_import_cursors (campaign_id, cursor) values (%s, %s)",
                           (b, expired))

    dag = load_dag()
    run = dag.test()
    got = states(run, [a, b])
    assert got[("enabled_campaigns", None)][0] == "success"
    for name in STEP_TASKS:
        assert got[(name, a)][0] == "success", name
    assert got[("pull_changes", b)] == ("failed", 1)  # a UserFacingError: no retry
    for name in STEP_TASKS[1:]:
        assert got[(name, b)][0] == "upstream_failed", name
    assert str(run.state) == "failed"

    rows = logical_snapshot(webelect)
    assert rows["notes"] == [(va, "Alpha note", rows["notes"][0][2], "sidekick", "a2", "pat.lee@example.org")]
    assert rows["voter_tags"] == [(va, "Yard Sign", "pat.lee@example.org")]
    runs = dict(webelect.rows("select campaign_id, status from webelect.sidekick_import_runs where run_id = %s",
                              (run.run_id,)))
    assert runs == {a: "complete", b: "failed"}
    error = webelect.scalar("select error from webelect.sidekick_import_runs where campaign_id = %s", (b,))
    assert "full re-pull" in error and f"reset --campaign {b}" in error
    report = webelect.scalar("select report from webelect.sidekick_import_runs where campaign_id = %s", (a,))
    assert report["applied"] == {"email": 0, "note": 1, "phone": 0, "tag": 1} and report["changes_pulled"] == 2

    # A person asks for the full re-pull of Bravo; Alpha has nothing new and writes nothing.
    before_alpha = [r for r in logical_snapshot(webelect)["notes"] if r[0] == va]
    run2 = dag.test(run_conf={"reset_cursor_for_campaign": b})
    assert str(run2.state) == "success"
    rows = logical_snapshot(webelect)
    assert [r for r in rows["notes"] if r[0] == va] == before_alpha
    assert [(r[0], r[1], r[4]) for r in rows["notes"] if r[0] == vb] == [(vb, "Bravo note", "b1")]

    # A third night with nothing new writes nothing.
    run3 = dag.test()
    assert str(run3.state) == "success"
    assert logical_snapshot(webelect) == rows
    reports = webelect.rows("select report from webelect.sidekick_import_runs where run_id = %s", (run3.run_id,))
    assert [(r["campaign_id"], r["new_changes"], r["applied_total"]) for (r,) in sorted(
        reports, key=lambda r: r[0]["campaign_id"])] == [(a, 0, 0), (b, 0, 0)]


def test_a_crash_in_the_middle_of_the_merge_is_retried_by_airflow(
        webelect, factory, sidekick, airflow_db, fast_retries, monkeypatch, tmp_path):
    c, account = linked_campaign(factory, sidekick, "Delta")
    v = factory.voter(c, sos_voter_id="OH-D")
    load(sidekick, account, [
        change("tag", voter_id=v, tag="Canvassed", change_id="d1"),
        change("note", voter_id=v, note="first", change_id="d2"),
        change("phone", sos="OH-D", phone={"number": "(614) 555-0199", "type": "landline"}, change_id="d3"),
        change("email", voter_id=v, email="Voter@Example.org", change_id="d4"),
    ])
    monkeypatch.setenv(faults.ENV, f"merge:after_notes@{c}")
    monkeypatch.setenv(faults.ONCE_ENV, str(tmp_path / "fired"))
    run = load_dag().test()
    assert (tmp_path / "fired").exists()
    got = states(run, [c])
    assert got[("merge_contacts", c)] == ("success", 2)  # failed once, retried by Airflow
    assert got[("commit_report", c)][0] == "success"
    rows = logical_snapshot(webelect)
    user = "pat.lee@example.org"
    assert rows["voter_tags"] == [(v, "Canvassed", user)]
    assert [(r[0], r[1], r[4], r[5]) for r in rows["notes"]] == [(v, "first", "d2", user)]
    assert rows["phones"] == [(v, "+16145550199", "landline", "user", 90, user)]
    assert rows["emails"] == [(v, "voter@example.org", "user", 90, user)]
    report = webelect.scalar("select report from webelect.sidekick_import_runs where campaign_id = %s", (c,))
    assert report["rows_written"] == {"voter_tags": 1, "notes": 1, "phones": 1, "emails": 1}
    assert report["cursor_committed"] is True
