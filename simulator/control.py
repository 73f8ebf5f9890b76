"""A small client for the simulator's dev-only ``/_control`` API, for tests, the demo and seeding.

    sim = SimulatorControl("http://127.0.0.1:8700")
    account = sim.register_account("Smith for Senate", token=token)
    sim.add_fault("PUT", r"/parts/", status=503, count=2)
    sim.records(account.id, upload_key)          # every record that arrived, decoded
    sim.requests(account_id=account.id, method="PUT")   # the request log, to count requests

It never talks to ``/v1``: that is the package's hook's job.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx


class ControlError(RuntimeError):
    """The control API refused a call (a bug in the test or the seed, not in the package)."""


@dataclass(frozen=True)
class SimAccount:
    id: int
    name: str
    token: str

    def __repr__(self) -> str:  # the token stays out of test output and logs
        return f"SimAccount(id={self.id}, name={self.name!r})"


class SimulatorControl:
    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SimulatorControl:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs) -> Any:
        response = self._http.request(method, "/_control" + path, **kwargs)
        if response.status_code >= 400:
            raise ControlError(f"{method} /_control{path} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    # ------------------------------------------------------------------ lifecycle

    def health(self) -> bool:
        try:
            return self._http.get("/_control/health", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_until_up(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.health():
            if time.monotonic() > deadline:
                raise ControlError(f"the simulator at {self.base_url} did not answer within {timeout:g} s")
            time.sleep(0.05)

    def reset(self) -> None:
        """Forget every account, upload, change, fault and logged request; default settings."""
        self._call("POST", "/reset")

    def settings(self, **changes: Any) -> dict:
        """Read or change rate_limit, rate_burst, dock_seconds, load_rate, min_load_seconds."""
        if changes:
            return self._call("POST", "/settings", json=changes)
        return self._call("GET", "/settings")

    # ------------------------------------------------------------------ accounts

    def register_account(self, name: str = "Test campaign", token: str | None = None, **options: Any) -> SimAccount:
        """A Sidekick account whose API token is ``token`` (generated when None).

        options: integration_enabled, redelivery (0..1), dock_seconds, load_rate.
        """
        body = {"name": name, "token": token, **options}
        data = self._call("POST", "/accounts", json=body)
        return SimAccount(data["account_id"], data["name"], data["token"])

    def account(self, account_id: int) -> dict:
        return self._call("GET", f"/accounts/{account_id}")

    def update_account(self, account_id: int, **changes: Any) -> dict:
        """Change name, token, integration_enabled, redelivery, dock_seconds, load_rate or fail_next_load."""
        return self._call("PATCH", f"/accounts/{account_id}", json=changes)

    def set_integration(self, account_id: int, enabled: bool) -> dict:
        return self.update_account(account_id, integration_enabled=enabled)

    def set_redelivery(self, account_id: int, fraction: float = 0.5) -> dict:
        """Re-deliver about ``fraction`` of each page once more at the start of the next page (0 = off)."""
        return self.update_account(account_id, redelivery=fraction)

    def fail_next_load(self, account_id: int, reason: str) -> dict:
        """The account's next upload to start loading ends ``Failed`` with ``reason``."""
        return self.update_account(account_id, fail_next_load=reason)

    # ------------------------------------------------------------------ changes

    def add_changes(self, account_id: int, changes: list[dict], *, age_days: float = 0.0) -> list[dict]:
        """Store changes (each needs ``type``; ``id``, ``occurred_at``, ``age_days`` optional); returns them with seq."""
        return self._call("POST", f"/accounts/{account_id}/changes", json={"changes": changes, "age_days": age_days})[
            "changes"
        ]

    def mint_cursor(self, account_id: int, *, after_seq: int = 0, age_days: float = 0.0) -> str:
        """A cursor as Sidekick would have issued it ``age_days`` ago (over 30 → the API answers 410)."""
        body = {"after_seq": after_seq, "age_days": age_days}
        return self._call("POST", f"/accounts/{account_id}/cursor", json=body)["cursor"]

    # ------------------------------------------------------------------ what arrived

    def uploads(self, account_id: int) -> list[dict]:
        return self._call("GET", f"/accounts/{account_id}/uploads")["uploads"]

    def parts(self, account_id: int, upload_key: str) -> list[dict]:
        return self._call("GET", f"/accounts/{account_id}/uploads/{upload_key}/parts")["parts"]

    def records(self, account_id: int, upload_key: str, part: int | None = None) -> list[dict]:
        params = {} if part is None else {"part": part}
        return self._call("GET", f"/accounts/{account_id}/uploads/{upload_key}/records", params=params)["records"]

    def fail_upload(self, account_id: int, upload_key: str, reason: str) -> dict:
        return self._call("POST", f"/accounts/{account_id}/uploads/{upload_key}/fail", json={"reason": reason})

    def wait_for_status(self, account_id: int, upload_key: str, statuses=("Completed", "Failed"),
                        timeout: float = 30.0) -> dict:  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            upload = next((u for u in self.uploads(account_id) if u["upload_key"] == upload_key), None)
            if upload is not None and upload["status"] in statuses:
                return upload
            if time.monotonic() > deadline:
                raise ControlError(f"upload {upload_key} did not reach {statuses} within {timeout:g} s: {upload}")
            time.sleep(0.05)

    def requests(self, *, account_id: int | None = None, method: str | None = None, path: str | None = None,
                 since_id: int = 0) -> list[dict]:  # fmt: skip
        """The request log of ``/v1``: id, at, method, path, query, status (0 = dropped), account_id, duration_ms."""
        params = {"account_id": account_id, "method": method, "path": path, "since_id": since_id}
        return self._call("GET", "/requests", params={k: v for k, v in params.items() if v is not None})["requests"]

    # ------------------------------------------------------------------ faults

    def add_fault(self, method: str = "*", path: str = ".*", *, status: int | None = None, count: int = 1,
                  retry_after: int | float | str | None = None, drop: bool = False, delay: float = 0.0,
                  body: str | None = None, content_type: str | None = None) -> dict:  # fmt: skip
        """Fail the next ``count`` ``/v1`` requests matching ``method`` and the ``path`` regex.

        ``status`` answers with that code (and ``Retry-After`` if given), with the contract's error
        JSON or, when ``body`` is given, that raw text (``content_type``, default text/html);
        ``drop`` closes the socket without an answer; ``delay`` waits first (alone: a slow answer).
        """
        spec = {"method": method, "path": path, "status": status, "count": count, "retry_after": retry_after,
                "drop": drop, "delay": delay, "body": body, "content_type": content_type}  # fmt: skip
        return self._call("POST", "/faults", json=spec)

    def faults(self) -> list[dict]:
        return self._call("GET", "/faults")["faults"]

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")
