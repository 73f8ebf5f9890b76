"""The simulator enforces docs/spec/sidekick-api.md strictly: direct HTTP, no package code involved."""

from __future__ import annotations

import gzip
import os
import re
import time
import zlib
from urllib.parse import quote

import httpx
import pytest

from tests.sidekick_fixtures import gzip_ndjson, voter_record

TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
NDJSON = {"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}


@pytest.fixture
def fast(sidekick):
    """Load at once, no rate limit: these tests are about the rules, not the pace."""
    sidekick.control.settings(dock_seconds=0, min_load_seconds=0, rate_limit=0)
    return sidekick


@pytest.fixture
def api(fast, sidekick_account):
    with httpx.Client(
        base_url=fast.url, headers={"Authorization": f"Bearer {sidekick_account.token}"}, timeout=30
    ) as client:
        yield client


def put(api, key: str, part: int, body: bytes, headers: dict | None = None) -> httpx.Response:
    return api.put(f"/v1/uploads/{key}/parts/{part}", content=body, headers=headers or NDJSON)


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert re.fullmatch(r"[a-z][a-z0-9_]*", body["error"]["code"])
    return body["error"]["code"]


def wait_final(api, key: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        upload = api.get(f"/v1/uploads/{key}").json()
        if upload["status"] in ("Completed", "Failed"):
            return upload
        time.sleep(0.03)
    raise AssertionError(f"upload {key} did not finish: {upload}")


def upload(api, key: str, parts: list[list[dict]], name: str = "List") -> dict:
    for n, records in enumerate(parts, 1):
        assert put(api, key, n, gzip_ndjson(records)).status_code == 201
    total = sum(map(len, parts))
    response = api.post(f"/v1/uploads/{key}/complete", json={"name": name, "part_count": len(parts),
                                                               "record_count": total})  # fmt: skip
    assert response.status_code == 202, response.text
    return wait_final(api, key)


# --------------------------------------------------------------------------- auth


def test_missing_or_wrong_token_is_401_and_disabled_integration_is_403(fast, sidekick_account):
    with httpx.Client(base_url=fast.url) as raw:
        assert raw.get("/v1/uploads").status_code == 401
        assert error_code(raw.get("/v1/uploads")) == "missing_token"
        for header in ("Bearer wrong-token", "Basic " + sidekick_account.token, "Bearer", "token-only"):
            response = raw.get("/v1/uploads", headers={"Authorization": header})
            assert response.status_code == 401, header
            error_code(response)
        fast.control.set_integration(sidekick_account.id, False)
        response = raw.get("/v1/uploads", headers={"Authorization": f"Bearer {sidekick_account.token}"})
        assert response.status_code == 403
        assert error_code(response) == "integration_disabled"


def test_unknown_paths_and_methods_answer_in_the_error_shape(api):
    assert api.get("/v1/nothing").status_code == 404
    error_code(api.get("/v1/nothing"))
    response = api.delete("/v1/uploads")
    assert response.status_code == 405
    error_code(response)


# --------------------------------------------------------------------------- PUT part


@pytest.mark.parametrize("key", ["short7c", "x" * 129, "has space1", "semi;colon"])
def test_upload_keys_outside_the_pattern_are_422(api, key):
    response = put(api, quote(key, safe=""), 1, gzip_ndjson([voter_record(1)]))
    assert response.status_code == 422
    assert error_code(response) == "invalid_upload_key"


def test_upload_keys_of_8_and_128_characters_are_accepted(api):
    for key in ("a.b_c-D8", "K" * 128):
        assert put(api, key, 1, gzip_ndjson([voter_record(1)])).status_code == 201


@pytest.mark.parametrize("part", ["0", "10001", "x", "-1"])
def test_part_numbers_outside_1_to_10000_are_422(api, part):
    response = put(api, "parts-range", part, gzip_ndjson([voter_record(1)]))
    assert response.status_code == 422
    assert error_code(response) == "invalid_part_number"


def test_part_10000_is_accepted(api):
    assert put(api, "parts-10000", 10000, gzip_ndjson([voter_record(1)])).status_code == 201


@pytest.mark.parametrize(
    "headers,code",
    [
        ({"Content-Encoding": "gzip"}, "invalid_content_type"),
        ({"Content-Type": "application/json", "Content-Encoding": "gzip"}, "invalid_content_type"),
        ({"Content-Type": "application/x-ndjson"}, "invalid_content_encoding"),
    ],
)
def test_content_type_and_encoding_are_required(api, headers, code):
    response = put(api, "headers-key", 1, gzip_ndjson([voter_record(1)]), headers)
    assert response.status_code == 422
    assert error_code(response) == code


def test_more_than_10000_records_is_413(api):
    response = put(api, "too-many-records", 1, gzip_ndjson([voter_record(i) for i in range(10_001)]))
    assert response.status_code == 413
    assert error_code(response) == "too_many_records"


def test_exactly_10000_records_is_accepted(api):
    response = put(api, "exactly-10000", 1, gzip_ndjson([voter_record(i) for i in range(10_000)]))
    assert response.status_code == 201
    assert response.json()["records"] == 10_000


def test_more_than_16_mib_compressed_is_413(api):
    response = put(api, "too-many-bytes", 1, os.urandom(16 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert error_code(response) == "part_too_large"


@pytest.mark.parametrize(
    "body",
    [
        b"not gzip at all",
        gzip.compress(b"")[:-4],
        zlib.compress(b'{"a":1}\n', 1, wbits=31)[:-3],
        zlib.compress(b"", 1, wbits=31),
        zlib.compress(b'{"a":1}\nnot json\n', 1, wbits=31),
        zlib.compress(b'{"a":1}\n\n{"b":2}\n', 1, wbits=31),
        zlib.compress(b'{"a":1}\n{"b":2}', 1, wbits=31),
        zlib.compress(b'{"a":1}\n[1,2]\n', 1, wbits=31),
        zlib.compress(b'{"a":1}{"b":2}\n', 1, wbits=31),
        zlib.compress(b'{"a":1},{"b":2}\n', 1, wbits=31),
        zlib.compress(b'{"a":"\xff"}\n', 1, wbits=31),
        zlib.compress(b'{"a":1}\r\n', 1, wbits=31),
        zlib.compress(b'{"a":[1\n2]}\n', 1, wbits=31),
    ],
    ids=["not-gzip", "truncated-empty", "truncated", "no-records", "not-json", "blank-line", "no-final-newline",
         "array-line", "two-objects", "comma-objects", "bad-utf8", "crlf", "object-across-lines"],  # fmt: skip
)
def test_bodies_that_are_not_gzip_ndjson_objects_are_422(api, body):
    response = put(api, "bad-bodies", 1, body)
    assert response.status_code == 422, response.text
    assert error_code(response) in ("invalid_gzip", "invalid_ndjson")
    assert api.get("/v1/uploads/bad-bodies").status_code == 404  # nothing was stored


def test_same_bytes_again_is_200_other_bytes_409_and_after_completion_409(api):
    first = gzip_ndjson([voter_record(1)])
    created = put(api, "idempotent", 1, first)
    assert created.status_code == 201
    assert set(created.json()) == {"upload_key", "part_number", "records", "sha256"}
    again = put(api, "idempotent", 1, first)
    assert again.status_code == 200
    assert again.json() == created.json()
    other = put(api, "idempotent", 1, gzip_ndjson([voter_record(2)]))
    assert other.status_code == 409
    assert error_code(other) == "part_conflict"
    assert api.post("/v1/uploads/idempotent/complete",
                    json={"name": "L", "part_count": 1, "record_count": 1}).status_code == 202  # fmt: skip
    for body, part in ((first, 1), (first, 2)):
        late = put(api, "idempotent", part, body)
        assert late.status_code == 409
        assert error_code(late) == "upload_completed"


# --------------------------------------------------------------------------- complete


def test_complete_checks_parts_and_counts(api):
    for n in (1, 2, 4):
        assert put(api, "complete-me", n, gzip_ndjson([voter_record(n * 10 + i) for i in range(3)])).status_code == 201
    url = "/v1/uploads/complete-me/complete"
    missing = api.post(url, json={"name": "L", "part_count": 4, "record_count": 12})
    assert missing.status_code == 422 and error_code(missing) == "missing_parts"
    assert "3" in missing.json()["error"]["message"]
    assert put(api, "complete-me", 3, gzip_ndjson([voter_record(99)])).status_code == 201
    wrong_count = api.post(url, json={"name": "L", "part_count": 4, "record_count": 12})
    assert wrong_count.status_code == 422 and error_code(wrong_count) == "record_count_mismatch"
    beyond = api.post(url, json={"name": "L", "part_count": 3, "record_count": 7})
    assert beyond.status_code == 422 and error_code(beyond) == "unexpected_parts"
    for bad in ({"name": "L", "part_count": 4}, {"name": "", "part_count": 4, "record_count": 10},
                {"name": "L", "part_count": "4", "record_count": 10},
                {"name": "L", "part_count": 4, "record_count": 10, "extra": 1}):  # fmt: skip
        response = api.post(url, json=bad)
        assert response.status_code == 422 and error_code(response) == "invalid_body", bad
    assert api.post(url, content=b"not json").status_code == 422
    done = api.post(url, json={"name": "L", "part_count": 4, "record_count": 10})
    assert done.status_code == 202
    assert done.json() == {"upload_key": "complete-me", "status": "Docked for Loading"}
    again = api.post(url, json={"name": "L", "part_count": 4, "record_count": 10})
    assert again.status_code == 200
    assert again.json()["upload_key"] == "complete-me" and again.json()["status"] in (
        "Docked for Loading", "In Progress", "Completed")  # fmt: skip
    other = api.post(url, json={"name": "L", "part_count": 3, "record_count": 7})
    assert other.status_code == 409 and error_code(other) == "counts_conflict"


def test_complete_of_an_unknown_upload_is_404(api):
    response = api.post("/v1/uploads/never-sent/complete", json={"name": "L", "part_count": 1, "record_count": 1})
    assert response.status_code == 404
    assert error_code(response) == "unknown_upload"


# --------------------------------------------------------------------------- GET and list


def test_get_is_404_until_a_part_arrives_then_receiving_with_nulls(api):
    assert api.get("/v1/uploads/not-yet-key").status_code == 404
    error_code(api.get("/v1/uploads/not-yet-key"))
    for n in (2, 1):
        put(api, "not-yet-key", n, gzip_ndjson([voter_record(n)]))
    upload = api.get("/v1/uploads/not-yet-key").json()
    assert set(upload) == {"upload_key", "name", "status", "parts_received", "part_count", "record_count",
                           "records_loaded", "records_rejected", "rejections", "failure_reason", "created_at",
                           "updated_at"}  # fmt: skip
    assert upload["status"] == "Receiving"
    assert upload["parts_received"] == [1, 2]
    assert (upload["name"], upload["part_count"], upload["record_count"]) == (None, None, None)
    assert TS.fullmatch(upload["created_at"]) and TS.fullmatch(upload["updated_at"])


def test_status_moves_through_every_stage_while_loading(fast, api, sidekick_account):
    fast.control.update_account(sidekick_account.id, dock_seconds=0.4, load_rate=10_000)
    fast.control.settings(min_load_seconds=0.4)
    for n in range(1, 4):
        put(api, "progression", n, gzip_ndjson([voter_record(n * 10_000 + i) for i in range(2000)]))
    seen = [api.get("/v1/uploads/progression").json()["status"]]
    api.post("/v1/uploads/progression/complete", json={"name": "L", "part_count": 3, "record_count": 6000})
    loaded = []
    deadline = time.monotonic() + 15
    while seen[-1] != "Completed" and time.monotonic() < deadline:
        upload = api.get("/v1/uploads/progression").json()
        if upload["status"] != seen[-1]:
            seen.append(upload["status"])
        if upload["status"] == "In Progress":
            loaded.append(upload["records_loaded"])
        time.sleep(0.02)
    assert seen == ["Receiving", "Docked for Loading", "In Progress", "Completed"]
    assert loaded == sorted(loaded) and loaded[0] < 6000  # records load over time
    final = api.get("/v1/uploads/progression").json()
    assert (final["name"], final["part_count"], final["record_count"], final["records_loaded"]) == ("L", 3, 6000, 6000)


def test_list_is_newest_first_and_limited(api):
    for key in ("list-key-1", "list-key-2", "list-key-3"):
        put(api, key, 1, gzip_ndjson([voter_record(1)]))
    assert [u["upload_key"] for u in api.get("/v1/uploads").json()["uploads"]] == [
        "list-key-3", "list-key-2", "list-key-1"]  # fmt: skip
    assert [u["upload_key"] for u in api.get("/v1/uploads", params={"limit": 2}).json()["uploads"]] == [
        "list-key-3", "list-key-2"]  # fmt: skip
    for bad in ("0", "x", "-1", "1001"):
        response = api.get("/v1/uploads", params={"limit": bad})
        assert response.status_code == 422 and error_code(response) == "invalid_limit"


def test_tag_refresh_is_202_and_counted(fast, api, sidekick_account):
    assert api.post("/v1/tags/refresh").status_code == 202
    assert fast.control.account(sidekick_account.id)["tag_refreshes"] == 1


# --------------------------------------------------------------------------- per-record rules


def _nested(key: str, **changes):
    record = voter_record(2)
    record[key] = {**record[key], **changes} if isinstance(record[key], dict) else changes
    return record


REJECTIONS = {
    "no sos_voter_id": (voter_record(2, sos_voter_id=None), "missing_sos_voter_id"),
    "blank sos_voter_id": (voter_record(2, sos_voter_id="  "), "missing_sos_voter_id"),
    "phone not E.164": (voter_record(2, phones=[{"number": "(614) 555-0123", "type": "cell", "rank": 90}]),
                        "invalid_phone"),
    "phone with leading zero": (voter_record(2, phones=[{"number": "+0614555012", "type": None, "rank": 1}]),
                                "invalid_phone"),
    "address without zip5": (_nested("address", zip5=None), "incomplete_address"),
    "address without line1": (_nested("address", line1=""), "incomplete_address"),
    "address without city": (_nested("address", city=None), "incomplete_address"),
    "address without state": (_nested("address", state=None), "incomplete_address"),
    "an extra key": (voter_record(2, favourite_colour="blue"), "wrong_keys"),
    "a missing key": ({k: v for k, v in voter_record(2).items() if k != "precinct"}, "wrong_keys"),
    "targeted not a boolean": (voter_record(2, targeted="yes"), "invalid_value"),
}  # fmt: skip


@pytest.mark.parametrize("rule", list(REJECTIONS))
def test_each_rejection_rule_rejects_only_that_record(api, rule):
    bad, reason = REJECTIONS[rule]
    key = "rule-" + re.sub(r"[^a-z0-9]+", "-", rule)
    final = upload(api, key, [[voter_record(1), bad, voter_record(3)]])
    assert final["status"] == "Completed"
    assert final["rejections"] == [{"part": 1, "line": 2, "sos_voter_id": bad.get("sos_voter_id"), "reason": reason}]
    assert (final["records_loaded"], final["records_rejected"]) == (2, 1)


def test_null_address_and_no_phones_are_fine(api):
    final = upload(api, "nulls-are-fine", [[voter_record(1, address=None, phones=[], household_id=None)]])
    assert (final["records_loaded"], final["rejections"]) == (1, [])


def test_a_voter_twice_in_an_upload_loads_once(api):
    """Reading: the same sos_voter_id, or the same non-null webelect_voter_id, again is duplicate_voter."""
    parts = [
        [voter_record(1), voter_record(2)],
        [voter_record(3), voter_record(1), voter_record(9, webelect_voter_id=2)],
    ]
    final = upload(api, "duplicates", parts)
    assert final["rejections"] == [
        {"part": 2, "line": 2, "sos_voter_id": "OH0000000001", "reason": "duplicate_voter"},
        {"part": 2, "line": 3, "sos_voter_id": "OH0000000009", "reason": "duplicate_voter"},
    ]
    assert final["records_loaded"] == 3


def test_rejections_in_a_large_part_are_found_on_the_slow_path_too(api):
    records = [voter_record(i) for i in range(5000)]
    records[10] = voter_record(10, sos_voter_id=None)  # fast path rule
    records[4000] = voter_record(4000, extra=1)  # forces the per-line decode
    final = upload(api, "large-part", [records])
    assert [(r["line"], r["reason"]) for r in final["rejections"]] == [(11, "missing_sos_voter_id"),
                                                                       (4001, "wrong_keys")]  # fmt: skip
    assert final["records_loaded"] == 4998


def test_force_fail_and_fail_next_load(fast, api, sidekick_account):
    fast.control.update_account(sidekick_account.id, dock_seconds=30)
    put(api, "fail-me-now", 1, gzip_ndjson([voter_record(1)]))
    api.post("/v1/uploads/fail-me-now/complete", json={"name": "L", "part_count": 1, "record_count": 1})
    fast.control.fail_upload(sidekick_account.id, "fail-me-now", "Sidekick ran out of disk")
    upload_now = api.get("/v1/uploads/fail-me-now").json()
    assert (upload_now["status"], upload_now["failure_reason"]) == ("Failed", "Sidekick ran out of disk")
    fast.control.update_account(sidekick_account.id, dock_seconds=0, fail_next_load="Bad file")
    final = upload(api, "fail-on-load", [[voter_record(1)]])
    assert (final["status"], final["failure_reason"]) == ("Failed", "Bad file")
    assert upload(api, "after-failure", [[voter_record(1)]])["status"] == "Completed"


# --------------------------------------------------------------------------- changes


def _changes(n: int, start: int = 0, **extra) -> list[dict]:
    return [
        {"type": "tag", "tag": f"Tag {start + i}", "voter": {"webelect_voter_id": start + i, "sos_voter_id": None},
         "user": {"email": "pat@example.org", "first_name": "Pat", "last_name": "Lee"}, **extra}
        for i in range(n)
    ]  # fmt: skip


def test_changes_page_in_seq_order_and_keep_the_last_cursor(fast, api, sidekick_account):
    fast.control.add_changes(sidekick_account.id, _changes(3), age_days=40)  # no longer kept
    stored = fast.control.add_changes(sidekick_account.id, _changes(5, 100))
    first = api.get("/v1/changes", params={"limit": 2}).json()
    assert set(first) == {"changes", "next_cursor", "has_more"}
    assert [c["id"] for c in first["changes"]] == [s["id"] for s in stored[:2]]
    assert first["has_more"] is True
    change = first["changes"][0]
    assert set(change) == {"id", "seq", "type", "occurred_at", "voter", "user", "tag"}
    assert TS.fullmatch(change["occurred_at"]) and change["id"].startswith("chg_")
    rest = api.get("/v1/changes", params={"cursor": first["next_cursor"], "limit": 5000}).json()
    assert [c["seq"] for c in rest["changes"]] == [s["seq"] for s in stored[2:]]
    assert rest["has_more"] is False
    empty = api.get("/v1/changes", params={"cursor": rest["next_cursor"]}).json()
    assert (empty["changes"], empty["has_more"]) == ([], False)
    later = fast.control.add_changes(sidekick_account.id, _changes(2, 200))
    tonight = api.get("/v1/changes", params={"cursor": empty["next_cursor"]}).json()
    assert [c["id"] for c in tonight["changes"]] == [c["id"] for c in later]


def test_changes_limit_must_be_1_to_5000_and_defaults_to_1000(fast, api, sidekick_account):
    fast.control.add_changes(sidekick_account.id, _changes(1001))
    assert len(api.get("/v1/changes").json()["changes"]) == 1000
    assert len(api.get("/v1/changes", params={"limit": 5000}).json()["changes"]) == 1001
    for bad in ("0", "5001", "ten"):
        response = api.get("/v1/changes", params={"limit": bad})
        assert response.status_code == 422 and error_code(response) == "invalid_limit"


def test_cursors_older_than_30_days_are_410_and_foreign_cursors_422(fast, api, sidekick_account):
    old = fast.control.mint_cursor(sidekick_account.id, age_days=31)
    response = api.get("/v1/changes", params={"cursor": old})
    assert response.status_code == 410 and error_code(response) == "cursor_expired"
    recent = fast.control.mint_cursor(sidekick_account.id, age_days=29)
    assert api.get("/v1/changes", params={"cursor": recent}).status_code == 200
    other = fast.register()
    foreign = fast.control.mint_cursor(other.id)
    for cursor in (foreign, "garbage", recent[:-2] + "xx"):
        response = api.get("/v1/changes", params={"cursor": cursor})
        assert response.status_code == 422 and error_code(response) == "invalid_cursor"


def test_redelivery_sends_changes_again_on_a_later_page(fast, api, sidekick_account):
    fast.control.add_changes(sidekick_account.id, _changes(10))
    fast.control.set_redelivery(sidekick_account.id, 0.5)
    pages, cursor = [], None
    while True:
        params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        page = api.get("/v1/changes", params=params).json()
        pages.append(page["changes"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    ids = [c["id"] for page in pages for c in page]
    assert len(set(ids)) == 10 and len(ids) > 10
    for page in pages:
        assert [c["seq"] for c in page] == sorted({c["seq"] for c in page})


# --------------------------------------------------------------------------- limits, log, state


def test_more_than_10_requests_per_second_per_token_is_429_with_retry_after(sidekick, sidekick_account):
    sidekick.control.settings(rate_limit=10, rate_burst=10)
    other = sidekick.register()
    with httpx.Client(base_url=sidekick.url) as raw:
        answers = [raw.get("/v1/uploads", headers={"Authorization": f"Bearer {sidekick_account.token}"})
                   for _ in range(25)]  # fmt: skip
        limited = [a for a in answers if a.status_code == 429]
        assert limited and sum(a.status_code == 200 for a in answers) >= 10
        assert all(int(a.headers["Retry-After"]) >= 1 for a in limited)
        assert error_code(limited[0]) == "rate_limited"
        # Per token: another account is not slowed down by this one.
        assert raw.get("/v1/uploads", headers={"Authorization": f"Bearer {other.token}"}).status_code == 200


def test_request_log_and_received_records(fast, api, sidekick_account):
    records = [voter_record(i) for i in range(3)]
    put(api, "read-back-key", 1, gzip_ndjson(records[:2]))
    put(api, "read-back-key", 2, gzip_ndjson(records[2:]))
    assert fast.control.records(sidekick_account.id, "read-back-key") == records
    assert fast.control.records(sidekick_account.id, "read-back-key", part=2) == records[2:]
    parts = fast.control.parts(sidekick_account.id, "read-back-key")
    assert [(p["part_number"], p["records"]) for p in parts] == [(1, 2), (2, 1)]
    log = fast.control.requests(account_id=sidekick_account.id, method="PUT")
    assert [(r["path"], r["status"]) for r in log] == [("/v1/uploads/read-back-key/parts/1", 201),
                                                       ("/v1/uploads/read-back-key/parts/2", 201)]  # fmt: skip


def test_state_survives_a_restart(fast, api, sidekick_account):
    records = [voter_record(i) for i in range(4)]
    final = upload(api, "survives-restart", [records[:2], records[2:]])
    put(api, "half-done-key", 1, gzip_ndjson(records))
    stored = fast.control.add_changes(sidekick_account.id, _changes(3))
    cursor = api.get("/v1/changes", params={"limit": 1}).json()["next_cursor"]
    fast.restart()
    with httpx.Client(base_url=fast.url, headers=api.headers) as again:
        assert again.get("/v1/uploads/survives-restart").json() == final
        assert again.get("/v1/uploads/half-done-key").json()["parts_received"] == [1]
        assert put(again, "half-done-key", 1, gzip_ndjson(records)).status_code == 200
        rest = again.get("/v1/changes", params={"cursor": cursor}).json()
        assert [c["id"] for c in rest["changes"]] == [s["id"] for s in stored[1:]]
    assert fast.control.records(sidekick_account.id, "survives-restart") == records
    assert fast.control.settings()["dock_seconds"] == 0


def test_a_10000_record_part_is_answered_quickly(fast, api):
    """Performance budget: PUT of a 10k-record part well under ~100 ms (median of a few, loose for CI noise)."""
    body = gzip_ndjson([voter_record(i) for i in range(10_000)])
    timings = []
    for n in range(1, 6):
        started = time.perf_counter()
        assert put(api, "speedy-part", n, body).status_code == 201
        timings.append(time.perf_counter() - started)
    assert sorted(timings)[2] < 0.5, timings

