"""SidekickHook against the simulator over real HTTP: every endpoint and every row of the error table."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from tests.sidekick_fixtures import free_port, gzip_ndjson, ndjson_lines, voter_record
from webelect_sidekick.errors import TransientError, UserFacingError
from webelect_sidekick.sidekick.hook import (
    CursorExpired,
    SidekickAuthError,
    SidekickBadResponse,
    SidekickConfigError,
    SidekickConflict,
    SidekickError,
    SidekickHook,
    SidekickIntegrationDisabled,
    SidekickRejected,
    SidekickUnauthorized,
    SidekickUnavailable,
    UploadNotFound,
)
from webelect_sidekick.sidekick.parts import gzip_parts

LABEL = "campaign 3 (Smith for Senate)"


def make_hook(**overrides) -> SidekickHook:
    options = {"campaign_id": 3, "backoff_base": 0.01, "backoff_cap": 0.05, "read_timeout": 10.0}
    return SidekickHook(LABEL, **(options | overrides))


@pytest.fixture
def hook(sidekick):
    h = make_hook()
    yield h
    h.close()


def requests_to(sidekick, path: str, account_id: int | None = None) -> list[int]:
    """Statuses of the logged requests whose path matches (0 = dropped connection)."""
    return [r["status"] for r in sidekick.control.requests(account_id=account_id, path=path)]


def assert_one_sentence(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and LABEL in text, text
    return text


def wait_final(hook, token, key, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        upload = hook.get_upload(token, key)
        if upload["status"] in ("Completed", "Failed"):
            return upload
        time.sleep(0.05)
    raise AssertionError(f"{key} did not finish")


# --------------------------------------------------------------------------- endpoints


def test_an_upload_end_to_end(sidekick, sidekick_account, hook):
    token, key = sidekick_account.token, "run-2026-12-04.q7"
    records = [voter_record(i) for i in range(25)]
    parts = list(gzip_parts(ndjson_lines(records), max_records=10))
    assert hook.get_upload(token, key) is None  # a resume starts here: 404 → start the upload
    answers = [hook.put_part(token, key, n, part.body) for n, part in enumerate(parts, 1)]
    assert [a["created"] for a in answers] == [True, True, True]
    assert [a["records"] for a in answers] == [10, 10, 5]
    assert [a["sha256"] for a in answers] == [p.sha256 for p in parts]
    again = hook.put_part(token, key, 1, parts[0].body)  # a retried part: Sidekick already has it
    assert again["created"] is False and again["sha256"] == parts[0].sha256
    receiving = hook.get_upload(token, key)
    assert (receiving["status"], receiving["parts_received"]) == ("Receiving", [1, 2, 3])
    done = hook.complete_upload(token, key, name="Walk list", part_count=3, record_count=25)
    assert done == {"upload_key": key, "status": "Docked for Loading"}
    repeat = hook.complete_upload(token, key, name="Walk list", part_count=3, record_count=25)
    assert repeat["upload_key"] == key
    final = wait_final(hook, token, key)
    assert (final["status"], final["records_loaded"], final["name"]) == ("Completed", 25, "Walk list")
    assert [u["upload_key"] for u in hook.list_uploads(token)] == [key]
    hook.refresh_tags(token)
    assert sidekick.control.account(sidekick_account.id)["tag_refreshes"] == 1
    assert sidekick.control.records(sidekick_account.id, key) == records


def test_list_uploads_is_newest_first_and_limited(sidekick, sidekick_account, hook):
    token = sidekick_account.token
    for key in ("history-1", "history-2", "history-3"):
        hook.put_part(token, key, 1, gzip_ndjson([voter_record(1)]))
    assert [u["upload_key"] for u in hook.list_uploads(token, limit=2)] == ["history-3", "history-2"]


def test_paging_through_25000_changes_with_redelivered_duplicates(sidekick, sidekick_account, hook):
    changes = [
        {"type": ("tag", "note", "phone", "email")[i % 4], "tag": "Yard Sign", "voter": {"webelect_voter_id": i,
         "sos_voter_id": f"OH{i:010d}"}, "user": {"email": "pat@example.org", "first_name": "Pat", "last_name": "Lee"}}
        for i in range(25_000)
    ]  # fmt: skip
    sidekick.control.add_changes(sidekick_account.id, changes)
    sidekick.control.set_redelivery(sidekick_account.id, 0.3)
    pages = list(hook.iter_change_pages(sidekick_account.token, None, limit=5000))
    ids = [c["id"] for page in pages for c in page["changes"]]
    assert len(set(ids)) == 25_000
    assert len(ids) > 25_000  # some came twice: the import must dedupe by id
    assert [p["has_more"] for p in pages] == [True] * (len(pages) - 1) + [False]
    for page in pages:
        seqs = [c["seq"] for c in page["changes"]]
        assert seqs == sorted(seqs) and len(seqs) <= 5000
    # The last page's cursor is the one kept for the next night: it brings only what is newer (or redelivered).
    new = sidekick.control.add_changes(sidekick_account.id, changes[:5])
    tonight = list(hook.iter_change_pages(sidekick_account.token, pages[-1]["next_cursor"]))
    seen_tonight = {c["id"] for page in tonight for c in page["changes"]}
    assert {c["id"] for c in new} <= seen_tonight and len(seen_tonight - set(ids)) == 5


def test_no_changes_is_one_empty_page(sidekick, sidekick_account, hook):
    pages = list(hook.iter_change_pages(sidekick_account.token, None))
    assert len(pages) == 1 and pages[0]["changes"] == [] and pages[0]["has_more"] is False
    assert isinstance(pages[0]["next_cursor"], str) and pages[0]["next_cursor"]


# --------------------------------------------------------------------------- errors the server makes


def test_wrong_token_is_401_once_with_the_rotate_instruction(sidekick, hook):
    before = max([r["id"] for r in sidekick.control.requests()], default=0)
    with pytest.raises(SidekickUnauthorized) as info:
        hook.list_uploads("not-the-token-anyone-pasted")
    text = assert_one_sentence(info.value)
    assert "rotate --campaign 3" in text and "paste the new token into Sidekick" in text
    assert isinstance(info.value, SidekickAuthError) and isinstance(info.value, UserFacingError)
    assert [r["status"] for r in sidekick.control.requests(since_id=before)] == [401]


def test_disabled_integration_is_403_after_exactly_one_request(sidekick, sidekick_account, hook):
    sidekick.control.set_integration(sidekick_account.id, False)
    with pytest.raises(SidekickIntegrationDisabled) as info:
        hook.list_uploads(sidekick_account.token)
    assert "turned off" in assert_one_sentence(info.value)
    assert requests_to(sidekick, "^/v1/uploads$", sidekick_account.id) == [403]


def test_complete_of_an_unknown_upload_is_404_once(sidekick, sidekick_account, hook):
    with pytest.raises(UploadNotFound) as info:
        hook.complete_upload(sidekick_account.token, "never-sent-key", name="L", part_count=1, record_count=1)
    assert "never-sent-key" in assert_one_sentence(info.value)
    assert requests_to(sidekick, "never-sent-key", sidekick_account.id) == [404]


def test_a_part_with_other_bytes_is_409_once(sidekick, sidekick_account, hook):
    token = sidekick_account.token
    hook.put_part(token, "conflict-key", 1, gzip_ndjson([voter_record(1)]))
    with pytest.raises(SidekickConflict) as info:
        hook.put_part(token, "conflict-key", 1, gzip_ndjson([voter_record(2)]))
    assert "new export run" in assert_one_sentence(info.value)
    assert requests_to(sidekick, "conflict-key", sidekick_account.id) == [201, 409]


def test_an_expired_cursor_is_410_and_says_how_to_re_pull(sidekick, sidekick_account, hook):
    old = sidekick.control.mint_cursor(sidekick_account.id, age_days=31)
    with pytest.raises(CursorExpired) as info:
        list(hook.iter_change_pages(sidekick_account.token, old))
    text = assert_one_sentence(info.value)
    assert "full re-pull" in text
    assert "reset the campaign's Sidekick cursor and re-run to re-pull everything Sidekick keeps" in text
    assert requests_to(sidekick, "^/v1/changes$", sidekick_account.id) == [410]


def test_too_many_records_is_413_once_with_sidekicks_message(sidekick, sidekick_account, hook):
    body = gzip_ndjson([voter_record(i) for i in range(10_001)])
    with pytest.raises(SidekickRejected) as info:
        hook.put_part(sidekick_account.token, "big-part-key", 1, body)
    assert info.value.status == 413 and "10001 records" in assert_one_sentence(info.value)
    assert requests_to(sidekick, "big-part-key", sidekick_account.id) == [413]


def test_a_body_that_is_not_gzip_is_422_once_with_sidekicks_message(sidekick, sidekick_account, hook):
    with pytest.raises(SidekickRejected) as info:
        hook.put_part(sidekick_account.token, "not-gzip-key", 1, b'{"plain": "json"}\n')
    assert info.value.status == 422 and "not gzip" in assert_one_sentence(info.value)
    assert requests_to(sidekick, "not-gzip-key", sidekick_account.id) == [422]


@pytest.mark.parametrize(
    "status,kind",
    [(400, SidekickRejected), (401, SidekickUnauthorized), (403, SidekickIntegrationDisabled),
     (404, UploadNotFound), (405, SidekickRejected), (409, SidekickConflict), (410, CursorExpired),
     (413, SidekickRejected), (422, SidekickRejected), (501, SidekickRejected)],
)  # fmt: skip
def test_every_non_retryable_status_fails_after_exactly_one_request(sidekick, sidekick_account, hook, status, kind):
    sidekick.control.add_fault("POST", "/complete$", status=status, count=5)
    with pytest.raises(kind) as info:
        hook.complete_upload(sidekick_account.token, "injected-key", name="L", part_count=1, record_count=1)
    assert isinstance(info.value, SidekickError) and info.value.status == status
    assert_one_sentence(info.value)
    assert requests_to(sidekick, "injected-key/complete", sidekick_account.id) == [status]


def test_an_answer_that_is_not_json_is_a_clear_error(sidekick, sidekick_account, hook):
    sidekick.control.add_fault("GET", "^/v1/uploads$", status=200, body="<html>Please log in</html>")
    with pytest.raises(SidekickBadResponse) as info:
        hook.list_uploads(sidekick_account.token)
    assert "points at the Sidekick API" in assert_one_sentence(info.value)
    assert requests_to(sidekick, "^/v1/uploads$", sidekick_account.id) == [200]


def test_tag_refresh_accepts_any_2xx_body_the_contract_leaves_open(sidekick, sidekick_account, hook):
    sidekick.control.add_fault("POST", "^/v1/tags/refresh$", status=202, body="Accepted", content_type="text/plain")
    hook.refresh_tags(sidekick_account.token)
    assert requests_to(sidekick, "^/v1/tags/refresh$", sidekick_account.id) == [202]


# --------------------------------------------------------------------------- transient errors


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_until_they_pass(sidekick, sidekick_account, hook, status):
    sidekick.control.add_fault("PUT", "/parts/1$", status=status, count=2)
    answer = hook.put_part(sidekick_account.token, "retry-key-1", 1, gzip_ndjson([voter_record(1)]))
    assert answer["created"] is True
    assert requests_to(sidekick, "retry-key-1", sidekick_account.id) == [status, status, 201]


def test_a_proxy_error_page_is_retried_like_any_502(sidekick, sidekick_account, hook):
    sidekick.control.add_fault("GET", "^/v1/uploads$", status=502, body="<html>Bad gateway</html>")
    assert hook.list_uploads(sidekick_account.token) == []
    assert requests_to(sidekick, "^/v1/uploads$", sidekick_account.id) == [502, 200]


def test_a_dropped_connection_is_retried(sidekick, sidekick_account, hook):
    sidekick.control.add_fault("PUT", "/parts/", drop=True, count=2)
    answer = hook.put_part(sidekick_account.token, "dropped-key", 1, gzip_ndjson([voter_record(1)]))
    assert answer["created"] is True
    assert requests_to(sidekick, "dropped-key", sidekick_account.id) == [0, 0, 201]


def test_a_timeout_is_retried(sidekick, sidekick_account, caplog):
    hook = make_hook(read_timeout=0.3)
    sidekick.control.add_fault("GET", "^/v1/uploads$", delay=1.0)
    with caplog.at_level(logging.WARNING, logger="webelect_sidekick"):
        assert hook.list_uploads(sidekick_account.token) == []
    assert "no answer within 0.3 s" in caplog.text


def test_a_part_retried_after_a_timeout_is_stored_once(sidekick, sidekick_account):
    hook = make_hook(read_timeout=0.3)
    records = [voter_record(i) for i in range(3)]
    sidekick.control.add_fault("PUT", "/parts/1$", delay=1.0)
    answer = hook.put_part(sidekick_account.token, "slow-part-key", 1, gzip_ndjson(records))
    assert answer["records"] == 3
    time.sleep(1.0)  # let the first, abandoned attempt finish on the server
    assert [p["part_number"] for p in sidekick.control.parts(sidekick_account.id, "slow-part-key")] == [1]
    assert sidekick.control.records(sidekick_account.id, "slow-part-key") == records
    assert len(requests_to(sidekick, "slow-part-key", sidekick_account.id)) == 2


def test_retries_are_bounded_and_end_in_a_transient_error(sidekick, sidekick_account):
    hook = make_hook(max_attempts=4)
    sidekick.control.add_fault("GET", "^/v1/uploads$", status=503, count=10)
    with pytest.raises(SidekickUnavailable) as info:
        hook.list_uploads(sidekick_account.token)
    assert isinstance(info.value, TransientError) and not isinstance(info.value, UserFacingError)
    text = assert_one_sentence(info.value)
    assert f"Sidekick at {sidekick.url} did not answer" in text and "after 4 attempts (HTTP 503)" in text
    assert requests_to(sidekick, "^/v1/uploads$", sidekick_account.id) == [503] * 4


def test_an_unreachable_sidekick_is_a_transient_error_naming_the_url(sidekick, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AIRFLOW_CONN_SIDEKICK_DEFAULT", url)
    with pytest.raises(SidekickUnavailable) as info:
        make_hook(max_attempts=3).list_uploads("some-token")
    assert f"Sidekick at {url} did not answer" in str(info.value)
    assert "after 3 attempts (connection refused)" in str(info.value)


def test_a_429_waits_retry_after_then_retries(sidekick, sidekick_account, hook):
    sidekick.control.add_fault("GET", "^/v1/uploads$", status=429, retry_after=1)
    started = time.monotonic()
    assert hook.list_uploads(sidekick_account.token) == []
    assert time.monotonic() - started >= 0.95
    assert requests_to(sidekick, "^/v1/uploads$", sidekick_account.id) == [429, 200]


def test_an_unpaced_client_meets_the_rate_limit_and_still_gets_through(sidekick, sidekick_account):
    hook = make_hook(requests_per_second=0)
    for _ in range(15):
        assert hook.list_uploads(sidekick_account.token) == []
    statuses = requests_to(sidekick, "^/v1/uploads$", sidekick_account.id)
    assert 429 in statuses and statuses.count(200) == 15


def test_the_paced_hook_never_meets_the_rate_limit_even_from_threads(sidekick, sidekick_account, hook):
    token = sidekick_account.token
    body = gzip_ndjson([voter_record(1)])
    errors: list[BaseException] = []

    def send(first: int) -> None:
        try:
            for n in range(first, first + 4):
                assert hook.put_part(token, "threads-key", n, body)["created"] is True
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(1 + 4 * i,)) for i in range(4)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert hook.get_upload(token, "threads-key")["parts_received"] == list(range(1, 17))
    statuses = requests_to(sidekick, "threads-key", sidekick_account.id)
    assert statuses.count(201) == 16 and 429 not in statuses
    assert time.monotonic() - started >= 1.4  # 16 requests paced at 10 per second


# --------------------------------------------------------------------------- secrets and configuration


def test_the_token_never_reaches_logs_exceptions_or_urls(sidekick, sidekick_account, caplog):
    token = sidekick_account.token
    wrong = "wrong-" + token[::-1]
    hook = make_hook()
    sidekick.control.add_fault("GET", "^/v1/uploads$", status=503)
    sidekick.control.add_fault("GET", "^/v1/uploads$", status=429, retry_after=0)
    sidekick.control.add_fault("PUT", "/parts/", drop=True)
    raised: list[BaseException] = []
    with caplog.at_level(logging.DEBUG):
        hook.list_uploads(token)
        hook.put_part(token, "secret-test-key", 1, gzip_ndjson([voter_record(1)]))
        list(hook.iter_change_pages(token, None))
        try:
            hook.list_uploads(wrong)
        except UserFacingError as exc:
            raised.append(exc)
        sidekick.control.add_fault("GET", "^/v1/uploads$", status=503, count=2)
        try:
            make_hook(max_attempts=2).list_uploads(token)
        except TransientError as exc:
            raised.append(exc)
    assert len(raised) == 2 and "HTTP 503" in caplog.text  # the retries were logged ...
    for secret in (token, wrong):  # ... and no token anywhere
        assert secret not in caplog.text
        assert all(secret not in str(e) and secret not in repr(e) for e in raised)
        assert secret not in repr(hook)
        assert all(secret not in r["path"] + r["query"] for r in sidekick.control.requests())


def test_a_missing_connection_says_how_to_define_it(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_SIDEKICK_DEFAULT", raising=False)
    with pytest.raises(SidekickConfigError, match="AIRFLOW_CONN_SIDEKICK_DEFAULT"):
        make_hook().list_uploads("some-token")


def test_a_connection_url_with_a_path_keeps_the_path(sidekick, sidekick_account, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SIDEKICK_DEFAULT", sidekick.url + "/api")
    hook = make_hook()
    with pytest.raises(SidekickRejected) as info:  # the simulator serves no /api prefix: a clear 404
        hook.list_uploads(sidekick_account.token)
    assert hook.base_url == sidekick.url + "/api"
    assert "points at the Sidekick API" in str(info.value)


def test_bad_arguments_are_refused_before_any_request(sidekick, sidekick_account, hook):
    with pytest.raises(ValueError):
        hook.put_part(sidekick_account.token, "short", 1, b"")
    with pytest.raises(ValueError):
        hook.put_part(sidekick_account.token, "fine-key-1", 10_001, b"")
    with pytest.raises(ValueError):
        list(hook.iter_change_pages(sidekick_account.token, None, limit=5001))
    with pytest.raises(SidekickUnauthorized, match="has no Sidekick token"):
        hook.list_uploads("")
    assert sidekick.control.requests(account_id=sidekick_account.id) == []
