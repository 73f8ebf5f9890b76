"""devtools.synthetic: realistic, deterministic, isolated campaigns in a real PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from devtools import synthetic

REPO = Path(__file__).resolve().parents[1]

# Each table with the columns that order it completely.
_ORDER = {
    "campaigns": "id", "users": "id", "households": "id", "voters": "id", "tags": "id",
    "voter_tags": "voter_id, tag_id", "groups": "id", "group_members": "group_id, voter_id", "notes": "id",
    "phones": "id", "emails": "id", "target_queries": "id", "target_query_voters": "query_id, voter_id",
}


def checksums(webelect) -> dict[str, tuple[int, str]]:
    out = {}
    for table, order in _ORDER.items():
        out[table] = tuple(webelect.rows(
            f"select count(*), md5(string_agg(t::text, E'\\n' order by {order})) from webelect.{table} t"  # noqa: S608
        )[0])
    return out


def test_same_seed_gives_identical_rows_ids_included(webelect):
    first = synthetic.generate(webelect.admin, voters=[1_500, 400], seed=11, reset=True)
    one = checksums(webelect)
    second = synthetic.generate(webelect.admin, voters=[1_500, 400], seed=11, reset=True)
    two = checksums(webelect)
    assert one == two
    assert first["campaigns"] == second["campaigns"]
    assert first["counts"] == second["counts"]
    assert all(count > 0 for count, _ in one.values())

    synthetic.generate(webelect.admin, voters=[1_500, 400], seed=12, reset=True)
    other = checksums(webelect)
    assert other["voters"][1] != one["voters"][1]
    assert other["notes"][1] != one["notes"][1]


def test_households_purged_and_homeless_voters(webelect):
    result = synthetic.generate(webelect.admin, voters=3_000, seed=1)
    cid = result["campaign_ids"][0]
    sizes = dict(webelect.rows(
        "select size, count(*) from (select h.id, count(v.id) as size from webelect.households h"
        " left join webelect.voters v on v.household_id = h.id where h.campaign_id = %s group by h.id) s"
        " group by size", (cid,)))
    assert set(sizes) - {0} == {1, 2, 3, 4, 5, 6}, sizes
    assert sizes.get(0, 0) >= 1, "some households have no voter"
    occupied = sum(n for s, n in sizes.items() if s)
    assert 2.0 <= sum(s * n for s, n in sizes.items()) / occupied <= 2.4
    status = dict(webelect.rows("select status, count(*) from webelect.voters where campaign_id = %s group by 1",
                                (cid,)))
    assert status["purged"] == 30  # ~1 %
    assert 200 <= status["inactive"] <= 400
    assert status["active"] > 2_500
    assert webelect.scalar("select count(*) from webelect.voters where household_id is null") == 60
    # Purged voters who have housemates: the export must not bring those housemates along.
    assert webelect.scalar(
        "select count(*) from webelect.voters p join webelect.voters o on o.household_id = p.household_id"
        " and o.id <> p.id where p.status = 'purged'") > 0
    assert webelect.scalar("select count(*) from webelect.households where unit is not null") > 100
    assert webelect.scalar("select count(*) from webelect.voters where rnc_reg_id is null") > 100
    assert webelect.scalar("select count(*) from webelect.voters where middle_name is not null") > 500
    assert webelect.scalar("select count(*) from webelect.voters where suffix is not null") > 10
    assert set(r[0] for r in webelect.rows("select distinct gender from webelect.voters")) == {"M", "F", "X", None}
    assert webelect.scalar(
        "select count(*) from webelect.voters where sos_voter_id !~ '^[A-Z]{2}[0-9]{10}$'") == 0


def test_text_survives_the_csv_load(webelect):
    synthetic.generate(webelect.admin, voters=3_000, seed=2)
    bodies = [r[0] for r in webelect.rows("select body from webelect.notes")]
    assert any("," in b for b in bodies)
    assert any('"' in b for b in bodies)
    assert any("\n" in b for b in bodies)
    assert any("\\" in b for b in bodies)
    assert any(re.search(r"[\U0001F300-\U0001FAFF]", b) for b in bodies), "emoji"
    assert any(re.search(r"[\u4e00-\u9fff]", b) for b in bodies), "Chinese"
    assert any(re.search(r"[ạ-ỹ]", b) for b in bodies), "Vietnamese"
    assert 'Said "call me after 6pm" and closed the door.' in bodies
    assert set(bodies) <= {a + b for a in synthetic._NOTES for b in ("", *("\n" + f for f in synthetic._NOTE_FOLLOWUPS))}
    names = [r[0] for r in webelect.rows("select first_name || ' ' || last_name from webelect.voters")]
    assert any(re.search(r"[áéíóúñÁÉÍÓÚÑ]", n) for n in names), "Spanish accents"
    assert any(re.search(r"[ăâđêôơưĐ]|[ạ-ỹ]", n) for n in names), "Vietnamese"
    assert any(re.search(r"[\u4e00-\u9fff]", n) for n in names), "Chinese characters"
    assert any("'" in n for n in names) and any("-" in n for n in names)
    assert webelect.scalar("select count(*) from webelect.notes where source = 'sidekick' and external_id is null") == 0
    assert webelect.scalar("select count(*) from webelect.notes where source = 'sidekick'") > 0


def test_phones_are_e164_and_contacts_vary(webelect):
    synthetic.generate(webelect.admin, voters=3_000, seed=3)
    assert webelect.scalar("select count(*) from webelect.phones") > 1_000
    assert webelect.scalar(r"select count(*) from webelect.phones where number !~ '^\+1[2-9][0-9]{2}[2-9][0-9]{6}$'") == 0
    assert {r[0] for r in webelect.rows("select distinct source from webelect.phones")} == {"voter_file", "vendor", "user"}
    assert {r[0] for r in webelect.rows("select distinct source from webelect.emails")} == {"voter_file", "vendor", "user"}
    assert {r[0] for r in webelect.rows("select distinct phone_type from webelect.phones")} == {"cell", "landline", "unknown"}
    lo, hi = webelect.rows("select min(rank_score), max(rank_score) from webelect.phones")[0]
    assert 0 <= lo < 50 < hi <= 100
    assert webelect.scalar("select count(*) from webelect.phones where source = 'user' and created_by is null") == 0
    per_voter = dict(webelect.rows(
        "select n, count(*) from (select v.id, count(p.id) n from webelect.voters v"
        " left join webelect.phones p on p.voter_id = v.id group by v.id) s group by n"))
    assert per_voter[0] > 1_000 and per_voter.get(3, 0) > 0
    emails_per_voter = dict(webelect.rows(
        "select n, count(*) from (select v.id, count(e.id) n from webelect.voters v"
        " left join webelect.emails e on e.voter_id = v.id group by v.id) s group by n"))
    assert emails_per_voter[0] > 1_500 and emails_per_voter.get(2, 0) > 0
    assert webelect.scalar("select count(*) from webelect.emails where address !~ '^[A-Za-z0-9._]+@[a-z.]+$'") == 0
    # Housemates sometimes share the household landline.
    assert webelect.scalar(
        "select count(*) from (select number from webelect.phones group by number having count(*) > 1) s") > 0


def test_campaigns_never_share_a_row(webelect):
    result = synthetic.generate(webelect.admin, voters=[1_200, 800, 300], seed=4)
    assert len(set(result["campaign_ids"])) == 3
    checks = {
        "voter in another campaign's household": """
            select count(*) from webelect.voters v join webelect.households h on h.id = v.household_id
            where h.campaign_id <> v.campaign_id""",
        "tag parent of another campaign": """
            select count(*) from webelect.tags t join webelect.tags p on p.id = t.parent_id
            where p.campaign_id <> t.campaign_id""",
        "voter tagged with another campaign's tag": """
            select count(*) from webelect.voter_tags vt join webelect.voters v on v.id = vt.voter_id
            join webelect.tags t on t.id = vt.tag_id where t.campaign_id <> v.campaign_id""",
        "group member from another campaign": """
            select count(*) from webelect.group_members m join webelect.groups g on g.id = m.group_id
            join webelect.voters v on v.id = m.voter_id where v.campaign_id <> g.campaign_id""",
        "query voter from another campaign": """
            select count(*) from webelect.target_query_voters q join webelect.target_queries tq on tq.id = q.query_id
            join webelect.voters v on v.id = q.voter_id where v.campaign_id <> tq.campaign_id""",
        "query created by another campaign's user": """
            select count(*) from webelect.target_queries tq join webelect.users u on u.id = tq.created_by
            where u.campaign_id <> tq.campaign_id""",
    }
    for table in ("voter_tags", "notes", "phones", "emails"):
        checks[f"{table} written by another campaign's user"] = f"""
            select count(*) from webelect.{table} x join webelect.voters v on v.id = x.voter_id
            join webelect.users u on u.id = x.created_by where u.campaign_id <> v.campaign_id"""  # noqa: S608
    for what, query in checks.items():
        assert webelect.scalar(query) == 0, what
    # Every row is reachable from exactly its campaign, and each campaign has a full set.
    for info in result["campaigns"]:
        cid = info["id"]
        assert webelect.scalar("select count(*) from webelect.voters where campaign_id = %s", (cid,)) == info["voters"]
        assert webelect.scalar("select count(*) from webelect.tags where campaign_id = %s", (cid,)) == len(synthetic._TAG_TREE)
        assert {q["kind"] for q in info["queries"]} == {"everyone_active", "half_sample", "demo", "with_purged"}
    # Dangling references: none (the schema has no foreign key for these).
    assert webelect.scalar("select count(*) from webelect.phones p left join webelect.voters v on v.id = p.voter_id"
                           " where v.id is null") == 0
    assert webelect.scalar("select count(*) from webelect.target_query_voters q left join webelect.voters v"
                           " on v.id = q.voter_id where v.id is null") == 0


def test_queries_users_and_tags(webelect):
    result = synthetic.generate(webelect.admin, voters=2_000, seed=5, campaign_name="Friends of Ana Núñez",
                                query_sizes=[1_500])
    info = result["campaigns"][0]
    cid = info["id"]
    assert info["name"] == "Friends of Ana Núñez"
    assert info["admin_email"] == "admin@friends-of-ana-nunez.example.org"
    level, can_log_in = webelect.rows(
        "select level, level > 0 and (expires_at is null or expires_at > now()) from webelect.users"
        " where campaign_id = %s and lower(email) = lower(%s)", (cid, info["admin_email"]))[0]
    assert level >= 5 and can_log_in
    assert webelect.scalar("select count(*) from webelect.users where campaign_id = %s and expires_at < now()"
                           " and created_via is null", (cid,)) == 1
    assert {r[0] for r in webelect.rows("select level from webelect.users where campaign_id = %s", (cid,))} \
        >= {0, 1, 2, 3, 4, 5}

    queries = {q["kind"]: q for q in info["queries"]}
    def members(qid, where="true"):
        query = f"select count(*) from webelect.target_query_voters q join webelect.voters v on v.id = q.voter_id where q.query_id = %s and {where}"  # noqa: S608
        return webelect.scalar(query, (qid,))

    active = webelect.scalar("select count(*) from webelect.voters where campaign_id = %s and status <> 'purged'",
                             (cid,))
    assert members(queries["everyone_active"]["id"]) == queries["everyone_active"]["size"] == active
    assert members(queries["everyone_active"]["id"], "v.status = 'purged'") == 0
    assert 0.45 * active < queries["half_sample"]["size"] < 0.55 * active
    assert members(queries["demo"]["id"]) == 100
    assert members(queries["with_purged"]["id"], "v.status = 'purged'") == 20
    sample = queries["sample"]
    assert members(sample["id"]) == sample["size"] == 1_500
    assert members(sample["id"], "v.status = 'purged'") == 0
    for kind in ("half_sample", "sample"):  # the sample splits households: housemates stay outside
        housemates = webelect.scalar(
            "select count(distinct o.id) from webelect.target_query_voters q join webelect.voters v on v.id = q.voter_id"
            " join webelect.voters o on o.household_id = v.household_id and o.status <> 'purged'"
            " where q.query_id = %s and not exists (select from webelect.target_query_voters q2"
            " where q2.query_id = q.query_id and q2.voter_id = o.id)", (queries[kind]["id"],))
        assert housemates > 100, kind
        if kind == "sample":  # every voter left out (who has a household) comes along as a housemate
            homeless = webelect.scalar("select count(*) from webelect.voters where campaign_id = %s"
                                       " and status <> 'purged' and household_id is null", (cid,))
            assert active - 1_500 - homeless <= housemates <= active - 1_500

    tags = dict(webelect.rows("select name, sidekick_name from webelect.tags where campaign_id = %s", (cid,)))
    assert tags["Yard Sign"] == "Yard Sign Request" and tags["Education"] is None
    parent = webelect.scalar("select p.name from webelect.tags t join webelect.tags p on p.id = t.parent_id"
                             " where t.name = 'Guns'")
    assert parent == "Issues"
    assert webelect.scalar("select count(*) from webelect.tags where parent_id is null and name = 'Sidekick'") == 1
    assert webelect.scalar("select count(*) from webelect.voter_tags") > 1_000
    assert webelect.scalar("select count(*) from webelect.group_members") > 300


def test_benchmark_preset(webelect, monkeypatch):
    # The real preset is 1,500,000 voters and a 1,000,000-voter query; the plumbing is the same at 1/500.
    monkeypatch.setattr(synthetic, "BENCHMARK_VOTERS", 3_000)
    monkeypatch.setattr(synthetic, "BENCHMARK_QUERY_SIZE", 2_000)
    result = synthetic.generate(webelect.admin, benchmark=True, campaigns=2)
    big, small = result["campaigns"]
    assert (big["voters"], small["voters"]) == (3_000, synthetic.DEFAULT_VOTERS)
    (sample,) = [q for q in big["queries"] if q["kind"] == "sample"]
    assert sample["id"] == result["benchmark_query_id"] and sample["size"] == 2_000
    assert webelect.scalar("select count(*) from webelect.target_query_voters where query_id = %s",
                           (sample["id"],)) == 2_000
    assert not [q for q in small["queries"] if q["kind"] == "sample"]


def test_too_large_query_leaves_nothing_behind(webelect):
    with pytest.raises(ValueError, match="cannot hold a query"):
        synthetic.generate(webelect.admin, voters=500, query_sizes=[600])
    assert webelect.scalar("select count(*) from webelect.voters") == 0
    assert webelect.scalar("select count(*) from webelect.campaigns") == 0


def test_second_run_adds_a_campaign_and_sequences_move_on(webelect, factory):
    first = synthetic.generate(webelect.admin, voters=800, seed=6)
    second = synthetic.generate(webelect.admin, voters=800, seed=6)
    (a,), (b,) = first["campaign_ids"], second["campaign_ids"]
    assert b > a
    assert first["campaigns"][0]["admin_email"] != second["campaigns"][0]["admin_email"]
    lo_a, hi_a = first["campaigns"][0]["voter_id_range"]
    lo_b, hi_b = second["campaigns"][0]["voter_id_range"]
    assert hi_a < lo_b
    assert webelect.scalar("select count(*) from webelect.voters where campaign_id = %s", (b,)) == 800
    # Globally unique values (notes.external_id) did not collide between the runs.
    assert webelect.scalar(
        "select count(distinct v.campaign_id) from webelect.notes n join webelect.voters v on v.id = n.voter_id"
        " where n.external_id is not null") == 2

    # webElect (here: the factory, which lets identity columns assign ids) inserts after the data.
    cid = factory.campaign("Added later")
    uid = factory.user(cid)
    hid = factory.household(cid)
    vid = factory.voter(cid, hid)
    tid = factory.tag(cid, "Later")
    gid = factory.group(cid, "Later")
    nid = factory.note(vid, "later")
    pid = factory.phone(vid, "+16145550123")
    eid = factory.email(vid, "later@example.org")
    qid = factory.query(cid, [vid])
    assert cid > b and vid > hi_b
    for table, new_id in (("users", uid), ("households", hid), ("tags", tid), ("groups", gid), ("notes", nid),
                          ("phones", pid), ("emails", eid), ("target_queries", qid)):
        assert new_id == webelect.scalar(f"select max(id) from webelect.{table}"), table  # noqa: S608


def test_row_by_row_foreign_key_checks_give_the_same_rows(webelect):
    synthetic.generate(webelect.admin, voters=700, seed=8, reset=True)
    bulk = checksums(webelect)
    result = synthetic.generate(webelect.admin, voters=700, seed=8, reset=True, fk_checks="row")
    assert result["fk_checks"] == "row"
    assert checksums(webelect) == bulk


def test_bulk_validation_catches_a_dangling_reference(webelect):
    synthetic.generate(webelect.admin, voters=200, seed=9)
    with psycopg.connect(webelect.admin_url) as conn:
        conn.execute("set session_replication_role = replica")
        conn.execute("insert into webelect.voter_tags (voter_id, tag_id) values (999999999, 1)")
        with pytest.raises(RuntimeError, match="voter_tags_voter_id_fkey"):
            synthetic._validate_foreign_keys(conn)
        conn.rollback()


def test_command_line(webelect):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "devtools.synthetic", "--db-url", webelect.admin_url, "--voters", "300",
         "--campaigns", "2", "--seed", "3", "--json"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[-1].startswith("synthetic webElect: campaigns [1, 2]") and "voters=600" in lines[-1]
    result = json.loads(done.stdout[: done.stdout.rindex("}") + 1])
    assert result["counts"]["voters"] == 600
    assert webelect.scalar("select count(*) from webelect.campaigns") == 2

    bad = subprocess.run(
        [sys.executable, "-m", "devtools.synthetic", "--db-url", webelect.admin_url, "--voters", "50",
         "--query-size", "100"], capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert webelect.scalar("select count(*) from webelect.campaigns") == 2
