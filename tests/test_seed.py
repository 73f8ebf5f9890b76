"""devtools.seed: what the demo and docker-compose stand on, and that it can run twice."""

from __future__ import annotations

import os

import httpx
import psycopg
import pytest

from devtools import postgres
from devtools.seed import seed


@pytest.fixture
def scratch_db(pg_server):
    name = f"webelect_seed_{os.getpid()}"
    url = postgres.create_database(pg_server, name, recreate=True)
    yield url
    postgres.drop_database(pg_server, name)


def test_seed_enables_every_campaign_and_registers_its_token_with_sidekick(scratch_db, sidekick):
    result = seed(scratch_db, simulator_url=sidekick.url, voters=300, campaigns=2)
    assert len(result.campaigns) == 2
    with psycopg.connect(scratch_db) as conn:
        rows = conn.execute(
            "select id, sidekick_enabled, sidekick_token, sidekick_enabled_by from webelect.campaigns order by id"
        ).fetchall()
    assert all(enabled and token and by for _, enabled, token, by in rows)
    for campaign, (_, _, token, _) in zip(result.campaigns, rows, strict=True):
        assert campaign.sidekick_account_id is not None
        # Sidekick accepts the token webElect stores: the admin "pasted" it.
        answer = httpx.get(f"{sidekick.url}/v1/uploads", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
        assert campaign.query_ids, "saved queries are listed for the demo"
    # The package's own tables belong to the least-privilege role, not the superuser.
    with psycopg.connect(scratch_db) as conn:
        owners = {o for (o,) in conn.execute(
            "select tableowner from pg_tables where schemaname = 'webelect' and tablename like 'sidekick%%'"
        )}
    assert owners == {postgres.APP_ROLE}

    again = seed(scratch_db, simulator_url=sidekick.url, voters=300, campaigns=2)
    assert [c.id for c in again.campaigns] == [c.id for c in result.campaigns]
    with psycopg.connect(scratch_db) as conn:
        assert conn.execute("select count(*) from webelect.campaigns").fetchone()[0] == 2
        tokens_after = [t for (t,) in conn.execute("select sidekick_token from webelect.campaigns order by id")]
    assert tokens_after == [row[2] for row in rows], "a re-run keeps the tokens Sidekick already has"
