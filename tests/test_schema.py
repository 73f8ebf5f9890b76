"""The dev/test webElect schema matches docs/spec/webelect-data-model.md column by column."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from devtools import postgres
from webelect_sidekick.migrations import apply_migrations

DOC = Path(__file__).resolve().parents[1] / "docs" / "spec" / "webelect-data-model.md"

_PG_TYPES = {
    "bigint": "bigint",
    "text": "text",
    "boolean": "boolean",
    "smallint": "smallint",
    "date": "date",
    "timestamptz": "timestamp with time zone",
    "char(2)": "character(2)",
    "char(5)": "character(5)",
}

# Tables the document describes in a sentence rather than a table: written out here.
_TERSE = {
    "groups": {"id": ("bigint", False), "campaign_id": ("bigint", False), "name": ("text", False),
               "created_at": ("timestamptz", True)},
    "group_members": {"group_id": ("bigint", False), "voter_id": ("bigint", False),
                      "added_at": ("timestamptz", True)},
    "emails": {"id": ("bigint", False), "voter_id": ("bigint", False), "address": ("text", False),
               "source": ("text", False), "rank_score": ("smallint", False),
               "created_at": ("timestamptz", False), "created_by": ("bigint", True)},
    "target_queries": {"id": ("bigint", False), "campaign_id": ("bigint", False), "name": ("text", False),
                       "created_by": ("bigint", True), "created_at": ("timestamptz", True)},
    "target_query_voters": {"query_id": ("bigint", False), "voter_id": ("bigint", False)},
}


def documented_tables() -> tuple[dict[str, dict[str, tuple[str, bool]]], set[tuple[str, str, str]]]:
    """Parse the document's tables: {table: {column: (type, nullable)}} and foreign keys."""
    tables: dict[str, dict[str, tuple[str, bool]]] = {}
    fks: set[tuple[str, str, str]] = set()
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^`(\w+)`(?:$| —| \()", line)
        if heading:
            current = heading.group(1)
            if current not in _TERSE:
                tables[current] = {}
            continue
        if current in tables and line.startswith("| ") and not line.startswith(("| column", "|---")):
            cells = [c.strip() for c in line.strip("|").split("|")]
            names, spec = cells[0], cells[1]
            type_match = re.match(r"(bigint|text|boolean|smallint|date|timestamptz|char\(\d\))", spec)
            assert type_match, f"unparsed type {spec!r}"
            pk = " PK" in spec or "primary key" in line.lower()
            nullable = not ("not null" in spec or pk)
            for name in names.split(","):
                tables[current][name.strip()] = (type_match.group(1), nullable)
                ref = re.search(r"→ (\w+)\.id", spec)
                if ref:
                    fks.add((current, name.strip(), ref.group(1)))
    tables.update(_TERSE)
    # voter_tags' primary key (voter_id, tag_id) makes both not null.
    tables["voter_tags"]["voter_id"] = ("bigint", False)
    tables["voter_tags"]["tag_id"] = ("bigint", False)
    fks |= {("emails", "created_by", "users")}
    return tables, fks


def test_every_documented_column_exists_with_its_type_and_nullability(webelect):
    expected, _ = documented_tables()
    assert len(expected) == 13
    actual: dict[str, dict[str, tuple[str, bool]]] = {}
    for table, column, data_type, length, nullable in webelect.rows(
        "select table_name, column_name, data_type, character_maximum_length, is_nullable = 'YES'"
        " from information_schema.columns where table_schema = 'webelect'"
        " and table_name not like 'sidekick\\_%%'"
    ):
        shown = f"{data_type}({length})" if data_type == "character" else data_type
        actual.setdefault(table, {})[column] = (shown, nullable)
    assert set(actual) == set(expected)
    for table, columns in expected.items():
        want = {name: (_PG_TYPES[t], nullable) for name, (t, nullable) in columns.items()}
        assert actual[table] == want, table


def test_documented_foreign_keys(webelect):
    _, fks = documented_tables()
    rows = set(webelect.rows(
        """
        select c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text
        from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
        where c.contype = 'f' and c.connamespace = 'webelect'::regnamespace
        """
    ))
    assert {(f"webelect.{t}", col, f"webelect.{ref}") for t, col, ref in fks} == rows


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("insert into webelect.users (campaign_id, email, level) values (%(c)s, 'Jo@Example.org', 1)",
         "insert into webelect.users (campaign_id, email, level) values (%(c)s, 'jo@example.ORG', 1)"),
        ("insert into webelect.emails (voter_id, address, source, rank_score) values (%(v)s, 'A@b.org', 'user', 90)",
         "insert into webelect.emails (voter_id, address, source, rank_score) values (%(v)s, 'a@B.org', 'user', 90)"),
        ("insert into webelect.phones (voter_id, number, phone_type, source, rank_score)"
         " values (%(v)s, '+16145550123', 'cell', 'user', 90)",
         "insert into webelect.phones (voter_id, number, phone_type, source, rank_score)"
         " values (%(v)s, '+16145550123', 'landline', 'vendor', 10)"),
        ("insert into webelect.groups (campaign_id, name) values (%(c)s, 'Walkers')",
         "insert into webelect.groups (campaign_id, name) values (%(c)s, 'Walkers')"),
        ("insert into webelect.voters (campaign_id, sos_voter_id, first_name, last_name, status)"
         " values (%(c)s, 'OH1', 'A', 'B', 'active')",
         "insert into webelect.voters (campaign_id, sos_voter_id, first_name, last_name, status)"
         " values (%(c)s, 'OH1', 'C', 'D', 'inactive')"),
        ("insert into webelect.notes (voter_id, body, created_at, source, external_id)"
         " values (%(v)s, 'x', now(), 'sidekick', 'chg_1')",
         "insert into webelect.notes (voter_id, body, created_at, source, external_id)"
         " values (%(v)s, 'y', now(), 'sidekick', 'chg_1')"),
        ("update webelect.campaigns set sidekick_token = 'same-token' where id = %(c)s",
         "insert into webelect.campaigns (name, sidekick_token) values ('Other', 'same-token')"),
    ],
    ids=["users-email-any-case", "emails-address-any-case", "phones-number", "groups-name",
         "voters-sos-id", "notes-external-id", "campaigns-token"],
)
def test_unique_rules(webelect, factory, first, second):
    campaign = factory.campaign()
    voter = factory.voter(campaign)
    params = {"c": campaign, "v": voter}
    webelect.admin.execute(first, params)
    with pytest.raises(psycopg.errors.UniqueViolation):
        webelect.admin.execute(second, params)


def test_same_email_is_allowed_in_another_campaign(webelect, factory):
    factory.user(factory.campaign("A"), "jo@example.org")
    factory.user(factory.campaign("B"), "JO@example.org")
    assert webelect.scalar("select count(*) from webelect.users") == 2


def test_schema_and_migrations_are_idempotent(webelect):
    def snapshot():
        return webelect.rows(
            "select table_name, column_name, data_type, is_nullable, column_default"
            " from information_schema.columns where table_schema = 'webelect' order by 1, 2"
        ), webelect.rows("select indexname, indexdef from pg_indexes where schemaname = 'webelect' order by 1")

    before = snapshot()
    postgres.install_webelect_schema(webelect.admin_url)
    with psycopg.connect(webelect.app_url) as conn:
        assert apply_migrations(conn) == []
    assert snapshot() == before


def test_package_role_is_least_privilege(webelect):
    role = postgres.APP_ROLE
    assert webelect.scalar("select rolsuper or rolcreatedb or rolcreaterole from pg_roles where rolname = %s",
                           (role,)) is False
    owned = webelect.rows(
        "select tablename from pg_tables where schemaname = 'webelect' and tableowner = %s", (role,)
    )
    assert owned and all(name.startswith("sidekick_") for (name,) in owned)
    privileges = webelect.rows(
        "select distinct privilege_type from information_schema.role_table_grants"
        " where grantee = %s and table_schema = 'webelect' and table_name = 'voters'", (role,)
    )
    assert {p for (p,) in privileges} == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    with psycopg.connect(webelect.app_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("alter table webelect.voters add column nope text")
