"""Pulling over real HTTP from the Sidekick simulator: pages, redelivery, 410, faults, bad tokens.

Each test links a webElect campaign to a fresh simulator account by giving both the same
token, loads changes into the simulator and runs the night's steps as the DAG does.
"""

from __future__ import annotations

import secrets

import pytest

from tests.test_import_support import change, snapshot
from webelect_sidekick.errors import TransientError, UserFacingError
from webelect_sidekick.importer import cursor, steps


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setenv("WEBELECT_SIDEKICK_IMPORT_PAGE_SIZE", "3")


def linked_campaign(factory, sidekick, name: str = "Smith for Senate"):
    """A webElect campaign with Sidekick enabled and the simulator account that holds the same token."""
    token = f"tok-{secrets.token_urlsafe(32)}"
    campaign_id = factory.enabled_campaign(name, token=token)
    account = sidekick.register(name, token=token)
    return campaign_id, account


def load(sidekick, account, changes: list[dict], **kwargs) -> list[dict]:
    """Store changes in the simulator as canvassers made them (it assigns seq)."""
    return sidekick.control.add_changes(account.id, [{k: v for k, v in c.items() if k != "seq"} for c in changes],
                                        **kwargs)


def run_row(webelect, campaign_id: int, run_id: str) -> tuple:
    return webelect.rows("select status, delivered, new_changes, duplicates, cursor_committed, error "
                         "from webelect.sidekick_import_runs where campaign_id = %s and run_id = %s",
                         (campaign_id, run_id))[0]


def test_all_pages_are_pulled_over_http_and_applied(webelect, factory, sidekick, small_pages):
    c, account = linked_campaign(factory, sidekick)
    v = factory.voter(c, sos_voter_id="OH-1")
    load(sidekick, account, [change("tag", voter_id=v, tag="Yard Sign")]
         + [change("note", sos="OH-1", note=f"note {i}") for i in range(7)])
    before = len(sidekick.control.requests(account_id=account.id, path="/v1/changes"))
    report = steps.run_night(c, "night-1")
    requests = sidekick.control.requests(account_id=account.id, path="/v1/changes")[before:]
    assert [r["status"] for r in requests] == [200, 200, 200]  # 8 changes, 3 a page
    assert report["changes_pulled"] == 8 and report["pages"] == 3 and report["duplicates_skipped"] == 0
    assert webelect.scalar("select count(*) from webelect.notes where voter_id = %s", (v,)) == 7
    assert webelect.scalar("select count(*) from webelect.voter_tags where voter_id = %s", (v,)) == 1
    saved = webelect.scalar("select cursor from webelect.sidekick_import_cursors where campaign_id = %s", (c,))
    assert saved and run_row(webelect, c, "night-1")[:5] == ("complete", 8, 8, 0, True)

    # The next night starts from the saved cursor: only what is new comes.
    load(sidekick, account, [change("note", voter_id=v, note="later")])
    second = steps.run_night(c, "night-2")
    assert (second["changes_pulled"], second["applied"]["note"]) == (1, 1)
    assert webelect.scalar("select count(*) from webelect.notes") == 8


def test_redelivered_pages_are_counted_and_skipped(webelect, factory, sidekick, small_pages):
    c, account = linked_campaign(factory, sidekick)
    v = factory.voter(c)
    sidekick.control.set_redelivery(account.id, 0.5)
    sent = load(sidekick, account, [change("note", voter_id=v, note=f"n{i}") for i in range(9)]
                + [change("phone", voter_id=v, phone={"number": f"(614) 555-01{i:02d}", "type": "cell"})
                   for i in range(4)])
    report = steps.run_night(c, "night-1")
    assert report["duplicates_skipped"] > 0
    assert report["changes_pulled"] == 13 + report["duplicates_skipped"]
    assert report["new_changes"] == 13
    assert webelect.rows("select external_id from webelect.notes order by external_id") == sorted(
        (s["id"],) for s in sent if s["type"] == "note")
    assert webelect.scalar("select count(*) from webelect.phones") == 4
    # Redelivery continues into the next night: the repeats are skipped, nothing is doubled.
    rows = snapshot(webelect)
    second = steps.run_night(c, "night-2")
    assert second["new_changes"] == 0 and second["duplicates_skipped"] >= 1
    assert snapshot(webelect) == rows


def test_expired_cursor_fails_with_repull_instructions_then_reset_repulls(webelect, factory, sidekick):
    c, account = linked_campaign(factory, sidekick)
    v = factory.voter(c)
    sent = load(sidekick, account, [change("note", voter_id=v, note="kept"), change("tag", voter_id=v, tag="T")])
    old = sidekick.control.mint_cursor(account.id, after_seq=0, age_days=31)
    webelect.admin.execute("insert into webelect.sidekick_import_cursors (campaign_id, cursor) values (%s, %s)",
                           (c, old))
    with pytest.raises(UserFacingError) as failure:
        steps.run_night(c, "night-1")
    message = str(failure.value)
    assert "410" in message and "full re-pull" in message
    assert f"python -m webelect_sidekick.importer.cursor reset --campaign {c}" in message
    assert f"reset_cursor_for_campaign = {c}" in message
    status, *_, error = run_row(webelect, c, "night-1")
    assert status == "failed" and "full re-pull" in error
    assert webelect.scalar("select count(*) from webelect.sidekick_change_inbox") == 0

    # The command a person runs, then the next night.
    assert cursor._main(["reset", "--campaign", str(c)]) == 0
    assert webelect.scalar("select cursor from webelect.sidekick_import_cursors where campaign_id = %s", (c,)) is None
    report = steps.run_night(c, "night-2")
    assert report["new_changes"] == 2
    assert webelect.rows("select external_id from webelect.notes") == [(sent[0]["id"],)]


def test_reset_param_does_a_full_repull_once_and_skips_what_was_imported(webelect, factory, sidekick):
    c, account = linked_campaign(factory, sidekick)
    v = factory.voter(c)
    load(sidekick, account, [change("note", voter_id=v, note="a"), change("note", voter_id=v, note="b")])
    steps.run_night(c, "night-1")
    rows = snapshot(webelect)
    report = steps.run_night(c, "night-2", reset_cursor=True)
    assert (report["changes_pulled"], report["duplicates_skipped"], report["applied_total"]) == (2, 2, 0)
    assert snapshot(webelect) == rows
    assert webelect.scalar("select reset_by from webelect.sidekick_import_cursors where campaign_id = %s",
                           (c,)) == "run:night-2"


def test_transient_errors_are_retried_inside_the_hook(webelect, factory, sidekick):
    c, account = linked_campaign(factory, sidekick)
    v = factory.voter(c)
    load(sidekick, account, [change("note", voter_id=v, note="through the storm")])
    sidekick.control.add_fault("GET", r"/v1/changes", status=503, count=2)
    sidekick.control.add_fault("GET", r"/v1/changes", status=429, retry_after=1, count=1)
    report = steps.run_night(c, "night-1")
    assert report["applied"]["note"] == 1
    statuses = [r["status"] for r in sidekick.control.requests(account_id=None, path="/v1/changes")][-4:]
    assert statuses == [503, 503, 429, 200]


def test_a_wrong_token_fails_the_campaign_with_a_sentence(webelect, factory, sidekick):
    c = factory.enabled_campaign("Wrong token", token=f"tok-{secrets.token_urlsafe(32)}")
    sidekick.register("Wrong token")  # another token: Sidekick does not know the campaign's
    with pytest.raises(UserFacingError) as failure:
        steps.pull(c, "night-1")
    assert "token" in str(failure.value) and f"campaign {c}" in str(failure.value)
    assert run_row(webelect, c, "night-1")[0] == "failed"


def test_an_unreachable_sidekick_is_transient(webelect, factory, monkeypatch):
    c = factory.enabled_campaign()
    monkeypatch.setenv("AIRFLOW_CONN_SIDEKICK_DEFAULT", "http://127.0.0.1:9")  # nothing listens there
    from webelect_sidekick.sidekick import hook

    monkeypatch.setattr(hook.SidekickHook, "__init__", _fast_hook_init(hook.SidekickHook.__init__))
    with pytest.raises(TransientError) as failure:
        steps.pull(c, "night-1")
    assert "Sidekick" in str(failure.value)
    assert webelect.scalar("select count(*) from webelect.sidekick_change_inbox") == 0


def _fast_hook_init(original):
    def init(self, *args, **kwargs):
        kwargs.update(max_attempts=2, backoff_base=0.01, connect_timeout=1.0)
        original(self, *args, **kwargs)

    return init
