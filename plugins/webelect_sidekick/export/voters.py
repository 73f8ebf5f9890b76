"""Which voters an export sends: the query's targeted voters and their housemates (rule 2).

One set-based statement decides it in PostgreSQL (``select_voters.sql`` by index for a
query that is a small share of the voters, ``select_voters_large.sql`` in one pass over
the campaign for a large one; both give the same answer). The answer is small (an id and
a flag per voter) and goes to the run folder as Parquet, ordered by voter id.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv

from webelect_sidekick import sql

SCHEMA = pa.schema([("voter_id", pa.int64()), ("targeted", pa.bool_())])

#: Settings for the one big statement: room for its hashes and sort, no JIT compile, no
#: parallel workers (on a small worker they compete with the export itself).
SESSION_SETTINGS = ("set local work_mem = '256MB'", "set local jit = off",
                    "set local max_parallel_workers_per_gather = 0")

#: A query holding at least this share of all voters is selected in one pass over the
#: campaign (select_voters_large.sql); a smaller one by index (select_voters.sql).
LARGE_SHARE = 0.10


@dataclass(frozen=True)
class Selection:
    voters: pa.Table  # voter_id (ascending), targeted: the voters to send
    skipped_purged: int  # the query's purged voters of its campaign: counted, never sent

    @property
    def targeted(self) -> int:
        return int(np.count_nonzero(self.voters.column("targeted").to_numpy(zero_copy_only=False)))

    @property
    def housemates(self) -> int:
        return self.voters.num_rows - self.targeted


def strategy(conn: psycopg.Connection, query_rows: int) -> str:
    """``"large"`` when the query holds a large share of the voters table (planner statistics), else ``"small"``."""
    total = conn.execute("select reltuples from pg_class where oid = 'webelect.voters'::regclass").fetchone()[0]
    return "large" if total and total > 0 and query_rows >= LARGE_SHARE * total else "small"


def select_voters(conn: psycopg.Connection, *, campaign_id: int, query_id: int, query_rows: int | None = None,
                  force: str | None = None) -> Selection:  # fmt: skip
    """The voters to send, in one consistent snapshot (a repeatable-read, read-only transaction).

    ``query_rows`` (the query's size, known from the request step) picks the statement;
    ``force`` ("small" or "large") overrides it, for tests.
    """
    params = {"campaign_id": campaign_id, "query_id": query_id}
    how = force or (strategy(conn, query_rows) if query_rows else "small")
    name = "select_voters_large" if how == "large" else "select_voters"
    statement = f"copy ({sql.load(f'sidekick_export/{name}.sql').rstrip().rstrip(';')}) to stdout (format csv)"
    conn.commit()
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    out = io.BytesIO()
    with conn.transaction():
        for setting in SESSION_SETTINGS:
            conn.execute(setting)
        with conn.cursor() as cur, cur.copy(statement, params) as copy:
            for block in copy:
                out.write(block)
    return _parse(out.getvalue())


def _parse(data: bytes) -> Selection:
    if not data:
        return Selection(SCHEMA.empty_table(), 0)
    table = pa_csv.read_csv(
        io.BytesIO(data),
        read_options=pa_csv.ReadOptions(column_names=["voter_id", "kind"]),
        convert_options=pa_csv.ConvertOptions(column_types={"voter_id": pa.int64(), "kind": pa.int8()}),
    ).combine_chunks()
    kind = table.column("kind").to_numpy()
    sent = kind != 2
    ids = table.column("voter_id").to_numpy()[sent]
    voters = pa.table({"voter_id": pa.array(ids), "targeted": pa.array(kind[sent] == 1)}, schema=SCHEMA)
    return Selection(voters, int(np.count_nonzero(~sent)))
