"""The run's folder: where an export's steps hand data to each other (never XCom).

``WEBELECT_SIDEKICK_STORAGE`` names the base, any fsspec URL Airflow's ``ObjectStoragePath``
understands (``file:///srv/airflow/exports``, ``s3://bucket/prefix`` with an Airflow
connection, …); by default ``file://$AIRFLOW_HOME/webelect-sidekick-runs``, which suits a
single machine. With workers on several machines it must be shared storage (S3, GCS, NFS):
each step may run on another worker.

Layout, one folder per run (named by the run's upload key)::

    <base>/sidekick_export/<upload_key>/voters.parquet       voter_id, targeted (voter-id order)
    <base>/sidekick_export/<upload_key>/parts/00001.ndjson.gz the gzip parts, as sent
    <base>/sidekick_export/<upload_key>/manifest.json        per part: records, targeted, sha256

The clean-up step deletes the folder at the end of the run, whether it succeeded or not.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from airflow.sdk import ObjectStoragePath

from webelect_sidekick.errors import UserFacingError

STORAGE_ENV = "WEBELECT_SIDEKICK_STORAGE"


def base() -> ObjectStoragePath:
    url = os.environ.get(STORAGE_ENV, "").strip()
    if not url:
        home = os.environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow")
        url = f"file://{Path(home).resolve()}/webelect-sidekick-runs"
    return ObjectStoragePath(url)


def run_folder(upload_key: str) -> ObjectStoragePath:
    return base() / "sidekick_export" / upload_key


def folder_from(url: str) -> ObjectStoragePath:
    return ObjectStoragePath(url)


def _missing(path: ObjectStoragePath, what: str) -> UserFacingError:
    return UserFacingError(
        f"The run's {what} ({path}) is gone (the run's clean-up step removed it, or {STORAGE_ENV} changed): "
        "clear the run from 'select_voters' on (Clear with 'Downstream') so that it is built again; "
        "the same Sidekick upload is resumed, nothing is sent twice."
    )


def write_voters(folder: ObjectStoragePath, table: pa.Table) -> ObjectStoragePath:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "voters.parquet"
    with path.open("wb") as f:
        pq.write_table(table, f, compression="zstd")
    return path


def read_voters(folder: ObjectStoragePath) -> pa.Table:
    path = folder / "voters.parquet"
    if not path.exists():
        raise _missing(path, "voter list")
    with path.open("rb") as f:
        return pq.read_table(f)


def part_path(folder: ObjectStoragePath, number: int) -> ObjectStoragePath:
    return folder / "parts" / f"{number:05d}.ndjson.gz"


def write_part(folder: ObjectStoragePath, number: int, body: bytes) -> None:
    path = part_path(folder, number)
    if number == 1 or not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(body)


def read_part(folder: ObjectStoragePath, number: int) -> bytes:
    path = part_path(folder, number)
    if not path.exists():
        raise _missing(path, f"part {number}")
    with path.open("rb") as f:
        return f.read()


def write_manifest(folder: ObjectStoragePath, manifest: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "manifest.json").open("wb") as f:
        f.write(json.dumps(manifest, separators=(",", ":")).encode())


def read_manifest(folder: ObjectStoragePath) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.exists():
        raise _missing(path, "list of parts")
    with path.open("rb") as f:
        return json.loads(f.read())


def remove(folder: ObjectStoragePath) -> bool:
    """Delete the run's folder; False when there was nothing to delete."""
    if not folder.exists():
        return False
    folder.rmdir(recursive=True)
    return True
