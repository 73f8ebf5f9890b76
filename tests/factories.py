"""Small, explicit builders for webElect rows in tests.

Each method inserts one row as webElect itself would (through the superuser
connection) and returns its id, so a test reads as the story it checks.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import psycopg

_seq = itertools.count(1)


class WebElectFactory:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def _insert(self, table: str, values: dict) -> int:
        columns = ", ".join(values)
        placeholders = ", ".join(f"%({k})s" for k in values)
        query = f"insert into webelect.{table} ({columns}) values ({placeholders}) returning id"  # noqa: S608
        return self.conn.execute(query, values).fetchone()[0]

    def campaign(self, name: str = "Test Campaign", *, enabled: bool = False, token: str | None = None,
                 timezone_name: str = "America/New_York") -> int:
        return self._insert("campaigns", {
            "name": name, "timezone": timezone_name, "sidekick_enabled": enabled, "sidekick_token": token,
        })

    def enabled_campaign(self, name: str = "Test Campaign", token: str | None = None) -> int:
        token = token or f"test-token-{next(_seq):06d}-abcdefghijklmnopqrstuvwxyz0123456789"
        return self.campaign(name, enabled=True, token=token)

    def user(self, campaign_id: int, email: str | None = None, *, level: int = 1,
             expires_at: datetime | None = None, first_name: str | None = "Pat",
             last_name: str | None = "Lee") -> int:
        return self._insert("users", {
            "campaign_id": campaign_id, "email": email or f"user{next(_seq)}@example.org", "level": level,
            "expires_at": expires_at, "first_name": first_name, "last_name": last_name,
        })

    def household(self, campaign_id: int, *, line1: str = "12 Elm St", unit: str | None = None,
                  city: str = "Columbus", state: str = "OH", zip5: str = "43215") -> int:
        return self._insert("households", {
            "campaign_id": campaign_id, "address_line1": line1, "unit": unit, "city": city,
            "state": state, "zip5": zip5,
        })

    def voter(self, campaign_id: int, household_id: int | None = None, *, status: str = "active",
              sos_voter_id: str | None = None, first_name: str = "Ana", last_name: str = "Ruiz",
              **extra) -> int:
        values = {
            "campaign_id": campaign_id, "household_id": household_id, "status": status,
            "sos_voter_id": sos_voter_id or f"OH{next(_seq):010d}", "first_name": first_name,
            "last_name": last_name,
        }
        values.update(extra)
        return self._insert("voters", values)

    def tag(self, campaign_id: int, name: str, *, parent_id: int | None = None,
            sidekick_name: str | None = None) -> int:
        return self._insert("tags", {
            "campaign_id": campaign_id, "name": name, "parent_id": parent_id, "sidekick_name": sidekick_name,
        })

    def tag_voter(self, voter_id: int, tag_id: int) -> None:
        self.conn.execute("insert into webelect.voter_tags (voter_id, tag_id) values (%s, %s)", (voter_id, tag_id))

    def group(self, campaign_id: int, name: str) -> int:
        return self._insert("groups", {"campaign_id": campaign_id, "name": name})

    def add_to_group(self, group_id: int, voter_id: int) -> None:
        self.conn.execute(
            "insert into webelect.group_members (group_id, voter_id) values (%s, %s)", (group_id, voter_id)
        )

    def note(self, voter_id: int, body: str, *, created_at: datetime | None = None,
             created_by: int | None = None, source: str = "webelect") -> int:
        return self._insert("notes", {
            "voter_id": voter_id, "body": body, "created_at": created_at or datetime.now(UTC),
            "created_by": created_by, "source": source,
        })

    def phone(self, voter_id: int, number: str, *, phone_type: str = "cell", source: str = "voter_file",
              rank_score: int = 50) -> int:
        return self._insert("phones", {
            "voter_id": voter_id, "number": number, "phone_type": phone_type, "source": source,
            "rank_score": rank_score,
        })

    def email(self, voter_id: int, address: str, *, source: str = "voter_file", rank_score: int = 50) -> int:
        return self._insert("emails", {
            "voter_id": voter_id, "address": address, "source": source, "rank_score": rank_score,
        })

    def query(self, campaign_id: int, voter_ids: list[int], name: str = "Test query") -> int:
        query_id = self._insert("target_queries", {"campaign_id": campaign_id, "name": name})
        with self.conn.cursor() as cur:
            cur.executemany(
                "insert into webelect.target_query_voters (query_id, voter_id) values (%s, %s)",
                [(query_id, v) for v in voter_ids],
            )
        return query_id
