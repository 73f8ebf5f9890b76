"""Step 3: resolve Sidekick users to webElect users of the campaign (set-based, idempotent).

Each distinct user email (trimmed, any case) among the campaign's unapplied, usable changes
for voters of the campaign is matched to a user of THE SAME campaign by ``lower(email)``
(webElect's own unique key) — never to a user of another campaign. Anyone not found is
created with level 0, ``expires_at`` = the moment of creation (so webElect's login rule,
level > 0 and (expires_at is null or expires_at > now()), never lets them in),
``created_via = 'sidekick'`` and the first and last name Sidekick sent (from the earliest
change; the email as that change spelled it). The result goes to ``sidekick_import_user_map``.
"""

from __future__ import annotations

import psycopg

from webelect_sidekick import sql


def resolve_users(conn: psycopg.Connection, campaign_id: int, run_id: str) -> dict:
    params = {"campaign_id": campaign_id, "run_id": run_id}
    with conn.transaction():
        conn.execute(sql.load("sidekick_import/lock_campaign.sql"), params)
        conn.execute("drop table if exists pg_temp.sidekick_user_wanted")
        conn.execute(sql.load("sidekick_import/users_wanted_table.sql"))
        conn.execute(sql.load("sidekick_import/users_wanted.sql"), params)
        # Twice: a user that webElect itself created in between makes the insert skip it
        # (ON CONFLICT), and the second match picks it up.
        for _ in range(2):
            conn.execute(sql.load("sidekick_import/users_match.sql"), params)
            conn.execute(sql.load("sidekick_import/users_create.sql"), params)
        saved = conn.execute(sql.load("sidekick_import/users_map_save.sql"), params).fetchall()
        created = conn.execute("select count(*) from pg_temp.sidekick_user_wanted where created").fetchone()[0]
    return {"users": len(saved), "users_created_now": created}
