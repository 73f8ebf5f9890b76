"""Sending an export's parts to Sidekick: resume first, never a second upload (rules 4 and 5).

A run always uses the same ``upload_key``, so every (re)try first asks Sidekick what it has:

- no such upload (404) → send every part;
- ``Receiving`` → send only the parts not in ``parts_received``, then complete;
- any other status → the upload was completed already: send nothing, just follow it.

A part Sidekick already holds answers 200 (same bytes) and is counted as "already there",
never twice. Parts are sent from a few threads; the hook paces every request of the
token (10 per second) and retries 429/5xx/dropped connections itself.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from airflow.sdk import ObjectStoragePath

from webelect_sidekick.errors import UserFacingError
from webelect_sidekick.export import storage
from webelect_sidekick.sidekick.hook import SidekickHook

log = logging.getLogger(__name__)

#: Threads that send parts. The hook paces the token at 10 requests per second; a few
#: threads keep that pace although each request takes a while (a ~1 MB body).
SENDER_THREADS = 3

RECEIVING = "Receiving"


@dataclass
class SendStats:
    created: int = 0  # parts Sidekick stored now (201)
    already: int = 0  # parts Sidekick had already (200, or listed in parts_received)
    sent: set[int] = field(default_factory=set)  # part numbers Sidekick confirmed in this call

    def summary(self) -> dict:
        data = asdict(self)
        data.pop("sent")
        return data


@dataclass(frozen=True)
class Resume:
    """What Sidekick has of this run's upload."""

    status: str | None  # None: Sidekick has no part of it yet
    received: frozenset[int]

    @property
    def completed(self) -> bool:
        """The upload was completed already: nothing may be sent any more."""
        return self.status is not None and self.status != RECEIVING


def resume_state(hook: SidekickHook, token: str, upload_key: str) -> Resume:
    upload = hook.get_upload(token, upload_key)
    if upload is None:
        return Resume(None, frozenset())
    received = frozenset(int(n) for n in upload.get("parts_received") or [])
    return Resume(upload.get("status"), received)


class PartSender:
    """Sends parts from background threads while they are still being built.

    ``put`` blocks while ``queue_size`` parts wait, so memory stays bounded even when the
    build is faster than Sidekick's rate limit. The first error stops sending (later parts
    are dropped) and is kept in ``error``: the caller decides what it means.
    """

    def __init__(self, hook: SidekickHook, token: str, upload_key: str, *, skip: Iterable[int] = (),
                 threads: int = SENDER_THREADS, queue_size: int = 8) -> None:  # fmt: skip
        self._hook = hook
        self._token = token
        self._key = upload_key
        self._skip = frozenset(skip)
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._lock = threading.Lock()
        self.stats = SendStats()
        self.error: BaseException | None = None
        self._threads = [threading.Thread(target=self._run, name=f"send-part-{i}", daemon=True)
                         for i in range(threads)]  # fmt: skip
        for thread in self._threads:
            thread.start()

    def put(self, number: int, body: bytes) -> None:
        if number in self._skip:
            with self._lock:
                self.stats.already += 1
            return
        if self.error is None:
            self._queue.put((number, body))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            number, body = item
            try:
                answer = self._hook.put_part(self._token, self._key, number, body)
            except BaseException as exc:  # noqa: BLE001 - kept and reported by the caller
                with self._lock:
                    if self.error is None:
                        self.error = exc
                continue
            with self._lock:
                if answer.get("created"):
                    self.stats.created += 1
                else:
                    self.stats.already += 1
                self.stats.sent.add(number)

    def close(self) -> SendStats:
        """Wait until every queued part is sent (or dropped after an error)."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        return self.stats


def send_missing(hook: SidekickHook, token: str, upload_key: str, folder: ObjectStoragePath, manifest: dict,
                 resume: Resume, *, threads: int = SENDER_THREADS) -> SendStats:  # fmt: skip
    """Send every part of the manifest that Sidekick does not hold yet, from the run's folder."""
    stats = SendStats(already=sum(1 for part in manifest["parts"] if part["number"] in resume.received))
    missing = [part for part in manifest["parts"] if part["number"] not in resume.received]
    if not missing:
        return stats
    lock = threading.Lock()

    def send(part: dict) -> None:
        body = storage.read_part(folder, part["number"])
        if len(body) != part["bytes"]:
            raise UserFacingError(
                f"Part {part['number']} in the run's folder is not the part that was built ({len(body)} bytes, "
                f"expected {part['bytes']}): clear the run from 'select_voters' on to build it again."
            )
        answer = hook.put_part(token, upload_key, part["number"], body)
        with lock:
            if answer.get("created"):
                stats.created += 1
            else:
                stats.already += 1
            stats.sent.add(part["number"])

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="send-part") as pool:
        futures = [pool.submit(send, part) for part in missing]
        first_error: BaseException | None = None
        for future in futures:
            error = future.exception()
            if error is not None and first_error is None:
                first_error = error
                for other in futures:
                    other.cancel()
    if first_error is not None:
        raise first_error
    return stats
