"""A realistic night: devtools/canvass.py's messy changes through the simulator (with redelivery).

Checks that everything adds up (pulled = new + duplicates, new = applied + rejected, rows
in webElect = rows written), that a second night writes nothing, and that nothing personal
— notes, phones, emails, names — nor the token ever reaches the log or the report.
"""

from __future__ import annotations

import json
import logging
import secrets

from devtools import canvass
from tests.test_import_support import logical_snapshot
from webelect_sidekick.importer import steps


def test_a_realistic_night_adds_up_and_logs_nothing_personal(webelect, factory, sidekick, caplog, monkeypatch):
    monkeypatch.setenv("WEBELECT_SIDEKICK_IMPORT_PAGE_SIZE", "250")
    token = f"tok-{secrets.token_urlsafe(32)}"
    c = factory.enabled_campaign("Realistic", token=token)
    account = sidekick.register("Realistic", token=token)
    sidekick.control.set_redelivery(account.id, 0.1)
    for i in range(300):
        factory.voter(c, sos_voter_id=f"OH{i:010d}")
    factory.user(c, "pat.lee@campaign.example.org", level=3)
    changes = canvass.generate_changes(webelect.admin, c, count=1500, seed=7)
    sidekick.control.add_changes(account.id, changes)

    with caplog.at_level(logging.DEBUG):
        report = steps.run_night(c, "night-1")

    assert report["new_changes"] == 1500
    assert report["changes_pulled"] == 1500 + report["duplicates_skipped"] and report["duplicates_skipped"] > 0
    assert report["applied_total"] + report["rejected_total"] == 1500
    assert set(report["rejected"]) <= {"unknown_voter", "invalid_phone", "invalid_email", "empty_note", "empty_tag",
                                       "unknown_type"}
    assert report["rejected"]["unknown_voter"] > 0 and report["rejected"]["invalid_phone"] > 0
    counts = {name: webelect.scalar(f"select count(*) from webelect.{name}")  # noqa: S608
              for name in ("voter_tags", "notes", "phones", "emails")}
    assert counts == report["rows_written"]
    assert report["applied"]["note"] == counts["notes"]
    assert report["users_created"] == len(canvass.CANVASSERS) - 1  # Pat Lee existed already
    assert webelect.scalar("select count(*) from webelect.users where created_via = 'sidekick' and "
                           "(level > 0 and (expires_at is null or expires_at > now()))") == 0
    assert webelect.scalar("select count(*) from webelect.sidekick_import_rejections") == report["rejected_total"]

    # Nothing personal in the log, the report or the run row.
    text = caplog.text + json.dumps(report, ensure_ascii=False)
    secrets_seen = [token]
    for change in changes:
        if change["type"] == "note" and change["note"].strip():
            secrets_seen.append(change["note"].strip()[:20])
        if change["type"] == "email" and "@" in change["email"]:
            secrets_seen.append(change["email"].strip().lower())
        if change["type"] == "phone":
            secrets_seen.append(change["phone"]["number"].strip())
        secrets_seen.append(change["user"]["email"].strip().lower())
    lowered = text.lower()
    leaked = sorted({s for s in secrets_seen if len(s) >= 7 and s.lower() in lowered})  # shorter: chance hits
    assert leaked == []
    for first, last in canvass.CANVASSERS:
        assert f"{first} {last}".lower() not in lowered

    rows = logical_snapshot(webelect)
    second = steps.run_night(c, "night-2")
    assert second["new_changes"] == 0 and sum(second["rows_written"].values()) == 0
    assert logical_snapshot(webelect) == rows
