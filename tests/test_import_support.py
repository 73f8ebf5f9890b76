"""Helpers for the sidekick_import tests (no tests here).

``Feed`` is an in-memory changes feed with the API's semantics (opaque cursors, pages,
at-least-once redelivery), used where a test is about the SQL rules rather than HTTP; the
HTTP path is tested against the simulator in test_import_pull.py and test_import_dag.py.
``snapshot`` reads every webElect row the import may write, for exact comparisons.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

_ids = itertools.count(1)
T0 = datetime(2026, 12, 3, 21, 0, 0, tzinfo=UTC)


def change(change_type: str, *, voter_id: int | None = None, sos: str | None = None,
           user: str | None = "pat.lee@example.org", first_name: str | None = "Pat", last_name: str | None = "Lee",
           change_id: str | None = None, occurred_at: datetime | None = None, **fields) -> dict:
    """One change as Sidekick sends it. ``fields``: tag=..., note=..., phone={...}, email=..."""
    n = next(_ids)
    body = {
        "id": change_id or f"chg_test_{n:08d}",
        "seq": n,
        "type": change_type,
        "occurred_at": (occurred_at or T0 + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "voter": {"webelect_voter_id": voter_id, "sos_voter_id": sos},
        "user": None if user is None else {"email": user, "first_name": first_name, "last_name": last_name},
    }
    body.update(fields)
    return body


class Feed:
    """Sidekick's changes feed for one account, in memory: ``pages`` is a ``PageSource``.

    The cursor is "pos:<index>"; ``redeliver`` repeats the last ``redeliver`` changes of each
    page at the start of the next one (as the simulator does); ``expired`` answers 410.
    """

    def __init__(self, changes: list[dict] | None = None, *, page_size: int = 3, redeliver: int = 0):
        self.changes = list(changes or [])
        self.page_size = page_size
        self.redeliver = redeliver
        self.requests = 0
        self.expired: set[str] = set()

    def add(self, *changes: dict) -> None:
        self.changes.extend(changes)

    def pages(self, cursor: str | None) -> Iterator[dict]:
        pos = 0 if cursor is None else int(cursor.split(":")[1])
        while True:
            self.requests += 1
            chunk = self.changes[pos:pos + self.page_size]
            nxt = pos + len(chunk)
            if self.redeliver and len(chunk) >= 2 and nxt < len(self.changes):
                nxt -= min(self.redeliver, len(chunk) - 1)
            has_more = pos + len(chunk) < len(self.changes)
            yield {"changes": chunk, "next_cursor": f"pos:{nxt if has_more else pos + len(chunk)}", "has_more": has_more}
            if not has_more:
                return
            pos = nxt


TABLES = {
    "tags": "select id, campaign_id, name, parent_id, sidekick_name from webelect.tags order by id",
    "voter_tags": "select voter_id, tag_id, created_by from webelect.voter_tags order by voter_id, tag_id",
    "users": "select id, campaign_id, email, first_name, last_name, level, expires_at = created_at, created_via"
             " from webelect.users order by id",
    "notes": "select voter_id, body, created_at, created_by, source, external_id from webelect.notes order by id",
    "phones": "select voter_id, number, phone_type, source, rank_score, created_by from webelect.phones order by id",
    "emails": "select voter_id, address, source, rank_score, created_by from webelect.emails order by id",
}


def snapshot(webelect) -> dict[str, list[tuple]]:
    return {name: webelect.rows(query) for name, query in TABLES.items()}


LOGICAL = {
    "tags": "select t.name, p.name, t.sidekick_name from webelect.tags t"
            " left join webelect.tags p on p.id = t.parent_id order by t.name",
    "users": "select email, first_name, last_name, level, expires_at = created_at, created_via"
             " from webelect.users order by lower(email)",
    "voter_tags": "select vt.voter_id, t.name, u.email from webelect.voter_tags vt join webelect.tags t on t.id = vt.tag_id"
                  " left join webelect.users u on u.id = vt.created_by order by 1, 2",
    "notes": "select n.voter_id, n.body, n.created_at, n.source, n.external_id, u.email from webelect.notes n"
             " left join webelect.users u on u.id = n.created_by order by n.external_id",
    "phones": "select p.voter_id, p.number, p.phone_type, p.source, p.rank_score, u.email from webelect.phones p"
              " left join webelect.users u on u.id = p.created_by order by 1, 2",
    "emails": "select e.voter_id, e.address, e.source, e.rank_score, u.email from webelect.emails e"
              " left join webelect.users u on u.id = e.created_by order by 1, 2",
}


def logical_snapshot(webelect) -> dict[str, list[tuple]]:
    """Every row the import may write, with tags and users by name (ids depend on the order of creation)."""
    return {name: webelect.rows(query) for name, query in LOGICAL.items()}
