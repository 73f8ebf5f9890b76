"""The export's steps one by one: params, the run's upload key, resuming an upload, the run folder.

The upload tests talk to the simulator over real HTTP with the package's SidekickHook, and
build real parts from PostgreSQL into a real run folder (file:// ObjectStoragePath).
"""

from __future__ import annotations

import re
import secrets

import psycopg
import pytest

from webelect_sidekick.errors import UserFacingError
from webelect_sidekick.export import build, records, request, storage, upload, voters
from webelect_sidekick.sidekick.hook import SidekickHook

# --------------------------------------------------------------------------- params and keys


def test_params_are_checked_again_with_one_clear_sentence():
    assert request.read_params({"query_id": 5, "add_to_group": None, "dry_run": False}) == (5, None, False)
    assert request.read_params({"query_id": 5, "add_to_group": "  Walk 12/04 ", "dry_run": True}) == (
        5, "Walk 12/04", True)
    assert request.read_params({"query_id": 5, "add_to_group": "   "}) == (5, None, False)  # blank = no group
    for bad, words in [({"query_id": 0}, "query_id"), ({"query_id": "5"}, "query_id"), ({"query_id": True}, "query_id"),
                       ({}, "query_id"), ({"query_id": 5, "dry_run": "no"}, "dry_run"),
                       ({"query_id": 5, "add_to_group": 12}, "add_to_group"),
                       ({"query_id": 5, "add_to_group": "two\nlines"}, "single line"),
                       ({"query_id": 5, "add_to_group": "x" * 201}, "at most 200")]:  # fmt: skip
        with pytest.raises(UserFacingError, match=words) as caught:
            request.read_params(bad)
        assert "\n" not in str(caught.value)


def test_upload_key_is_fixed_by_the_run_and_fits_the_contract():
    key = request.upload_key_for("sidekick_export", "manual__2026-12-04T09:00:00+00:00")
    assert key == request.upload_key_for("sidekick_export", "manual__2026-12-04T09:00:00+00:00")
    assert key != request.upload_key_for("sidekick_export", "manual__2026-12-04T09:00:01+00:00")
    assert re.fullmatch(r"[A-Za-z0-9._-]{8,128}", key)


def test_dry_run_applies_no_migration(webelect, factory, sidekick, airflow_db, monkeypatch):
    from tests.test_export_dag import load_dag
    from webelect_sidekick.export import tasks

    calls = []
    monkeypatch.setattr(tasks.migrations, "apply_migrations", lambda conn: calls.append(conn))
    c = factory.enabled_campaign()
    q = factory.query(c, [factory.voter(c)])
    run = load_dag().test(run_conf={"query_id": q, "dry_run": True})
    assert str(run.state) == "success" and calls == []
    run = load_dag().test(run_conf={"query_id": q, "dry_run": False})
    assert len(calls) == 1  # a real run applies them first


# --------------------------------------------------------------------------- resuming an upload


@pytest.fixture
def built(webelect, factory, tmp_path, monkeypatch):
    """A campaign of 10 voters, its list and 4 parts (of at most 3 records) in a run folder."""
    monkeypatch.setenv(storage.STORAGE_ENV, f"file://{tmp_path}")
    token = f"tok-{secrets.token_urlsafe(32)}"
    c = factory.enabled_campaign("Resume", token=token)
    ids = [factory.voter(c, factory.household(c)) for _ in range(10)]
    q = factory.query(c, ids)
    key = request.upload_key_for("sidekick_export", f"test-{secrets.token_hex(4)}")
    folder = storage.run_folder(key)
    with psycopg.connect(webelect.app_url) as conn:
        storage.write_voters(folder, voters.select_voters(conn, campaign_id=c, query_id=q).voters)

    def connect():
        conn = psycopg.connect(webelect.app_url, autocommit=True)
        for setting in records.SESSION_SETTINGS:
            conn.execute(setting)
        return conn

    manifest = build.build_parts(folder, campaign_id=c, add_to_group=None, chunk_voters=6, part_records=3,
                                 connect=connect)  # fmt: skip
    assert [p["records"] for p in manifest["parts"]] == [3, 3, 3, 1]
    return {"campaign_id": c, "token": token, "key": key, "folder": folder, "manifest": manifest, "ids": ids}


def test_a_cleared_upload_step_sends_only_what_sidekick_lacks(built, sidekick):
    account = sidekick.register("Resume", token=built["token"])
    hook = SidekickHook("campaign Resume", campaign_id=built["campaign_id"])
    token, key, folder, manifest = built["token"], built["key"], built["folder"], built["manifest"]
    try:
        assert upload.resume_state(hook, token, key) == upload.Resume(None, frozenset())
        # A first try stored parts 1 and 3, then died.
        for n in (1, 3):
            assert hook.put_part(token, key, n, storage.read_part(folder, n))["created"] is True
        state = upload.resume_state(hook, token, key)
        assert state.status == "Receiving" and state.received == {1, 3} and not state.completed

        stats = upload.send_missing(hook, token, key, folder, manifest, state)
        assert (stats.created, stats.already, stats.sent) == (2, 2, {2, 4})
        # Cleared again before completing: Sidekick has everything, nothing is sent twice.
        last = sidekick.control.requests()[-1]["id"]
        again = upload.send_missing(hook, token, key, folder, manifest, upload.resume_state(hook, token, key))
        assert (again.created, again.already) == (0, 4)
        assert sidekick.control.requests(since_id=last, method="PUT") == []
        # A part sent twice anyway (an eager send racing a retry) answers 200 and counts once.
        assert hook.put_part(token, key, 2, storage.read_part(folder, 2))["created"] is False

        hook.complete_upload(token, key, name="resume test", part_count=4, record_count=10)
        done = upload.resume_state(hook, token, key)
        assert done.completed  # completed: the next try sends nothing, it just follows the upload
        final = sidekick.control.wait_for_status(account.id, key)
        assert final["status"] == "Completed" and final["record_count"] == 10
        got = [r["webelect_voter_id"] for r in sidekick.control.records(account.id, key)]
        assert sorted(got) == sorted(built["ids"]) and len(got) == len(set(got))
    finally:
        hook.close()


def test_the_eager_sender_skips_received_parts_and_keeps_the_first_error(built, sidekick):
    sidekick.register("Resume", token=built["token"])
    hook = SidekickHook("campaign Resume", campaign_id=built["campaign_id"])
    token, key, folder = built["token"], built["key"], built["folder"]
    try:
        hook.put_part(token, key, 2, storage.read_part(folder, 2))
        sender = upload.PartSender(hook, token, key, skip={2}, threads=2, queue_size=1)
        for n in (1, 2, 3):
            sender.put(n, storage.read_part(folder, n))
        stats = sender.close()
        assert sender.error is None and (stats.created, stats.already, stats.sent) == (2, 1, {1, 3})
        # Sidekick refuses (403: the integration was turned off): the sender stops and keeps the error.
        sidekick.control.add_fault("PUT", r"/parts/4$", status=403)
        sender = upload.PartSender(hook, token, key, threads=1)
        sender.put(4, storage.read_part(folder, 4))
        sender.put(1, storage.read_part(folder, 1))
        sender.close()
        assert isinstance(sender.error, UserFacingError) and "403" in str(sender.error)
    finally:
        hook.close()


def test_a_part_file_that_changed_is_refused(built, sidekick):
    sidekick.register("Resume", token=built["token"])
    storage.write_part(built["folder"], 2, b"not the part that was built")
    hook = SidekickHook("campaign Resume", campaign_id=built["campaign_id"])
    try:
        with pytest.raises(UserFacingError, match="Part 2 in the run's folder is not the part that was built"):
            upload.send_missing(hook, built["token"], built["key"], built["folder"], built["manifest"],
                                upload.Resume(None, frozenset()))  # fmt: skip
    finally:
        hook.close()


def test_a_run_folder_that_is_gone_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv(storage.STORAGE_ENV, f"file://{tmp_path}")
    folder = storage.run_folder("webelect-export-gone")
    with pytest.raises(UserFacingError, match="clear the run from 'select_voters' on"):
        storage.read_voters(folder)
    assert storage.remove(folder) is False
    storage.write_manifest(folder, {"parts": []})
    assert storage.remove(folder) is True and not folder.exists()
