"""Nothing lost, nothing doubled: re-runs, redelivery, crashes at every point, quiet nights.

One scenario (a campaign, two voters, ten changes of every kind, some bad) whose exact
expected rows are written out below; every test ends by comparing the database with them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.test_import_support import Feed, change, logical_snapshot
from webelect_sidekick.importer import faults, steps
from webelect_sidekick.importer.faults import InjectedFault

T = datetime(2026, 12, 3, 21, 0, tzinfo=UTC)
PAT, SAM = "Pat.Lee@Example.org", "Sam@Example.org"


class Scenario:
    def __init__(self, factory):
        self.c = factory.enabled_campaign()
        self.v1 = factory.voter(self.c, sos_voter_id="OH-1")
        self.v2 = factory.voter(self.c, sos_voter_id="OH-2")
        factory.user(self.c, PAT, level=2)
        sam = {"user": "SAM@example.org", "first_name": "Sam", "last_name": "Doe"}
        self.feed = Feed([
            change("tag", voter_id=self.v1, tag="Yard Sign", user="pat.lee@example.org", change_id="k01"),
            change("tag", sos="OH-2", tag="yard sign ", user="pat.lee@example.org", change_id="k02"),
            change("note", voter_id=self.v1, note='Said "yes"\nTwice', occurred_at=T, change_id="k03", **sam),
            change("phone", voter_id=self.v1, phone={"number": "(614) 555-0101", "type": "cell"},
                   user="pat.lee@example.org", change_id="k04"),
            change("phone", sos="OH-2", phone={"number": "614.555.0102", "type": None}, change_id="k05", **sam),
            change("email", voter_id=self.v1, email=" Ana@Example.ORG ", user="pat.lee@example.org", change_id="k06"),
            change("email", sos="OH-2", email="bad@", change_id="k07", **sam),
            change("note", voter_id=987_654, note="who?", change_id="k08", **sam),
            change("survey", voter_id=self.v1, change_id="k09", **sam),
            change("note", sos="OH-2", note="Второй визит", occurred_at=T, change_id="k10",
                   user="sam@EXAMPLE.org", first_name="Samuel"),
        ], page_size=3, redeliver=1)

    def expected(self) -> dict[str, list[tuple]]:
        v1, v2 = self.v1, self.v2
        return {
            "tags": [("Sidekick", None, None), ("Yard Sign", "Sidekick", "Yard Sign")],
            "users": [(PAT, "Pat", "Lee", 2, None, None), ("SAM@example.org", "Sam", "Doe", 0, True, "sidekick")],
            "voter_tags": [(v1, "Yard Sign", PAT), (v2, "Yard Sign", PAT)],
            "notes": [(v1, 'Said "yes"\nTwice', T, "sidekick", "k03", "SAM@example.org"),
                      (v2, "Второй визит", T, "sidekick", "k10", "SAM@example.org")],
            "phones": [(v1, "+16145550101", "cell", "user", 90, PAT),
                       (v2, "+16145550102", "unknown", "user", 90, "SAM@example.org")],
            "emails": [(v1, "ana@example.org", "user", 90, PAT)],
        }

    def expected_rejections(self) -> list[tuple]:
        return [("k07", "invalid_email"), ("k08", "unknown_voter"), ("k09", "unknown_type")]


def rejections(webelect) -> list[tuple]:
    return webelect.rows("select change_id, reason from webelect.sidekick_import_rejections order by change_id")


def saved_cursor(webelect, campaign_id: int):
    return webelect.scalar("select cursor from webelect.sidekick_import_cursors where campaign_id = %s", (campaign_id,))


STEPS = ("pull", "tags", "users", "merge", "report")


def run_with_retries(campaign_id: int, run_id: str, feed: Feed, monkeypatch) -> tuple[dict, list[str]]:
    """Run the steps as Airflow would: a failed step is retried (once the fault is gone), then the rest follow."""
    failed: list[str] = []
    results: dict = {}
    for name in STEPS:
        call = (lambda n=name: steps.pull(campaign_id, run_id, page_source=feed.pages)) if name == "pull" \
            else (lambda n=name: getattr(steps, n)(campaign_id, run_id))
        try:
            results[name] = call()
        except InjectedFault:
            failed.append(name)
            monkeypatch.delenv(faults.ENV)
            results[name] = call()  # the retry
    return results["report"], failed


def comparable(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in ("seconds", "run_id")}


def test_scenario_night(webelect, factory):
    s = Scenario(factory)
    report = steps.run_night(s.c, "night-1", page_source=s.feed.pages)
    assert logical_snapshot(webelect) == s.expected()
    assert rejections(webelect) == s.expected_rejections()
    assert report["new_changes"] == 10 and report["duplicates_skipped"] == 4  # 5 pages, 4 redelivered
    assert report["applied"] == {"email": 1, "note": 2, "phone": 2, "tag": 2}
    assert report["rows_written"] == {"voter_tags": 2, "notes": 2, "phones": 2, "emails": 1}
    assert report["rejected"] == {"invalid_email": 1, "unknown_type": 1, "unknown_voter": 1}
    assert (report["tags_created"], report["users_created"], report["cursor_committed"]) == (1, 1, True)


@pytest.mark.parametrize("point", faults.POINTS)
def test_a_crash_at_any_point_then_the_retry_gives_exactly_the_expected_rows(webelect, factory, monkeypatch, point):
    s = Scenario(factory)
    monkeypatch.setenv(faults.ENV, point)
    report, failed = run_with_retries(s.c, "night-1", s.feed, monkeypatch)
    assert failed == [point.split(":")[0].replace("map_tags", "tags").replace("resolve_users", "users")]
    assert logical_snapshot(webelect) == s.expected()
    assert rejections(webelect) == s.expected_rejections()
    assert report["new_changes"] == 10 and report["applied_total"] == 7 and report["rejected_total"] == 3
    assert report["rows_written"] == {"voter_tags": 2, "notes": 2, "phones": 2, "emails": 1}
    assert (report["tags_created"], report["users_created"], report["cursor_committed"]) == (1, 1, True)
    assert saved_cursor(webelect, s.c) == "pos:10"
    assert webelect.scalar("select count(*) from webelect.sidekick_change_inbox") == 0


def test_a_crash_inside_the_merge_leaves_nothing_and_keeps_the_cursor(webelect, factory, monkeypatch):
    s = Scenario(factory)
    steps.pull(s.c, "night-1", page_source=s.feed.pages)
    steps.tags(s.c, "night-1")
    steps.users(s.c, "night-1")
    before = logical_snapshot(webelect)
    monkeypatch.setenv(faults.ENV, "merge:after_notes")
    with pytest.raises(InjectedFault):
        steps.merge(s.c, "night-1")
    assert logical_snapshot(webelect) == before
    assert before["notes"] == [] and before["voter_tags"] == []
    assert saved_cursor(webelect, s.c) is None
    assert webelect.scalar("select count(*) from webelect.sidekick_change_inbox") == 10
    assert webelect.scalar("select status from webelect.sidekick_import_runs") == "failed"

    # A crash in the next night, before its merge, followed by a new night rather than a retry.
    monkeypatch.delenv(faults.ENV)
    report = steps.run_night(s.c, "night-2", page_source=s.feed.pages)
    assert logical_snapshot(webelect) == s.expected()
    assert report["duplicates_skipped"] == 14 and report["applied_total"] == 7  # all pulled by night-1 already


def test_a_night_run_twice_changes_nothing_more(webelect, factory):
    s = Scenario(factory)
    first = steps.run_night(s.c, "night-1", page_source=s.feed.pages)
    # Clearing the whole group of the same run: every step runs again.
    again = steps.run_night(s.c, "night-1", page_source=s.feed.pages)
    assert logical_snapshot(webelect) == s.expected()
    assert comparable(again)["applied"] == first["applied"]
    assert again["rows_written"] == first["rows_written"]  # nothing more written; the counts are the first's
    # The same night triggered again as a new run.
    rerun = steps.run_night(s.c, "night-1-rerun", page_source=s.feed.pages)
    assert logical_snapshot(webelect) == s.expected()
    assert rerun["applied_total"] == 0 and sum(rerun["rows_written"].values()) == 0
    assert rejections(webelect) == s.expected_rejections()


def test_a_third_night_without_new_changes_writes_nothing(webelect, factory):
    s = Scenario(factory)
    steps.run_night(s.c, "night-1", page_source=s.feed.pages)
    s.feed.add(change("note", voter_id=s.v2, note="night two", occurred_at=T, change_id="k11", user=PAT))
    second = steps.run_night(s.c, "night-2", page_source=s.feed.pages)
    assert second["new_changes"] == 1 and second["rows_written"]["notes"] == 1
    rows, rejected = logical_snapshot(webelect), rejections(webelect)
    ledger = webelect.rows("select * from webelect.sidekick_change_ledger order by change_id")
    third = steps.run_night(s.c, "night-3", page_source=s.feed.pages)
    assert logical_snapshot(webelect) == rows and rejections(webelect) == rejected
    assert webelect.rows("select * from webelect.sidekick_change_ledger order by change_id") == ledger
    assert webelect.scalar("select count(*) from webelect.sidekick_change_inbox") == 0
    assert (third["new_changes"], third["applied_total"], third["rejected_total"]) == (0, 0, 0)
    assert (third["tags_created"], third["users_created"]) == (0, 0)


def test_a_page_delivered_twice_is_applied_once(webelect, factory):
    s = Scenario(factory)
    s.feed.redeliver = 2
    s.feed.page_size = 4
    first_page = next(s.feed.pages(None))
    s.feed.changes[3:3] = first_page["changes"]  # the whole first page comes again, later
    report = steps.run_night(s.c, "night-1", page_source=s.feed.pages)
    assert logical_snapshot(webelect) == s.expected()
    assert report["new_changes"] == 10 and report["changes_pulled"] == 10 + report["duplicates_skipped"]
    assert report["duplicates_skipped"] >= 4


def test_changes_pulled_by_an_overlapping_run_are_mapped_by_the_merge(webelect, factory):
    """Run A pulls, run B pulls more, A merges everything (mapping B's changes itself), B merges nothing."""
    s = Scenario(factory)
    first_half = Feed(s.feed.changes[:5], page_size=5)
    steps.pull(s.c, "A", page_source=first_half.pages)
    steps.tags(s.c, "A")
    steps.users(s.c, "A")
    steps.pull(s.c, "B", page_source=s.feed.pages)  # from the same saved cursor: everything
    steps.merge(s.c, "A")
    assert logical_snapshot(webelect) == s.expected()
    assert saved_cursor(webelect, s.c) == "pos:5"  # A's: the cursor never runs ahead of A's own pull
    steps.tags(s.c, "B")
    steps.users(s.c, "B")
    merged = steps.merge(s.c, "B")
    assert merged["cursor_committed"] is False  # B started from where A moved on: left as it is
    assert logical_snapshot(webelect) == s.expected()
    # The next night re-pulls from pos:5: all duplicates, nothing lost or doubled.
    report = steps.run_night(s.c, "C", page_source=s.feed.pages)
    assert report["new_changes"] == 0 and logical_snapshot(webelect) == s.expected()
    assert saved_cursor(webelect, s.c) == "pos:10"
