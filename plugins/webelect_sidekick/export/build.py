"""Build the export's gzip parts from the run's voter list, a chunk at a time, in parallel.

``BUILDERS`` threads, each with its own webElect connection, build chunks of
``CHUNK_VOTERS`` voters (``records.build_chunk``, then gzip in ``records.cut_parts``);
PostgreSQL, Arrow's kernels and zlib all work outside the GIL, so the threads overlap
for real. The main thread takes the chunks back in order, numbers the parts 1..P, writes
each to the run's folder and, when a ``PartSender`` is given, hands it over to be sent
while the next chunks are built. At most ``BUILDERS + 1`` chunks are in flight, and the
sender's queue is bounded, so memory does not grow with the size of the list.

Part boundaries depend only on the voter list (each chunk is cut into parts of 10,000),
so a rebuild of the same run gives the same parts, byte for byte.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import psycopg
from airflow.sdk import ObjectStoragePath

from webelect_sidekick import db
from webelect_sidekick.export import records, storage
from webelect_sidekick.export.upload import PartSender
from webelect_sidekick.sidekick.parts import MAX_RECORDS

log = logging.getLogger(__name__)

#: Records per part: the contract's maximum (tests lower it to get many parts from few voters).
PART_RECORDS = MAX_RECORDS
#: Voters per chunk: a multiple of PART_RECORDS. Measured on the benchmark campaign, chunks
#: of 10,000, 20,000 and 40,000 voters cost the same CPU; the smallest keeps memory lowest.
CHUNK_VOTERS = 10_000
#: Threads (and webElect connections) that build chunks.
BUILDERS = 2


def _builder_connection() -> psycopg.Connection:
    conn = db.connect()
    conn.autocommit = True
    conn.prepare_threshold = None  # plain statements: each chunk is planned for its own ids
    for setting in records.SESSION_SETTINGS:
        conn.execute(setting)
    return conn


def build_parts(folder: ObjectStoragePath, *, campaign_id: int, add_to_group: str | None,
                sender: PartSender | None = None, chunk_voters: int | None = None, part_records: int | None = None,
                builders: int = BUILDERS,
                connect: Callable[[], psycopg.Connection] = _builder_connection) -> dict[str, Any]:  # fmt: skip
    """Build (and hand to ``sender``) every part; return the manifest, also written to the folder."""
    chunk_voters = chunk_voters or CHUNK_VOTERS
    part_records = part_records or PART_RECORDS
    if chunk_voters % part_records or part_records > MAX_RECORDS:
        raise ValueError(f"chunk_voters must be a multiple of part_records (at most {MAX_RECORDS})")
    voters = storage.read_voters(folder)
    ids = voters.column("voter_id").to_numpy()
    targeted = voters.column("targeted").to_numpy(zero_copy_only=False)
    started = time.monotonic()

    connections: queue.Queue = queue.Queue()
    opened: list[psycopg.Connection] = []
    for _ in range(builders):
        conn = connect()
        opened.append(conn)
        connections.put(conn)

    def build(start: int) -> list[records.BuiltPart]:
        conn = connections.get()
        try:
            chunk = records.build_chunk(conn, campaign_id=campaign_id, voter_ids=ids[start: start + chunk_voters],
                                        targeted=targeted[start: start + chunk_voters], add_to_group=add_to_group)  # fmt: skip
            return records.cut_parts(chunk, max_records=part_records)
        finally:
            connections.put(conn)

    parts: list[dict[str, Any]] = []

    def take(future: Future) -> None:
        for part in future.result():
            number = len(parts) + 1
            storage.write_part(folder, number, part.body)
            parts.append({"number": number, "records": part.records, "targeted": part.targeted,
                          "bytes": len(part.body), "sha256": part.sha256})  # fmt: skip
            if sender is not None:
                sender.put(number, part.body)

    try:
        with ThreadPoolExecutor(max_workers=builders, thread_name_prefix="build-chunk") as pool:
            pending: deque[Future] = deque()
            try:
                for start in range(0, len(ids), chunk_voters):
                    pending.append(pool.submit(build, start))
                    if len(pending) > builders:
                        take(pending.popleft())
                while pending:
                    take(pending.popleft())
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
    finally:
        for conn in opened:
            conn.close()

    record_count = sum(p["records"] for p in parts)
    targeted_sent = sum(p["targeted"] for p in parts)
    manifest = {
        "parts": parts,
        "part_count": len(parts),
        "record_count": record_count,
        "targeted_sent": targeted_sent,
        "housemates_sent": record_count - targeted_sent,
        "bytes": sum(p["bytes"] for p in parts),
        "voters_listed": int(len(ids)),
        "seconds": round(time.monotonic() - started, 3),
    }
    storage.write_manifest(folder, manifest)
    if record_count != len(ids):
        log.warning("%d listed voters were no longer found when their records were built (deleted or moved "
                    "to another campaign since the list was selected); they are not sent.",
                    len(ids) - record_count)  # fmt: skip
    return manifest


def summary(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without its per-part list: what goes to XCom."""
    return {key: value for key, value in manifest.items() if key != "parts"}


def targeted_ids(folder: ObjectStoragePath) -> np.ndarray:
    """The run's targeted voter ids (the "Add To Group" members), ascending."""
    voters = storage.read_voters(folder)
    ids = voters.column("voter_id").to_numpy()
    return ids[voters.column("targeted").to_numpy(zero_copy_only=False)]
