"""Who is sent (rule 2) and what each record holds (rule 3), against real PostgreSQL.

The selection is checked with both statements (``small``: by index, ``large``: one pass
over the campaign), which must always agree; records are built by the same code the DAG
runs (``records.build_chunk`` + ``cut_parts``) and parsed back.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import pyarrow as pa
import pytest

from webelect_sidekick.export import records, voters
from webelect_sidekick.export.records import BuiltPart

RECORD_KEYS = {
    "webelect_voter_id", "sos_voter_id", "rnc_reg_id", "targeted", "household_id", "first_name", "middle_name",
    "last_name", "suffix", "birth_date", "gender", "party", "registration_date", "voter_status", "precinct",
    "address", "tags", "notes", "phones", "emails",
}  # fmt: skip

TRICKY = [
    'She said "call me"\nafter 5pm, \\ not before',
    "Tab\there, CR\r\nand a bell \x07 and \x1f unit separator",
    "Emoji 👋🏽🗳️, Zoë, Nguyễn, 田中, Дмитриев, עברית, العربية",
    "line1\u2028line2\u2029 and a NUL-free \x7f DEL",
    "",
    " leading and trailing spaces ",
    "back\\slash\\\\double and \\u0041 not an escape",
]


@pytest.fixture
def conn(webelect):
    """The package's least-privilege role, with the builder's session settings."""
    with psycopg.connect(webelect.app_url, autocommit=True) as c:
        for setting in records.SESSION_SETTINGS:
            c.execute(setting)
        yield c


def selected(webelect, campaign_id: int, query_id: int, how: str) -> tuple[dict[int, bool], int]:
    with psycopg.connect(webelect.app_url) as c:
        sel = voters.select_voters(c, campaign_id=campaign_id, query_id=query_id, force=how)
    ids = sel.voters.column("voter_id").to_pylist()
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    return dict(zip(ids, sel.voters.column("targeted").to_pylist(), strict=True)), sel.skipped_purged


def export_lines(conn, campaign_id: int, chosen: dict[int, bool], add_to_group: str | None = None,
                 max_records: int = 10_000) -> tuple[list[bytes], list[BuiltPart]]:  # fmt: skip
    ids = np.array(sorted(chosen), dtype=np.int64)
    targeted = np.array([chosen[i] for i in ids], dtype=bool)
    chunk = records.build_chunk(conn, campaign_id=campaign_id, voter_ids=ids, targeted=targeted,
                                add_to_group=add_to_group)  # fmt: skip
    parts = records.cut_parts(chunk, max_records=max_records)
    data = b"".join(gzip.decompress(p.body) for p in parts)
    lines = data.split(b"\n")
    assert lines[-1] == b""
    return lines[:-1], parts


def by_id(lines: list[bytes]) -> dict[int, dict]:
    out = {}
    for line in lines:
        record = json.loads(line)
        assert set(record) == RECORD_KEYS, set(record) ^ RECORD_KEYS
        out[record["webelect_voter_id"]] = record
    return out


# --------------------------------------------------------------------------- rule 2: who is sent


@pytest.mark.parametrize("how", ["small", "large"])
def test_targeted_housemates_purged_and_no_cross_campaign(webelect, factory, how):
    c = factory.enabled_campaign("Ours")
    other = factory.enabled_campaign("Theirs")
    h1, h2, h3 = factory.household(c), factory.household(c), factory.household(c)
    t1 = factory.voter(c, h1)  # targeted
    mate = factory.voter(c, h1)  # housemate of t1
    purged_mate = factory.voter(c, h1, status="purged")  # purged: never a housemate
    inactive_mate = factory.voter(c, h1, status="inactive")  # not purged: a housemate
    t2 = factory.voter(c, h2)  # targeted, and also a housemate of t3: sent once, as targeted
    t3 = factory.voter(c, h2)
    p1 = factory.voter(c, h3, status="purged")  # purged query voter: skipped, brings no housemates
    p1_mate = factory.voter(c, h3)
    lonely = factory.voter(c, None)  # no household: no housemates
    nohh_other = factory.voter(c, None)  # another voter without household: not a "housemate" of lonely
    # Another campaign: a voter sharing household id h1 (bad data) and one listed in our query.
    foreign_mate = factory.voter(other, h1)
    foreign_in_query = factory.voter(other, factory.household(other))
    q = factory.query(c, [t1, t2, t3, p1, lonely, foreign_in_query])

    chosen, skipped = selected(webelect, c, q, how)
    assert chosen == {t1: True, t2: True, t3: True, lonely: True, mate: False, inactive_mate: False}
    assert skipped == 1
    for never in (purged_mate, p1, p1_mate, nohh_other, foreign_mate, foreign_in_query):
        assert never not in chosen


def test_both_statements_agree_on_a_bigger_random_campaign(webelect, factory):
    c = factory.enabled_campaign()
    other = factory.enabled_campaign("Other")
    rng = np.random.default_rng(7)
    households = [factory.household(c) for _ in range(40)] + [None]
    ids = []
    for _ in range(200):
        hh = households[rng.integers(len(households))]
        ids.append(factory.voter(c, hh, status=["active", "inactive", "purged"][rng.integers(3)]))
    strangers = [factory.voter(other, households[rng.integers(40)]) for _ in range(20)]
    q = factory.query(c, [int(v) for v in rng.choice(ids, 60, replace=False)] + strangers[:5])
    small, skipped_small = selected(webelect, c, q, "small")
    large, skipped_large = selected(webelect, c, q, "large")
    assert small == large and skipped_small == skipped_large
    assert not set(small) & set(strangers)
    assert sum(small.values()) + skipped_small == 60


# --------------------------------------------------------------------------- rule 3: the records


def test_record_format_orders_and_campaign_guards(webelect, factory, conn):
    c = factory.enabled_campaign("Ours")
    other = factory.enabled_campaign("Theirs")
    author = factory.user(c, "Jo.Author@Example.org")
    outsider = factory.user(other, "outsider@example.org")
    h = factory.household(c, line1="12 Elm St", unit="Apt 2", city="Columbus", state="OH", zip5="43215")
    v = factory.voter(c, h, sos_voter_id="OH0012345678", first_name="Ana", last_name="Ruiz", middle_name=None,
                      suffix="Jr", rnc_reg_id="RNC-1", birth_date="1980-04-02", gender="F", party="REP",
                      registration_date="2012-10-01", precinct="FRA-07")  # fmt: skip
    mate = factory.voter(c, h, first_name="Luis")
    bare = factory.voter(c, None, sos_voter_id="OH-BARE")

    # Tags: Sidekick spelling (sidekick_name, else name), blank sidekick_name = none, groups, dedupe, code point order.
    tags = {
        "yard": factory.tag(c, "Yard Sign Requested", sidekick_name="Yard Sign"),
        "walk": factory.tag(c, "Walk 12/04"),
        "blank": factory.tag(c, "zeta tag", sidekick_name="   "),
        "padded": factory.tag(c, "Padded", sidekick_name="  Vol "),
        "accent": factory.tag(c, "Élan"),
        "lower": factory.tag(c, "apple"),
        "dup": factory.tag(c, "Dup as group", sidekick_name="Team A"),
    }
    foreign_tag = factory.tag(other, "Their Secret Tag")
    for tag_id in tags.values():
        factory.tag_voter(v, tag_id)
    factory.tag_voter(v, foreign_tag)  # a voter_tags row pointing at another campaign's tag: never sent
    team = factory.group(c, "Team A")
    factory.add_to_group(team, v)
    factory.add_to_group(factory.group(c, "Ábaco"), v)
    factory.add_to_group(factory.group(other, "Their Group"), v)

    # Notes oldest first (created_at, then id), author email only from this campaign.
    t0 = datetime(2026, 11, 30, 15, 4, 5, 987654, tzinfo=UTC)
    n_late = factory.note(v, "later", created_at=t0 + timedelta(hours=1), created_by=author)
    n_tie_b = factory.note(v, TRICKY[0], created_at=t0, created_by=outsider)
    n_tie_c = factory.note(v, TRICKY[1], created_at=t0)
    n_early = factory.note(v, TRICKY[2], created_at=t0 - timedelta(days=400), created_by=author)
    assert n_tie_b < n_tie_c and n_early > n_late
    # Phones: rank desc, then number; emails likewise.
    factory.phone(v, "+16145550199", rank_score=50, phone_type="landline")
    factory.phone(v, "+16145550100", rank_score=50)
    factory.phone(v, "+16145550123", rank_score=90)
    factory.email(v, "b@example.org", rank_score=10)
    factory.email(v, "Z@example.org", rank_score=10)
    factory.email(v, "a@example.org", rank_score=90)

    lines, _ = export_lines(conn, c, {v: True, mate: False, bare: True}, add_to_group="Walk 12/04")
    got = by_id(lines)
    assert list(got) == [v, mate, bare]  # voter-id order
    r = got[v]
    assert {k: r[k] for k in RECORD_KEYS - {"tags", "notes", "phones", "emails"}} == {
        "webelect_voter_id": v, "sos_voter_id": "OH0012345678", "rnc_reg_id": "RNC-1", "targeted": True,
        "household_id": h, "first_name": "Ana", "middle_name": None, "last_name": "Ruiz", "suffix": "Jr",
        "birth_date": "1980-04-02", "gender": "F", "party": "REP", "registration_date": "2012-10-01",
        "voter_status": "active", "precinct": "FRA-07",
        "address": {"line1": "12 Elm St", "unit": "Apt 2", "city": "Columbus", "state": "OH", "zip5": "43215"},
    }  # fmt: skip
    expected_tags = sorted({"Yard Sign", "Walk 12/04", "zeta tag", "Vol", "Élan", "apple", "Team A", "Ábaco"})
    assert r["tags"] == expected_tags  # "Walk 12/04" once although tag and Add To Group
    assert r["tags"] == ["Team A", "Vol", "Walk 12/04", "Yard Sign", "apple", "zeta tag", "Ábaco", "Élan"]
    assert [n["body"] for n in r["notes"]] == [TRICKY[2], TRICKY[0], TRICKY[1], "later"]
    assert [n["author_email"] for n in r["notes"]] == ["Jo.Author@Example.org", None, None, "Jo.Author@Example.org"]
    assert r["notes"][1]["created_at"] == "2026-11-30T15:04:05Z"
    assert r["notes"][0]["created_at"] == (t0 - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert r["phones"] == [
        {"number": "+16145550123", "type": "cell", "rank": 90},
        {"number": "+16145550100", "type": "cell", "rank": 50},
        {"number": "+16145550199", "type": "landline", "rank": 50},
    ]
    assert r["emails"] == [{"address": "a@example.org", "rank": 90}, {"address": "Z@example.org", "rank": 10},
                           {"address": "b@example.org", "rank": 10}]  # fmt: skip
    # The housemate: not targeted, so no Add To Group tag; empty lists are [].
    assert got[mate]["targeted"] is False and got[mate]["tags"] == []
    assert got[mate]["notes"] == got[mate]["phones"] == got[mate]["emails"] == []
    # No household: address null; targeted, so it gets the group tag.
    assert got[bare]["address"] is None and got[bare]["household_id"] is None
    assert got[bare]["tags"] == ["Walk 12/04"]
    # Nothing of the other campaign anywhere.
    text = b"\n".join(lines).decode()
    for leak in ("Their Secret Tag", "Their Group", "outsider@example.org"):
        assert leak not in text


def test_text_arrives_byte_exact_and_parts_are_deterministic(webelect, factory, conn):
    c = factory.enabled_campaign()
    chosen = {}
    for i, text in enumerate(TRICKY):
        h = factory.household(c, line1=f'{i} "Quoted" St\\', city=text[:40] or "X", unit=text[:10] or None)
        v = factory.voter(c, h, first_name=text or "-", last_name=f"Last\t{i}", precinct=text[:5])
        factory.note(v, text)
        factory.tag_voter(v, factory.tag(c, f"tag {i} {text[:12]}"))
        chosen[v] = True
    lines, parts = export_lines(conn, c, chosen, add_to_group='Group "quoted" \\ 👋')
    got = by_id(lines)
    for v, text in zip(chosen, TRICKY, strict=True):
        r = got[v]
        assert r["notes"][0]["body"] == text
        assert r["first_name"] == (text or "-")
        assert r["address"]["city"] == (text[:40] or "X")
        assert r["precinct"] == text[:5]
        assert 'Group "quoted" \\ 👋' in r["tags"]
        row = webelect.rows("select body from webelect.notes where voter_id = %s", (v,))
        assert row == [(text,)]  # what PostgreSQL holds is exactly what arrived
    # Rebuilt parts are byte-identical (a retried task sends the same bytes).
    _, again = export_lines(conn, c, chosen, add_to_group='Group "quoted" \\ 👋')
    assert [p.sha256 for p in again] == [p.sha256 for p in parts]


def test_parts_hold_at_most_max_records_and_count_targeted(webelect, factory, conn):
    c = factory.enabled_campaign()
    h = factory.household(c)
    chosen = {factory.voter(c, h): i % 3 != 0 for i in range(25)}
    lines, parts = export_lines(conn, c, chosen, max_records=10)
    assert [p.records for p in parts] == [10, 10, 5]
    assert sum(p.targeted for p in parts) == sum(chosen.values())
    assert len(lines) == 25


def test_a_voter_deleted_after_selection_is_left_out_cleanly(webelect, factory, conn):
    c = factory.enabled_campaign()
    a, gone, b = factory.voter(c), factory.voter(c), factory.voter(c)
    factory.note(gone, "orphan note")
    factory.note(b, "kept note")
    ids, targeted = np.array([a, gone, b]), np.array([True, False, True])
    chunk = records.build_chunk(conn, campaign_id=c, voter_ids=ids, targeted=targeted, add_to_group=None)
    assert [json.loads(x)["webelect_voter_id"] for x in chunk.lines.to_pylist()] == [a, gone, b]
    # The voter moves to another campaign after the list was selected: it is not sent, and
    # its note does not slip into a neighbour's record.
    webelect.admin.execute("update webelect.voters set campaign_id = %s where id = %s",
                           (factory.campaign("Elsewhere"), gone))  # fmt: skip
    chunk = records.build_chunk(conn, campaign_id=c, voter_ids=ids, targeted=targeted, add_to_group=None)
    got = [json.loads(x) for x in chunk.lines.to_pylist()]
    assert [(r["webelect_voter_id"], r["targeted"], [n["body"] for n in r["notes"]]) for r in got] == [
        (a, True, []), (b, True, ["kept note"])]


def test_json_strings_escape_like_json_dumps():
    values = pa.array([*TRICKY, None, "plain", "ctrl \x00\x01\x0b\x0c\x0e end"])
    out = records.json_strings(values).to_pylist()
    for original, encoded in zip(values.to_pylist(), out, strict=True):
        assert json.loads(encoded) == original
        if original is not None:
            assert encoded == json.dumps(original, ensure_ascii=False)  # same text json.dumps writes
