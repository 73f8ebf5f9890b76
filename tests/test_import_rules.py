"""sidekick_import's rules, one by one, against a real PostgreSQL (as the least-privilege role).

Changes come from an in-memory feed (tests/test_import_support.py) so each test states
exactly what Sidekick sent; the HTTP path is covered in test_import_pull.py / test_import_dag.py.
Every test compares exact rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests.test_import_support import Feed, change, snapshot
from webelect_sidekick.importer import steps

PAT = "pat.lee@example.org"


def night(campaign_id: int, feed: Feed, run_id: str = "night-1") -> dict:
    return steps.run_night(campaign_id, run_id, page_source=feed.pages)


def rejections(webelect, campaign_id: int) -> list[tuple]:
    return webelect.rows(
        "select change_id, reason from webelect.sidekick_import_rejections where campaign_id = %s order by change_id",
        (campaign_id,),
    )


# --- map tags ----------------------------------------------------------------------------


def test_tag_precedence_sidekick_name_then_name_any_case_lowest_id(webelect, factory):
    c = factory.enabled_campaign()
    other = factory.enabled_campaign("Other campaign")
    v = factory.voter(c)
    t_name_low = factory.tag(c, "Yard sign")                       # rule 2 candidate, lowest id
    t_name_high = factory.tag(c, " yard SIGN ")                    # rule 2 candidate, higher id
    t_sk = factory.tag(c, "Lawn placard", sidekick_name=" Yard Sign ")  # rule 1 (trimmed, exact case)
    t_pb1 = factory.tag(c, "Phone bank A", sidekick_name="Phone Bank")
    factory.tag(c, "Phone bank B", sidekick_name="Phone Bank")     # same sidekick_name, higher id
    factory.tag(other, "Volunteer")                                # other campaign: never used
    feed = Feed([
        change("tag", voter_id=v, tag="Yard Sign"),    # rule 1 beats rule 2
        change("tag", voter_id=v, tag="yard sign"),    # rule 1 is exact case: no; rule 2: lowest id
        change("tag", voter_id=v, tag="  Phone Bank\t"),  # rule 1, lowest id of two
        change("tag", voter_id=v, tag="Volunteer"),    # nothing in this campaign: created
    ])
    report = night(c, feed)

    root = webelect.scalar("select id from webelect.tags where name = 'Sidekick'")
    volunteer = webelect.scalar("select id from webelect.tags where campaign_id = %s and name = 'Volunteer'", (c,))
    assert webelect.rows("select id, campaign_id, name, parent_id, sidekick_name from webelect.tags "
                         "where id > %s order by id", (t_pb1 + 1,)) == [
        (t_pb1 + 2, other, "Volunteer", None, None),
        (root, c, "Sidekick", None, None),
        (volunteer, c, "Volunteer", root, "Volunteer"),
    ]
    user = webelect.scalar("select id from webelect.users")
    assert webelect.rows("select voter_id, tag_id, created_by from webelect.voter_tags order by tag_id") == [
        (v, t_name_low, user), (v, t_sk, user), (v, t_pb1, user), (v, volunteer, user),
    ]
    assert t_name_high > t_name_low
    assert report["tags_created"] == 1 and report["root_tag_created"] is True


def test_created_tags_are_found_the_next_night_and_case_variants_share_one(webelect, factory):
    c = factory.enabled_campaign()
    v1, v2 = factory.voter(c), factory.voter(c)
    feed = Feed([
        change("tag", voter_id=v1, tag="Door Hanger"),
        change("tag", voter_id=v2, tag="door hanger "),   # same tag by the any-case rule
    ])
    first = night(c, feed, "night-1")
    tags_after_first = webelect.rows("select id, name, parent_id, sidekick_name from webelect.tags order by id")
    assert [(name, sk) for _, name, _, sk in tags_after_first] == [("Sidekick", None), ("Door Hanger", "Door Hanger")]
    assert first["tags_created"] == 1

    feed.add(change("tag", voter_id=v2, tag="Door Hanger"), change("tag", voter_id=v1, tag="DOOR HANGER"))
    second = night(c, feed, "night-2")
    assert webelect.rows("select id, name, parent_id, sidekick_name from webelect.tags order by id") == tags_after_first
    assert second["tags_created"] == 0 and second["root_tag_created"] is False
    hanger = tags_after_first[1][0]
    assert webelect.rows("select voter_id, tag_id from webelect.voter_tags order by voter_id") == [(v1, hanger), (v2, hanger)]


def test_existing_root_is_used_and_empty_tags_are_rejected(webelect, factory):
    c = factory.enabled_campaign()
    v = factory.voter(c)
    root = factory.tag(c, " sidekick ")  # the root, any case, trimmed
    feed = Feed([
        change("tag", voter_id=v, tag="Canvassed", change_id="chg_a"),
        change("tag", voter_id=v, tag="   ", change_id="chg_b"),
        change("tag", voter_id=v, tag="", change_id="chg_c"),
        change("tag", voter_id=v, tag=None, change_id="chg_d"),
        change("tag", voter_id=999_999, tag="Ghost", change_id="chg_e"),  # unknown voter: no tag created
    ])
    report = night(c, feed)
    assert webelect.rows("select name, parent_id, sidekick_name from webelect.tags order by id") == [
        (" sidekick ", None, None), ("Canvassed", root, "Canvassed"),
    ]
    assert rejections(webelect, c) == [("chg_b", "empty_tag"), ("chg_c", "empty_tag"), ("chg_d", "empty_tag"),
                                       ("chg_e", "unknown_voter")]
    assert report["rejected"] == {"empty_tag": 3, "unknown_voter": 1}
    assert report["root_tag_created"] is False


# --- resolve users -----------------------------------------------------------------------


def test_users_matched_by_email_any_case_within_the_campaign_else_created_unable_to_log_in(webelect, factory):
    c = factory.enabled_campaign()
    other = factory.enabled_campaign("Other campaign")
    v = factory.voter(c)
    known = factory.user(c, "Pat.Lee@Example.org", level=3)
    factory.user(other, "new.person@example.org", level=5)  # same email, other campaign: never matched
    feed = Feed([
        change("note", voter_id=v, note="one", user="PAT.LEE@example.ORG"),
        change("note", voter_id=v, note="two", user=" New.Person@Example.org ", first_name="New", last_name="Person"),
        change("note", voter_id=v, note="three", user="new.person@EXAMPLE.org", first_name="Other", last_name="Name"),
        change("note", voter_id=999_999, note="nobody", user="ghost@example.org"),  # rejected: no user created
        change("note", voter_id=v, note="anonymous", user=None, change_id="chg_anon"),
    ])
    report = night(c, feed)

    created = webelect.scalar("select id from webelect.users where campaign_id = %s and created_via = 'sidekick'", (c,))
    assert webelect.rows(
        "select campaign_id, email, first_name, last_name, level, expires_at = created_at, created_via "
        "from webelect.users where campaign_id = %s order by id", (c,)) == [
        (c, "Pat.Lee@Example.org", "Pat", "Lee", 3, None, None),
        (c, "New.Person@Example.org", "New", "Person", 0, True, "sidekick"),
    ]
    assert webelect.rows("select body, created_by from webelect.notes order by body") == [
        ("one", known), ("three", created), ("two", created),
    ]
    # webElect's login rule: level > 0 and (expires_at is null or expires_at > now()).
    assert webelect.scalar(
        "select level > 0 and (expires_at is null or expires_at > now()) from webelect.users where id = %s",
        (created,)) is False
    assert report["users_created"] == 1
    assert ("chg_anon", "missing_user") in rejections(webelect, c)

    # The next night finds the created user again, in any case.
    feed.add(change("note", voter_id=v, note="four", user="NEW.PERSON@example.org"))
    second = night(c, feed, "night-2")
    assert second["users_created"] == 0
    assert webelect.scalar("select count(*) from webelect.users") == 3
    assert webelect.scalar("select created_by from webelect.notes where body = 'four'") == created


# --- merge contacts: notes, phones, emails, voter tags ----------------------------------------


def test_notes_keep_text_and_carry_change_id_time_and_user(webelect, factory):
    c = factory.enabled_campaign()
    v = factory.voter(c)
    body = 'She said "call after 5pm"\nsecond line\tтретья строка — 第二行 ✓'
    when = datetime(2026, 11, 30, 15, 4, 5, tzinfo=UTC)
    feed = Feed([
        change("note", voter_id=v, note=body, occurred_at=when, change_id="chg_note_1"),
        change("note", voter_id=v, note=body, occurred_at=when, change_id="chg_note_2"),  # another note, same text
        change("note", voter_id=v, note="  \n\t ", change_id="chg_blank"),
        change("note", voter_id=v, note="", change_id="chg_empty"),
    ])
    report = night(c, feed)
    user = webelect.scalar("select id from webelect.users")
    assert webelect.rows(
        "select voter_id, body, created_at, created_by, source, external_id from webelect.notes order by id") == [
        (v, body, when, user, "sidekick", "chg_note_1"),
        (v, body, when, user, "sidekick", "chg_note_2"),
    ]
    assert rejections(webelect, c) == [("chg_blank", "empty_note"), ("chg_empty", "empty_note")]
    assert report["applied"]["note"] == 2 and report["rows_written"]["notes"] == 2


def test_phones_normalised_to_e164_type_kept_and_existing_numbers_not_added(webelect, factory, monkeypatch):
    monkeypatch.setenv("WEBELECT_SIDEKICK_USER_RANK", "75")
    c = factory.enabled_campaign()
    v1, v2 = factory.voter(c), factory.voter(c)
    factory.phone(v1, "+16145550123", phone_type="landline", source="voter_file", rank_score=40)
    feed = Feed([
        change("phone", voter_id=v1, phone={"number": "(614) 555-0123", "type": "cell"}, change_id="p01"),  # has it
        change("phone", voter_id=v1, phone={"number": "614.555.0124", "type": "cell"}, change_id="p02"),
        change("phone", voter_id=v1, phone={"number": "+1 614 555 0124", "type": "landline"}, change_id="p03"),  # same
        change("phone", voter_id=v1, phone={"number": "6145550125", "type": None}, change_id="p04"),
        change("phone", voter_id=v2, phone={"number": "1-614-555-0126", "type": "Landline"}, change_id="p05"),
        change("phone", voter_id=v2, phone={"number": "(614) 555-0123", "type": "cell"}, change_id="p06"),  # v2 lacks it
        change("phone", voter_id=v2, phone={"number": "+44 20 7946 0958", "type": "cell"}, change_id="p07"),
        change("phone", voter_id=v2, phone={"number": "555-0123", "type": "cell"}, change_id="p08"),
        change("phone", voter_id=v2, phone={"number": "call me maybe", "type": "cell"}, change_id="p09"),
        change("phone", voter_id=v2, phone={"number": "12", "type": None}, change_id="p10"),
        change("phone", voter_id=v2, phone=None, change_id="p11"),
    ])
    report = night(c, feed)
    user = webelect.scalar("select id from webelect.users")
    assert webelect.rows("select voter_id, number, phone_type, source, rank_score, created_by "
                         "from webelect.phones order by voter_id, number") == [
        (v1, "+16145550123", "landline", "voter_file", 40, None),
        (v1, "+16145550124", "cell", "user", 75, user),
        (v1, "+16145550125", "unknown", "user", 75, user),
        (v2, "+16145550123", "cell", "user", 75, user),
        (v2, "+16145550126", "landline", "user", 75, user),
        (v2, "+442079460958", "cell", "user", 75, user),
    ]
    assert rejections(webelect, c) == [(f"p{n:02d}", "invalid_phone") for n in range(8, 12)]
    assert report["applied"]["phone"] == 7
    assert report["rows_written"]["phones"] == 5
    assert report["already_present"]["phone"] == 2


def test_emails_trimmed_lower_cased_checked_and_existing_not_added(webelect, factory):
    c = factory.enabled_campaign()
    v1, v2 = factory.voter(c), factory.voter(c)
    factory.email(v1, "Ana@Example.org", source="voter_file", rank_score=50)
    feed = Feed([
        change("email", voter_id=v1, email="  ANA@example.ORG ", change_id="e1"),  # has it, other case
        change("email", voter_id=v1, email=" Ana.Ruiz@Example.ORG ", change_id="e2"),
        change("email", voter_id=v1, email="ana.ruiz@example.org", change_id="e3"),  # same as e2
        change("email", voter_id=v2, email="José@Correo.example.com", change_id="e4"),
        change("email", voter_id=v2, email="ana@", change_id="e5"),
        change("email", voter_id=v2, email="not an email", change_id="e6"),
        change("email", voter_id=v2, email="a@b", change_id="e7"),
        change("email", voter_id=v2, email="   ", change_id="e8"),
    ])
    report = night(c, feed)
    user = webelect.scalar("select id from webelect.users")
    assert webelect.rows("select voter_id, address, source, rank_score, created_by from webelect.emails "
                         "order by voter_id, address") == [
        (v1, "Ana@Example.org", "voter_file", 50, None),
        (v1, "ana.ruiz@example.org", "user", 90, user),
        (v2, "josé@correo.example.com", "user", 90, user),
    ]
    assert rejections(webelect, c) == [(f"e{n}", "invalid_email") for n in range(5, 9)]
    assert report["rows_written"]["emails"] == 2 and report["already_present"]["email"] == 2


def test_voter_gets_a_tag_once(webelect, factory):
    c = factory.enabled_campaign()
    v1, v2 = factory.voter(c), factory.voter(c)
    tag = factory.tag(c, "Yard Sign")
    factory.tag_voter(v1, tag)
    feed = Feed([
        change("tag", voter_id=v1, tag="Yard Sign"),
        change("tag", voter_id=v2, tag="Yard Sign"),
        change("tag", voter_id=v2, tag="yard sign"),
    ])
    report = night(c, feed)
    user = webelect.scalar("select id from webelect.users")
    assert webelect.rows("select voter_id, tag_id, created_by from webelect.voter_tags order by voter_id") == [
        (v1, tag, None), (v2, tag, user),
    ]
    assert report["applied"]["tag"] == 3 and report["rows_written"]["voter_tags"] == 1


# --- voter matching and bad changes --------------------------------------------------------


def test_voter_matching_webelect_id_of_the_campaign_then_sos_id_within_it(webelect, factory):
    c = factory.enabled_campaign()
    other = factory.enabled_campaign("Other campaign")
    a = factory.voter(c, sos_voter_id="OH-A")
    b = factory.voter(c, sos_voter_id="OH-B")
    foreign = factory.voter(other, sos_voter_id="OH-F")
    factory.voter(other, sos_voter_id="OH-ONLY-OTHER")
    feed = Feed([
        change("note", voter_id=a, sos="OH-B", note="by id", change_id="m1"),           # id wins over sos
        change("note", voter_id=None, sos="OH-B", note="by sos", change_id="m2"),       # sos-only voter
        change("note", voter_id=foreign, sos="OH-A", note="foreign id, sos here", change_id="m3"),
        change("note", voter_id=999_999, sos="OH-B", note="unknown id, sos here", change_id="m4"),
        change("note", voter_id=foreign, sos="OH-F", note="foreign", change_id="m5"),   # sos of the other campaign
        change("note", voter_id=None, sos="OH-ONLY-OTHER", note="other's sos", change_id="m6"),
        change("note", voter_id=999_999, sos="OH-NOPE", note="nobody", change_id="m7"),
        change("note", voter_id=None, sos=None, note="no key", change_id="m8"),
    ])
    report = night(c, feed)
    assert webelect.rows("select external_id, voter_id from webelect.notes order by external_id") == [
        ("m1", a), ("m2", b), ("m3", a), ("m4", b),
    ]
    assert rejections(webelect, c) == [("m5", "voter_not_in_campaign"), ("m6", "unknown_voter"),
                                       ("m7", "unknown_voter"), ("m8", "unknown_voter")]
    assert report["rejected"] == {"unknown_voter": 3, "voter_not_in_campaign": 1}


def test_bad_changes_are_stored_with_reasons_and_the_rest_is_applied(webelect, factory):
    c = factory.enabled_campaign()
    v = factory.voter(c)
    feed = Feed([
        change("tag", voter_id=v, tag="Yard Sign", change_id="ok-tag"),
        change("survey", voter_id=v, answer="yes", change_id="bad-type"),
        change("phone", voter_id=v, phone={"number": "555", "type": "cell"}, change_id="bad-phone"),
        change("email", voter_id=v, email="nope@", change_id="bad-email"),
        change("note", voter_id=v, note=" ", change_id="bad-note"),
        change("tag", voter_id=v, tag=" ", change_id="bad-tag"),
        change("note", voter_id=424242, note="hello", change_id="bad-voter"),
        change("note", voter_id=v, note="fine", change_id="ok-note"),
    ])
    feed.changes.append({"seq": 999, "type": "note", "note": "no id"})  # malformed: no id
    report = night(c, feed)
    got = dict(webelect.rows("select reason, count(*) from webelect.sidekick_import_rejections group by 1"))
    assert got == {"unknown_type": 1, "invalid_phone": 1, "invalid_email": 1, "empty_note": 1, "empty_tag": 1,
                   "unknown_voter": 1, "malformed": 1}
    assert report["rejected"] == got and report["rejected_total"] == 7
    assert report["applied"] == {"email": 0, "note": 1, "phone": 0, "tag": 1}
    assert webelect.rows("select external_id from webelect.notes") == [("ok-note",)]
    assert webelect.scalar("select count(*) from webelect.voter_tags") == 1
    # The rejected change keeps what Sidekick sent, for staff to look at.
    assert webelect.scalar("select payload ->> 'answer' from webelect.sidekick_import_rejections "
                           "where change_id = 'bad-type'") == "yes"
    assert webelect.scalar("select count(*) from webelect.sidekick_change_inbox") == 0


def test_nothing_crosses_campaigns(webelect, factory):
    a = factory.enabled_campaign("A")
    b = factory.enabled_campaign("B")
    va, vb = factory.voter(a, sos_voter_id="OH-1"), factory.voter(b, sos_voter_id="OH-1")
    ua = factory.user(a, PAT, level=2)
    tb = factory.tag(b, "Yard Sign")
    feed_a = Feed([change("tag", voter_id=va, tag="Yard Sign"), change("note", sos="OH-1", note="for A"),
                   change("note", voter_id=vb, note="B's voter id, no sos", sos=None)])
    report = night(a, feed_a)
    assert webelect.rows("select voter_id, created_by from webelect.notes") == [(va, ua)]
    tag_a = webelect.scalar("select id from webelect.tags where campaign_id = %s and name = 'Yard Sign'", (a,))
    assert tag_a != tb
    assert webelect.rows("select voter_id, tag_id, created_by from webelect.voter_tags") == [(va, tag_a, ua)]
    assert report["users_created"] == 0 and report["rejected"] == {"voter_not_in_campaign": 1}
    assert snapshot(webelect)["users"] == [(ua, a, PAT, "Pat", "Lee", 2, None, None)]


def test_a_note_whose_change_id_another_campaign_already_used_is_rejected_not_lost(webelect, factory):
    c = factory.enabled_campaign()
    other = factory.enabled_campaign("Other campaign")
    v, foreign = factory.voter(c), factory.voter(other)
    webelect.admin.execute("insert into webelect.notes (voter_id, body, created_at, source, external_id) "
                           "values (%s, 'theirs', now(), 'sidekick', 'chg_shared')", (foreign,))
    feed = Feed([change("note", voter_id=v, note="ours", change_id="chg_shared"),
                 change("note", voter_id=v, note="fine", change_id="chg_own")])
    report = night(c, feed)
    assert webelect.rows("select voter_id, body, external_id from webelect.notes order by id") == [
        (foreign, "theirs", "chg_shared"), (v, "fine", "chg_own")]
    assert rejections(webelect, c) == [("chg_shared", "note_id_conflict")]
    assert report["rejected"] == {"note_id_conflict": 1} and report["applied"]["note"] == 1


def test_cursor_command_shows_and_resets(webelect, factory, capsys):
    from webelect_sidekick.importer import cursor

    c = factory.enabled_campaign("Shown")
    assert cursor._main(["show", "--campaign", str(c)]) == 0
    assert "no saved cursor" in capsys.readouterr().out
    night(c, Feed([change("tag", voter_id=factory.voter(c), tag="X")]))
    assert cursor._main(["show", "--campaign", str(c)]) == 0
    assert "saved cursor 'pos:1'" in capsys.readouterr().out
    assert cursor._main(["reset", "--campaign", str(c)]) == 0
    assert "Reset the Sidekick change cursor of campaign" in capsys.readouterr().out
    assert webelect.rows("select cursor, reset_by like 'cli:%%' from webelect.sidekick_import_cursors") == [(None, True)]
    assert cursor._main(["reset", "--campaign", "999999"]) == 2
    assert "does not exist" in capsys.readouterr().err
