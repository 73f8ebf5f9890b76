"""The sidekick_export DAG end to end: dag.test() against PostgreSQL and the simulator over HTTP.

Every test runs the real DAG file in-process (the wait runs in dag.test's in-line
triggerer) against the session's webElect database, as the least-privilege role, and the
simulator over real HTTP; what arrived is read back through the simulator's control API.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

import pytest

from tests import dag_files
from webelect_sidekick.export import build, request, storage

SIDEKICK_STEPS = ("upload_parts", "complete_upload", "wait_for_sidekick", "refresh_tag_cache", "record_export")


def load_dag():
    return dag_files.load_dag("sidekick_export")


@pytest.fixture(scope="module")
def dag():
    return load_dag()


@pytest.fixture
def small_parts(monkeypatch):
    """Parts of 4 records (chunks of 8 voters), so that a few voters make several parts."""
    monkeypatch.setattr(build, "PART_RECORDS", 4)
    monkeypatch.setattr(build, "CHUNK_VOTERS", 8)


def linked_campaign(factory, sidekick, name="Smith for Senate"):
    token = f"tok-{secrets.token_urlsafe(32)}"
    campaign_id = factory.enabled_campaign(name, token=token)
    return campaign_id, sidekick.register(name, token=token), token


def states(run) -> dict[str, tuple[str, int]]:
    return {ti.task_id: (str(ti.state), ti.try_number) for ti in run.get_task_instances()}


def xcom(run, task_id: str, key: str = "return_value"):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalar(select(XComModel).where(
            XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id, XComModel.task_id == task_id,
            XComModel.key == key))  # fmt: skip
        if row is None:
            return None
        value = row.value
        return json.loads(value) if isinstance(value, str) else value


def run_folder(run):
    return storage.run_folder(request.upload_key_for(run.dag_id, run.run_id))


def uploads(sidekick, account):
    return sidekick.control.uploads(account.id)


def received(sidekick, account, upload_key) -> dict[int, dict]:
    records = sidekick.control.records(account.id, upload_key)
    ids = [r["webelect_voter_id"] for r in records]
    assert len(ids) == len(set(ids)), "a voter arrived twice"
    return {r["webelect_voter_id"]: r for r in records}


class Logs:
    """Everything a run logged: pytest's log capture plus whatever reached stdout/stderr."""

    def __init__(self, caplog, capfd):
        self.caplog, self.capfd = caplog, capfd

    def clear(self) -> None:
        self.caplog.clear()
        self.capfd.readouterr()

    def text(self) -> str:
        out, err = self.capfd.readouterr()
        return self.caplog.text + out + err


@pytest.fixture
def logs(caplog, capfd):
    caplog.set_level("INFO")
    return Logs(caplog, capfd)


def export_row(webelect, run_id):
    rows = webelect.rows(
        "select query_id, campaign_id, upload_key, status, targeted_sent, housemates_sent, skipped_purged,"
        " part_count, record_count, records_loaded, records_rejected, rejections, failure_reason, started_at,"
        " finished_at, add_to_group from webelect.sidekick_exports where run_id = %s", (run_id,))  # fmt: skip
    assert len(rows) <= 1
    return rows[0] if rows else None


# --------------------------------------------------------------------------- the DAG file


def test_dag_follows_the_house_rules(dag):
    assert dag.dag_id == "sidekick_export" and dag.schedule is None and dag.catchup is False
    assert dag.max_active_runs == 1 and set(dag.tags) >= {"sidekick", "export"}
    assert "transfer complete" in dag.doc_md and "Dry run" in dag.doc_md and "Add To Group" in dag.doc_md
    for name in ("query_id", "add_to_group", "dry_run"):
        param = dag.params.get_param(name)
        assert param.schema.get("title") and param.description, name
    assert dag.params.get_param("query_id").schema == {
        **dag.params.get_param("query_id").schema, "type": "integer", "minimum": 1}
    for task in dag.tasks:
        if task.is_teardown:
            continue
        assert task.retries >= 2 and task.retry_exponential_backoff > 0 and task.max_retry_delay, task.task_id
    assert dag.get_task("wait_for_sidekick").__class__.__name__ == "WaitForExportUpload"
    assert dag.get_task("clean_up").is_teardown
    assert {t.task_id for t in dag.tasks if t.is_setup} == {"select_voters", "build_parts"}


@pytest.mark.parametrize("conf, problem", [
    ({}, "query_id"),
    ({"query_id": 0}, "query_id"),
    ({"query_id": -3}, "query_id"),
    ({"query_id": "12"}, "query_id"),
    ({"query_id": 1.5}, "query_id"),
    ({"query_id": 1, "add_to_group": 7}, "add_to_group"),
    ({"query_id": 1, "add_to_group": "x" * 201}, "add_to_group"),
    ({"query_id": 1, "dry_run": "yes"}, "dry_run"),
])  # fmt: skip
def test_a_bad_param_is_refused_before_a_run_is_created(dag, airflow_db, conf, problem):
    from airflow.exceptions import ParamValidationError
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        before = session.query(DagRun).filter(DagRun.dag_id == "sidekick_export").count()
    with pytest.raises(ParamValidationError, match=problem):
        dag.test(run_conf=conf)
    with create_session() as session:
        assert session.query(DagRun).filter(DagRun.dag_id == "sidekick_export").count() == before


# --------------------------------------------------------------------------- a full export


def test_export_sends_each_voter_once_records_it_and_adds_to_group(
        webelect, factory, sidekick, airflow_db, small_parts, logs):
    c, account, token = linked_campaign(factory, sidekick)
    other = factory.enabled_campaign("Other campaign")
    h1, h2 = factory.household(c), factory.household(c)
    t1, mate1 = factory.voter(c, h1), factory.voter(c, h1)
    t2, t3 = factory.voter(c, h2), factory.voter(c, h2)  # t3 is targeted and t2's housemate: sent once, targeted
    purged = factory.voter(c, h2, status="purged")
    lonely = factory.voter(c, None)
    many = [factory.voter(c, factory.household(c)) for _ in range(7)]
    stranger = factory.voter(other, h1)  # another campaign's voter on our household id: never sent
    tag = factory.tag(c, "Yard Sign Requested", sidekick_name="Yard Sign")
    factory.tag_voter(t1, tag)
    factory.tag_voter(mate1, tag)
    factory.note(t1, 'Said "hi"\nbye 👋', created_by=factory.user(c, "jo@example.org"))
    factory.phone(t1, "+16145550123", rank_score=90)
    existing = factory.group(c, "Another group")
    factory.add_to_group(existing, t2)
    q = factory.query(c, [t1, t2, t3, purged, lonely, *many, stranger])
    logs.clear()

    run = load_dag().test(run_conf={"query_id": q, "add_to_group": "  Walk 12/04 "})
    got = states(run)
    assert str(run.state) == "success", got
    assert all(state == "success" for state, _ in got.values()), got

    [upload] = uploads(sidekick, account)  # exactly one upload for the run
    key = request.upload_key_for(run.dag_id, run.run_id)
    assert upload["upload_key"] == key and upload["status"] == "Completed"
    targeted = {t1, t2, t3, lonely, *many}
    arrived = received(sidekick, account, key)
    assert set(arrived) == targeted | {mate1}
    assert {v for v, r in arrived.items() if r["targeted"]} == targeted
    assert arrived[t1]["tags"] == ["Walk 12/04", "Yard Sign"]
    assert arrived[mate1]["tags"] == ["Yard Sign"]  # a housemate does not get the Add To Group tag
    assert arrived[t2]["tags"] == ["Another group", "Walk 12/04"]
    assert arrived[t1]["notes"][0]["body"] == 'Said "hi"\nbye 👋'
    assert arrived[t1]["notes"][0]["author_email"] == "jo@example.org"
    assert arrived[lonely]["address"] is None
    n = len(arrived)
    assert upload["record_count"] == n and upload["part_count"] == -(-n // 4)

    # Rule 6: one export row, complete; the group holds exactly the targeted voters sent.
    row = export_row(webelect, run.run_id)
    assert row[:11] == (q, c, key, "Completed", len(targeted), 1, 1, -(-n // 4), n, n, 0)
    assert row[12] is None and row[13] <= row[14] and row[15] == "Walk 12/04"
    group = webelect.scalar("select id from webelect.groups where campaign_id = %s and name = 'Walk 12/04'", (c,))
    members = {v for (v,) in webelect.rows("select voter_id from webelect.group_members where group_id = %s",
                                            (group,))}  # fmt: skip
    assert members == targeted

    # Rule 7: the report, as the last task's return value and in the log.
    report = xcom(run, "report")
    assert report["transfer"] == "complete" and report["status"] == "Completed"
    assert (report["targeted_sent"], report["housemates_sent"], report["skipped_purged"]) == (len(targeted), 1, 1)
    assert report["parts"] == -(-n // 4) and report["upload_key"] == key and report["rejections_by_reason"] == {}
    assert report["group_created"] is True and report["group_added"] == len(targeted)
    assert report["seconds"] > 0 and report["voters_per_second"] > 0
    log = logs.text()
    assert "transfer complete" in log and "Rejections by reason: none" in log
    # Secrets and personal data stay out of the logs.
    assert token not in log
    for secret in ('Said \\"hi\\"', "+16145550123", "jo@example.org"):
        assert secret not in log.replace("Jo.Author", ""), secret
    assert not run_folder(run).exists()  # cleaned up

    # Sidekick's rejections are counted by reason (a phone that is not E.164).
    factory.phone(many[0], "614-555-0100")
    run2 = load_dag().test(run_conf={"query_id": q, "add_to_group": "Walk 12/04"})
    assert str(run2.state) == "success"
    report2 = xcom(run2, "report")
    assert report2["rejections_by_reason"] == {"invalid_phone": 1} and report2["records_rejected"] == 1
    assert report2["group_created"] is False and report2["group_added"] == 0
    assert export_row(webelect, run2.run_id)[10:12] == (1, {"invalid_phone": 1})
    assert len(uploads(sidekick, account)) == 2  # a new run is a new upload


def test_dry_run_writes_nothing_anywhere_and_reports(webelect, factory, sidekick, airflow_db):
    c, account, _ = linked_campaign(factory, sidekick)
    h = factory.household(c)
    voters = [factory.voter(c, h), factory.voter(c, h), factory.voter(c, None)]
    q = factory.query(c, voters[:1] + voters[2:])
    before = sidekick.control.requests()
    last = before[-1]["id"] if before else 0
    tables = "groups, group_members, sidekick_exports"
    counts = [webelect.scalar(f"select count(*) from webelect.{t}") for t in tables.split(", ")]  # noqa: S608

    run = load_dag().test(run_conf={"query_id": q, "add_to_group": "Dry group", "dry_run": True})
    got = states(run)
    assert str(run.state) == "success", got
    for step in SIDEKICK_STEPS:
        assert got[step][0] == "skipped", step
    assert sidekick.control.requests(since_id=last) == []  # not one request reached Sidekick
    assert uploads(sidekick, account) == []
    assert [webelect.scalar(f"select count(*) from webelect.{t}") for t in tables.split(", ")] == counts  # noqa: S608
    report = xcom(run, "report")
    assert report["transfer"] == "dry run" and report["status"] == "not sent (dry run)"
    assert (report["targeted_sent"], report["housemates_sent"], report["records"], report["parts"]) == (2, 1, 3, 1)
    assert not run_folder(run).exists()


# --------------------------------------------------------------------------- rule 1: refusals


@pytest.mark.parametrize("case", ["no query", "disabled", "no token", "nothing to send"])
def test_refusals_end_the_run_before_anything_reaches_sidekick(webelect, factory, sidekick, airflow_db, logs,
                                                               case):  # fmt: skip
    c, account, _ = linked_campaign(factory, sidekick)
    v = factory.voter(c, status="purged" if case == "nothing to send" else "active")
    q = factory.query(c, [v])
    if case == "no query":
        q += 1000
    elif case == "disabled":
        webelect.admin.execute("update webelect.campaigns set sidekick_enabled = false where id = %s", (c,))
    elif case == "no token":
        webelect.admin.execute("update webelect.campaigns set sidekick_token = null where id = %s", (c,))
    before = sidekick.control.requests()
    last = before[-1]["id"] if before else 0
    logs.clear()

    run = load_dag().test(run_conf={"query_id": q})
    got = states(run)
    assert str(run.state) == "failed"
    assert got["check_request"] == ("failed", 1)  # failed at once: no retry
    assert all(state in ("upstream_failed", "skipped") for t, (state, _) in got.items() if t != "check_request")
    assert sidekick.control.requests(since_id=last) == []
    assert export_row(webelect, run.run_id) is None
    log = logs.text()
    expected = {"no query": f"Target query {q} does not exist", "disabled": "Send to Sidekick is turned off",
                "no token": "has no Sidekick token", "nothing to send": "has no voter to send"}[case]  # fmt: skip
    assert expected in log


# --------------------------------------------------------------------------- faults, failures, re-runs


def test_faults_mid_upload_still_end_in_one_complete_upload(webelect, factory, sidekick, airflow_db, small_parts):
    c, account, _ = linked_campaign(factory, sidekick)
    voters = [factory.voter(c, factory.household(c)) for _ in range(22)]  # 6 parts of at most 4
    q = factory.query(c, voters)
    control = sidekick.control
    control.add_fault("PUT", r"/parts/2$", status=503, count=2)
    control.add_fault("PUT", r"/parts/3$", status=429, retry_after=1)
    control.add_fault("PUT", r"/parts/5$", drop=True)
    control.add_fault("POST", r"/complete$", status=502)

    run = load_dag().test(run_conf={"query_id": q})
    assert str(run.state) == "success", states(run)
    [upload] = uploads(sidekick, account)
    assert upload["status"] == "Completed" and upload["part_count"] == 6 and upload["record_count"] == 22
    assert set(received(sidekick, account, upload["upload_key"])) == set(voters)
    puts = control.requests(account_id=account.id, method="PUT")
    seen = {(r["path"].rsplit("/", 1)[1], r["status"]) for r in puts}
    assert {("2", 503), ("3", 429), ("5", 0)} <= seen  # the faults did happen
    assert sorted(int(p) for p, s in seen if s == 201) == [1, 2, 3, 4, 5, 6]  # each part stored once
    assert xcom(run, "report")["records_loaded"] == 22


def test_a_failed_load_fails_the_run_with_sidekicks_reason_and_records_it(webelect, factory, sidekick, airflow_db,
                                                                          logs):  # fmt: skip
    c, account, _ = linked_campaign(factory, sidekick)
    q = factory.query(c, [factory.voter(c), factory.voter(c)])
    sidekick.control.fail_next_load(account.id, "file 12 has a bad header")
    logs.clear()

    run = load_dag().test(run_conf={"query_id": q, "add_to_group": "Never made"})
    got = states(run)
    assert str(run.state) == "failed"
    assert got["wait_for_sidekick"] == ("failed", 1)  # Sidekick's verdict: no retry
    for step in ("refresh_tag_cache", "record_export", "report"):
        assert got[step][0] == "upstream_failed", step
    assert got["clean_up"][0] == "success" and not run_folder(run).exists()  # teardown ran although the run failed
    row = export_row(webelect, run.run_id)
    assert row[3] == "Failed" and row[12] == "file 12 has a bad header" and row[14] is not None
    assert webelect.scalar("select count(*) from webelect.groups where name = 'Never made'") == 0
    assert "file 12 has a bad header" in logs.text()
    assert len(uploads(sidekick, account)) == 1


def test_rerunning_the_run_resumes_the_same_upload_without_double_counting(
        webelect, factory, sidekick, airflow_db, small_parts):
    c, account, _ = linked_campaign(factory, sidekick)
    voters = [factory.voter(c, factory.household(c)) for _ in range(20)]  # 5 parts
    q = factory.query(c, voters)
    control = sidekick.control
    # Sidekick refuses part 3 (a conflict: fail at once, no retry): the upload step fails.
    control.add_fault("PUT", r"/parts/3$", status=409, count=5)
    when = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    first = load_dag().test(run_conf={"query_id": q}, logical_date=when, run_after=when)
    got = states(first)
    assert str(first.state) == "failed" and got["upload_parts"][0] == "failed", got
    assert got["clean_up"][0] == "success" and not run_folder(first).exists()
    [upload] = uploads(sidekick, account)
    assert upload["status"] == "Receiving" and 3 not in upload["parts_received"]
    stored_before = set(upload["parts_received"])
    assert stored_before  # some parts made it
    assert export_row(webelect, first.run_id)[3] == "Failed"
    assert "upload_parts" in export_row(webelect, first.run_id)[12]
    control.clear_faults()
    last = control.requests()[-1]["id"]

    # The same run again (cleared from the start): same run id, so the same upload key.
    second = load_dag().test(run_conf={"query_id": q}, logical_date=when, run_after=when)
    assert second.run_id == first.run_id
    assert str(second.state) == "success", states(second)
    [upload] = uploads(sidekick, account)  # still one upload
    assert upload["status"] == "Completed" and upload["record_count"] == 20 and upload["part_count"] == 5
    assert set(received(sidekick, account, upload["upload_key"])) == set(voters)
    resent = {int(r["path"].rsplit("/", 1)[1]) for r in control.requests(since_id=last, method="PUT")}
    assert resent == {1, 2, 3, 4, 5} - stored_before  # only the missing parts were sent again
    row = export_row(webelect, second.run_id)
    assert row[3] == "Completed" and row[8] == 20 and row[12] is None
    report = xcom(second, "report")
    assert report["records"] == 20 and report["records_loaded"] == 20

    # A third time after it completed: nothing is sent, the run just follows the upload.
    last = control.requests()[-1]["id"]
    third = load_dag().test(run_conf={"query_id": q}, logical_date=when, run_after=when)
    assert str(third.state) == "success"
    assert control.requests(since_id=last, method="PUT") == []
    assert len(uploads(sidekick, account)) == 1
    assert webelect.scalar("select count(*) from webelect.sidekick_exports where run_id = %s", (third.run_id,)) == 1
