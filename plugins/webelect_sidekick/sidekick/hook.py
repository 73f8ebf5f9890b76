"""Campaign Sidekick's API for one campaign, with the contract's error table built in.

The contract (docs/spec/sidekick-api.md) decides what is retried: 429 waits ``Retry-After``
and tries again; 500/502/503/504, refused or reset connections and timeouts are retried
with exponential backoff and jitter, a bounded number of times; every other answer fails at
once, after exactly one request, with one sentence that names the campaign and says what to
fix. ``HttpHook.run`` (tenacity, raise on any non-2xx) cannot express that, so this hook
keeps HttpHook's connection handling and session set-up and runs its own request loop.

Tokens are per campaign and per call: sent only as ``Authorization: Bearer``, never put in a
URL, a log line, an exception or a repr. Requests are paced per token (the contract allows
10 per second) by a limiter shared by every hook and thread of the process, so a
well-behaved export does not meet 429 at all.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import random
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import requests
from airflow.exceptions import AirflowNotFoundException
from airflow.providers.http.hooks.http import HttpHook

from webelect_sidekick.config import SIDEKICK_CONN_ID
from webelect_sidekick.errors import TransientError, UserFacingError

log = logging.getLogger(__name__)

UPLOAD_KEY_RE = re.compile(r"[A-Za-z0-9._-]{8,128}")
FINAL_STATUSES = frozenset({"Completed", "Failed"})
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
MAX_PART_NUMBER = 10_000
MAX_CHANGES_LIMIT = 5_000


# --------------------------------------------------------------------------- errors


class SidekickError(UserFacingError):
    """Sidekick refused a request in a way retrying cannot fix (contract: fail, no retry)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class SidekickAuthError(SidekickError):
    """401 or 403: the campaign's token or Sidekick account needs a person."""


class SidekickUnauthorized(SidekickAuthError):
    """401: the token is missing or is not (any longer) the one pasted into Sidekick."""


class SidekickIntegrationDisabled(SidekickAuthError):
    """403: the Sidekick account turned the webElect integration off."""


class UploadNotFound(SidekickError):
    """404: Sidekick has no part of this upload."""


class SidekickConflict(SidekickError):
    """409: a part with other bytes, or the upload was completed already (or with other counts)."""


class CursorExpired(SidekickError):
    """410: the changes cursor is older than the 30 days Sidekick keeps; a full re-pull is needed."""


class SidekickRejected(SidekickError):
    """413, 422 or another 4xx: Sidekick refused the request itself."""


class SidekickBadResponse(SidekickError):
    """The answer is not the JSON the contract promises (a wrong base URL, a proxy page)."""


class SidekickConfigError(UserFacingError):
    """The ``sidekick_default`` connection is missing or unusable."""


class SidekickUnavailable(TransientError):
    """Sidekick did not answer usefully within the retry budget; Airflow's task retries apply."""


# --------------------------------------------------------------------------- pacing


class _Pacer:
    """Spaces one token's requests at least ``interval`` apart, across every thread of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0

    def wait_turn(self, interval: float) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + interval
        if slot > now:
            time.sleep(slot - now)

    def hold(self, seconds: float) -> None:
        """After a 429: no thread sends with this token before ``Retry-After`` has passed."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


_PACERS: dict[tuple[str, str], _Pacer] = {}
_PACERS_LOCK = threading.Lock()


def _pacer(base_url: str, token: str) -> _Pacer:
    # Keyed by a hash: the registry outlives the call and must not hold the secret itself.
    key = (base_url, hashlib.sha256(token.encode()).hexdigest())
    with _PACERS_LOCK:
        pacer = _PACERS.get(key)
        if pacer is None:
            pacer = _PACERS[key] = _Pacer()
        return pacer


# --------------------------------------------------------------------------- helpers


def check_upload_key(upload_key: str) -> None:
    """The contract's key: 8-128 characters of ``[A-Za-z0-9._-]``. A bad one is a bug in the caller."""
    if not isinstance(upload_key, str) or not UPLOAD_KEY_RE.fullmatch(upload_key):
        raise ValueError(f"upload_key must be 8-128 characters of [A-Za-z0-9._-], not {upload_key!r}")


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _retry_after(response: requests.Response) -> float | None:
    """``Retry-After`` as seconds (delay-seconds or an HTTP date); None when absent or unreadable."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw.strip()))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _describe(exc: requests.RequestException, read_timeout: float) -> str:
    """A few words for a failed connection; never the request (its headers hold the token)."""
    if isinstance(exc, requests.ConnectTimeout):
        return "connecting timed out"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {read_timeout:g} s"
    text = str(exc)
    for needle, words in (
        ("Connection refused", "connection refused"),
        ("Connection reset", "connection reset"),
        ("RemoteDisconnected", "connection closed without an answer"),
        ("Connection aborted", "connection aborted"),
        ("Failed to resolve", "host name not found"),
        ("Name or service not known", "host name not found"),
        ("IncompleteRead", "answer cut off"),
    ):
        if needle in text:
            return words
    return type(exc).__name__


def _base_url(conn: Any) -> str:
    """The API base URL from the connection: scheme, host, port and optional path.

    HttpHook reads the ``schema`` field as the URL scheme (a UI connection with Schema
    ``https``), but a URI such as ``https://sidekick.example.org/api`` puts ``api`` there;
    both are honoured here.
    """
    host = (conn.host or "").strip()
    if not host:
        raise SidekickConfigError(
            f"The Airflow connection '{conn.conn_id}' has no host: set it to the Sidekick API base URL, "
            "e.g. AIRFLOW_CONN_SIDEKICK_DEFAULT=https://sidekick.example.org."
        )
    if "://" in host:
        url = host.rstrip("/")
        if conn.port and not re.search(r"://[^/]*:\d+", url):
            scheme, rest = url.split("://", 1)
            authority, _, path = rest.partition("/")
            url = f"{scheme}://{authority}:{conn.port}" + (f"/{path}" if path else "")
        return url
    schema = (conn.schema or "").strip().strip("/")
    if schema.lower() in ("http", "https"):
        scheme, path = schema.lower(), ""
    else:
        scheme = conn.conn_type if conn.conn_type in ("http", "https") else "http"
        path = f"/{schema}" if schema else ""
    port = f":{conn.port}" if conn.port else ""
    return f"{scheme}://{host}{port}{path}"


# --------------------------------------------------------------------------- the hook


class SidekickHook(HttpHook):
    """Sidekick's API for one campaign; the token is passed to each call, never stored.

    :param campaign_label: how messages name the campaign, e.g. ``campaign 3 (Smith for Senate)``.
    :param campaign_id: used in the fix-it instructions (the admin ``rotate`` command).
    :param max_attempts: attempts per request for transient failures (5xx, connection, timeout).
    :param backoff_base: first backoff in seconds; doubles per failure, capped by ``backoff_cap``.
    :param connect_timeout: seconds to establish a connection.
    :param read_timeout: seconds to wait for an answer once the request is sent.
    :param requests_per_second: per-token pace for this process (contract: 10); 0 disables it.
    :param max_rate_limit_waits: 429 answers tolerated per request before giving up.
    :param max_retry_after: a ``Retry-After`` longer than this fails the request (Airflow retries later).
    """

    conn_name_attr = "sidekick_conn_id"
    default_conn_name = SIDEKICK_CONN_ID
    conn_type = "http"
    hook_name = "Campaign Sidekick"

    def __init__(
        self,
        campaign_label: str,
        *,
        campaign_id: int | None = None,
        sidekick_conn_id: str = SIDEKICK_CONN_ID,
        max_attempts: int = 6,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
        requests_per_second: float = 10.0,
        max_rate_limit_waits: int = 30,
        max_retry_after: float = 300.0,
    ) -> None:
        super().__init__(method="GET", http_conn_id=sidekick_conn_id)
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.campaign_label = campaign_label
        self.campaign_id = campaign_id
        self.sidekick_conn_id = sidekick_conn_id
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.timeout = (connect_timeout, read_timeout)
        self.interval = 1.0 / requests_per_second if requests_per_second > 0 else 0.0
        self.max_rate_limit_waits = max_rate_limit_waits
        self.max_retry_after = max_retry_after
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connection: Any = None
        self._sessions: list[requests.Session] = []

    def __repr__(self) -> str:
        return f"<SidekickHook {self.campaign_label} via {self.sidekick_conn_id}>"

    # ------------------------------------------------------------------ connection and sessions

    def get_connection(self, conn_id: str):  # type: ignore[override]
        """The connection, looked up once per hook (worker threads then reuse it)."""
        with self._lock:
            if self._connection is None:
                try:
                    self._connection = super().get_connection(conn_id)
                except AirflowNotFoundException:
                    raise SidekickConfigError(
                        f"The Airflow connection '{conn_id}' is not defined: add it under Admin → Connections "
                        f"or set AIRFLOW_CONN_{conn_id.upper()} to the Sidekick API base URL."
                    ) from None
            return self._connection

    def _set_base_url(self, connection) -> None:
        super()._set_base_url(connection)
        self.base_url = _base_url(connection)

    def _session(self) -> requests.Session:
        """One keep-alive session per thread: parts are uploaded from a few threads at once."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self.get_conn()
            session.auth = None  # a login on the connection must not replace the bearer token
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()

    def test_connection(self) -> tuple[bool, str]:
        """For the Connections page: Sidekick answers 401 to a request without a token."""
        try:
            response = self._session().get(self.base_url + "/v1/uploads", timeout=self.timeout, allow_redirects=False)
        except (requests.RequestException, UserFacingError) as exc:
            return False, _one_line(str(exc))
        if response.status_code == 401:
            return True, f"Sidekick at {self.base_url} answered (401 without a token, as expected)."
        return False, f"{self.base_url}/v1/uploads answered HTTP {response.status_code}, not Sidekick's 401."

    # ------------------------------------------------------------------ the request loop

    def _backoff(self, failures: int) -> float:
        return min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1)) * random.uniform(0.5, 1.0)  # noqa: S311

    def _request(
        self,
        token: str,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json_body: dict | None = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        allow_404: bool = False,
        upload_key: str | None = None,
        parse: bool = True,
    ) -> tuple[int, Any]:
        if not token or not isinstance(token, str):
            raise SidekickUnauthorized(
                f"{self.campaign_label} has no Sidekick token: {self._enable_hint()}", status=None, code="no_token"
            )
        session = self._session()
        url = self.base_url + path
        send_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", **(headers or {})}
        if json_body is not None:
            data = json.dumps(json_body).encode()
            send_headers["Content-Type"] = "application/json"
        pacer = _pacer(self.base_url, token)
        failures = rate_waits = 0
        while True:
            pacer.wait_turn(self.interval)
            started = time.monotonic()
            try:
                response = session.request(
                    method, url, params=params, data=data, headers=send_headers, timeout=self.timeout,
                    allow_redirects=False,
                )  # fmt: skip
            except requests.RequestException as exc:
                problem = _describe(exc, self.timeout[1])
            else:
                status = response.status_code
                log.debug("%s %s -> %s in %.0f ms", method, path, status, (time.monotonic() - started) * 1000)
                if status == 429:
                    rate_waits += 1
                    wait = _retry_after(response)
                    wait = self._backoff(rate_waits) if wait is None else wait
                    if rate_waits > self.max_rate_limit_waits or wait > self.max_retry_after:
                        raise SidekickUnavailable(
                            f"Sidekick at {self.base_url} kept refusing {self.campaign_label} as too many requests "
                            f"(HTTP 429 {rate_waits} times, last asking to wait {wait:g} s): the task will be "
                            "retried; check that no other process uses the same campaign token."
                        )
                    log.warning(
                        "Sidekick rate-limited %s %s for %s (HTTP 429); waiting %.1f s as Retry-After asks",
                        method, path, self.campaign_label, wait,
                    )  # fmt: skip
                    pacer.hold(wait)
                    time.sleep(wait)
                    continue
                if status not in RETRYABLE_STATUSES:
                    if not parse and 200 <= status < 300:
                        return status, None
                    return self._answer(response, method, path, token, allow_404, upload_key)
                problem = f"HTTP {status}"
            failures += 1
            if failures >= self.max_attempts:
                raise SidekickUnavailable(
                    f"Sidekick at {self.base_url} did not answer {method} {path} for {self.campaign_label} after "
                    f"{failures} attempts ({problem}): check that Sidekick is up and that the Airflow connection "
                    f"'{self.sidekick_conn_id}' points at it; the task will be retried."
                )
            delay = self._backoff(failures)
            log.warning(
                "Sidekick: %s on %s %s for %s; attempt %d of %d in %.2f s",
                problem, method, path, self.campaign_label, failures + 1, self.max_attempts, delay,
            )  # fmt: skip
            time.sleep(delay)

    def _answer(
        self, response: requests.Response, method: str, path: str, token: str, allow_404: bool, upload_key: str | None
    ) -> tuple[int, Any]:
        status = response.status_code
        if 200 <= status < 300:
            if not response.content:
                return status, None
            try:
                return status, response.json()
            except ValueError:
                raise self._bad_response(response, method, path) from None
        if status == 404 and allow_404:
            return status, None
        code, message = self._error_detail(response, token)
        raise self._error(status, code, message, method, path, upload_key)

    @staticmethod
    def _error_detail(response: requests.Response, token: str) -> tuple[str | None, str]:
        """Sidekick's ``{"error": {"code", "message"}}``, or the start of whatever text came instead."""
        code, message = None, ""
        try:
            error = response.json()["error"]
            code, message = error.get("code"), str(error.get("message") or "")
        except (ValueError, KeyError, TypeError, AttributeError):
            message = response.text[:200] if response.content else ""
        message = _one_line(message or response.reason or "no message")
        return code, message.replace(token, "[token]") if token else message

    def _bad_response(self, response: requests.Response, method: str, path: str) -> SidekickBadResponse:
        kind = _one_line(response.headers.get("Content-Type", "no content type"), 60)
        return SidekickBadResponse(
            f"Sidekick at {self.base_url} answered {method} {path} for {self.campaign_label} with something that is "
            f"not the API's JSON (HTTP {response.status_code}, {kind}): check that the Airflow connection "
            f"'{self.sidekick_conn_id}' points at the Sidekick API.",
            status=response.status_code,
        )

    def _enable_hint(self) -> str:
        campaign = self.campaign_id if self.campaign_id is not None else "<campaign id>"
        return (
            f"an admin must re-run the admin 'rotate' command (python -m webelect_sidekick.admin rotate "
            f"--campaign {campaign} --admin-email <admin email>) and paste the new token into Sidekick."
        )

    def _error(
        self, status: int, code: str | None, message: str, method: str, path: str, upload_key: str | None
    ) -> SidekickError:
        who = self.campaign_label
        said = f"HTTP {status}" + (f" {code}" if code else "") + f": {message}"
        kw = {"status": status, "code": code}
        if status == 401:
            return SidekickUnauthorized(f"Sidekick rejected the token of {who} ({said}); {self._enable_hint()}", **kw)
        if status == 403:
            return SidekickIntegrationDisabled(
                f"Sidekick refused {who} because the webElect integration is turned off in that campaign's Sidekick "
                f"account ({said}): turn it back on in Sidekick, or disable Send to Sidekick for the campaign.",
                **kw,
            )
        if status == 404 and upload_key is not None:
            return UploadNotFound(
                f"Sidekick does not know upload {upload_key} of {who} ({said}): send its parts before completing "
                "or following it; re-running the export sends them again under the same key.",
                **kw,
            )
        if status == 409:
            return SidekickConflict(
                f"Sidekick refused {method} {path} for {who} as a conflict ({said}): the upload was already completed, "
                "or a part was sent again with other contents; start a new export run, which uses a new upload key.",
                **kw,
            )
        if status == 410:
            return CursorExpired(
                f"Sidekick's changes cursor for {who} has expired ({said}): Sidekick keeps 30 days of changes, "
                "so a full re-pull is needed — reset the campaign's Sidekick cursor and re-run to re-pull "
                "everything Sidekick keeps.",
                **kw,
            )
        if status == 413:
            return SidekickRejected(
                f"Sidekick refused a part of {who} as too large ({said}): a part may hold at most 10,000 records and "
                "16 MiB compressed; lower the export's part size.",
                **kw,
            )
        if status == 422:
            return SidekickRejected(
                f"Sidekick refused {method} {path} for {who} as invalid ({said}); fix what Sidekick names, "
                "then run the task again.",
                **kw,
            )
        if status == 404:
            return SidekickRejected(
                f"Sidekick answered {method} {path} for {who} with 404 ({said}): check that the Airflow connection "
                f"'{self.sidekick_conn_id}' points at the Sidekick API (now {self.base_url}).",
                **kw,
            )
        return SidekickRejected(
            f"Sidekick refused {method} {path} for {who} ({said}): check the Airflow connection "
            f"'{self.sidekick_conn_id}' ({self.base_url}) and Sidekick's status.",
            **kw,
        )

    def _object(self, body: Any, method: str, path: str, *required: str) -> dict:
        if not isinstance(body, dict) or any(key not in body for key in required):
            raise SidekickBadResponse(
                f"Sidekick at {self.base_url} answered {method} {path} for {self.campaign_label} without the fields "
                f"the API promises ({', '.join(required)}): check that the Airflow connection "
                f"'{self.sidekick_conn_id}' points at the Sidekick API."
            )
        return body

    # ------------------------------------------------------------------ the API

    def put_part(self, token: str, upload_key: str, part_number: int, body: bytes) -> dict:
        """Send one part (gzip NDJSON). Returns Sidekick's answer plus ``created``: False when it already had it."""
        check_upload_key(upload_key)
        if not isinstance(part_number, int) or not 1 <= part_number <= MAX_PART_NUMBER:
            raise ValueError(f"part_number must be 1-{MAX_PART_NUMBER}, not {part_number!r}")
        path = f"/v1/uploads/{upload_key}/parts/{part_number}"
        status, answer = self._request(
            token, "PUT", path, data=bytes(body), upload_key=upload_key,
            headers={"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"},
        )  # fmt: skip
        answer = dict(self._object(answer, "PUT", path, "part_number", "records"))
        answer["created"] = status == 201
        return answer

    def complete_upload(self, token: str, upload_key: str, *, name: str, part_count: int, record_count: int) -> dict:
        """Queue the upload for loading; calling it again with the same counts is harmless."""
        check_upload_key(upload_key)
        path = f"/v1/uploads/{upload_key}/complete"
        body = {"name": name, "part_count": part_count, "record_count": record_count}
        _, answer = self._request(token, "POST", path, json_body=body, upload_key=upload_key)
        return self._object(answer, "POST", path, "status")

    def get_upload(self, token: str, upload_key: str) -> dict | None:
        """The upload's status, or None when Sidekick has no part of it (a resume starts there)."""
        check_upload_key(upload_key)
        path = f"/v1/uploads/{upload_key}"
        status, answer = self._request(token, "GET", path, allow_404=True, upload_key=upload_key)
        if status == 404:
            return None
        return self._object(answer, "GET", path, "status", "parts_received")

    def list_uploads(self, token: str, limit: int = 50) -> list[dict]:
        """Sidekick's Upload History, newest first."""
        _, answer = self._request(token, "GET", "/v1/uploads", params={"limit": int(limit)})
        uploads = self._object(answer, "GET", "/v1/uploads", "uploads")["uploads"]
        if not isinstance(uploads, list):
            raise self._bad_response_text("GET", "/v1/uploads", "an upload list that is not a list")
        return uploads

    def refresh_tags(self, token: str) -> None:
        """Press Sidekick's "Refresh Tag Cache" so new tags show in its list builders (any 2xx body will do)."""
        self._request(token, "POST", "/v1/tags/refresh", parse=False)

    def iter_change_pages(self, token: str, cursor: str | None, limit: int = 1000) -> Iterator[dict]:
        """Every page of changes from ``cursor`` on; the last page's ``next_cursor`` is the one to keep."""
        if not 1 <= limit <= MAX_CHANGES_LIMIT:
            raise ValueError(f"limit must be 1-{MAX_CHANGES_LIMIT}, not {limit}")
        while True:
            params: dict[str, Any] = {"limit": limit}
            if cursor is not None:
                params["cursor"] = cursor
            _, page = self._request(token, "GET", "/v1/changes", params=params)
            page = self._object(page, "GET", "/v1/changes", "changes", "next_cursor", "has_more")
            if (
                not isinstance(page["changes"], list)
                or not isinstance(page["next_cursor"], str)
                or not isinstance(page["has_more"], bool)
                or (page["has_more"] and not page["changes"])
            ):
                raise self._bad_response_text("GET", "/v1/changes", "a malformed page of changes")
            yield page
            if not page["has_more"]:
                return
            cursor = page["next_cursor"]

    def _bad_response_text(self, method: str, path: str, what: str) -> SidekickBadResponse:
        return SidekickBadResponse(
            f"Sidekick at {self.base_url} answered {method} {path} for {self.campaign_label} with {what}: check that "
            f"the Airflow connection '{self.sidekick_conn_id}' points at the Sidekick API."
        )
