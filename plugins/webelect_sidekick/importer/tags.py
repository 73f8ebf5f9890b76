"""Step 2: map Sidekick tag names to webElect tags (set-based, idempotent).

For each distinct tag name (trimmed) among the campaign's unapplied, usable tag changes for
voters of the campaign:
1. a tag of the campaign whose ``sidekick_name`` equals it (both trimmed, exact case);
2. else one whose ``name`` equals it (both trimmed, any case);
   — the lowest id wins ties;
3. else a new tag under the root tag 'Sidekick' (created when missing), named as Sidekick
   spells it and with ``sidekick_name`` set to that spelling, so that the next night finds it
   by rule 1 and never creates it twice. Names that differ only in case get one new tag.
Changes that will be rejected (unknown voter, empty tag, ...) create no tag.
The result goes to ``sidekick_import_tag_map`` for the run; the merge reads it.
"""

from __future__ import annotations

import psycopg

from webelect_sidekick import sql


def map_tags(conn: psycopg.Connection, campaign_id: int, run_id: str) -> dict:
    params = {"campaign_id": campaign_id, "run_id": run_id}
    root_created = False
    with conn.transaction():
        conn.execute(sql.load("sidekick_import/lock_campaign.sql"), params)
        conn.execute("drop table if exists pg_temp.sidekick_tag_wanted")
        conn.execute(sql.load("sidekick_import/tags_wanted_table.sql"))
        conn.execute(sql.load("sidekick_import/tags_wanted.sql"), params)
        unmatched = conn.execute("select count(*) from pg_temp.sidekick_tag_wanted where tag_id is null").fetchone()[0]
        if unmatched:
            row = conn.execute(sql.load("sidekick_import/tags_root_find.sql"), params).fetchone()
            if row is None:
                row = conn.execute(sql.load("sidekick_import/tags_root_create.sql"), params).fetchone()
                root_created = True
                conn.execute(sql.load("sidekick_import/tags_root_flag.sql"), params)
            conn.execute(sql.load("sidekick_import/tags_create.sql"), {**params, "root_id": row[0]})
        saved = conn.execute(sql.load("sidekick_import/tags_map_save.sql"), params).fetchall()
        created = conn.execute(
            "select count(distinct tag_id) from pg_temp.sidekick_tag_wanted where created"
        ).fetchone()[0]
    return {"tag_names": len(saved), "tags_created_now": created, "root_tag_created_now": root_created}
