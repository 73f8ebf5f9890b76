"""Normalisation of what canvassers typed: the per-value caches and shortcuts give exactly the
libraries' answers (phonenumbers for E.164, email-validator for syntax), once per distinct value."""

from __future__ import annotations

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email

from webelect_sidekick.importer.normalize import INBOX_COLUMNS, Normalizer

PHONES = [
    "(614) 555-0123", "614.555.0123", "+1 614 555 0123", "6145550123", "1-614-555-0123", " (614)555-0123 ",
    "16145550123", "+16145550123", "614-555-0123", "+44 20 7946 0958", "+442079460958", "442079460958",
    "555-0123", "12", "", "   ", "call me", "1-800-FLOWERS", "6145550123 ext 5", "614-555-01234",
    "000-000-0000", "+1 (212) 555-1234", "212 555 1234", "+52 55 1234 5678", "(614) 555-0123 x12", "+",
    "++1 614 555 0123", "614..555..0123", "(((614))) 555-0123", "+1-614-555-0123", "911",
]
EMAILS = [
    "Pat.Lee@Example.org", " pat.lee@example.org ", "a+tag@example.com", "a..b@example.org", ".a@example.org",
    "a.@example.org", '"quoted"@example.org', "ä@müller.de", "josé@correo.example.com", "a@xn--bcher-kva.example",
    "a@-bad.org", "a@bad-.org", "A@EXAMPLE.COM", "a@localhost", "a@x.test", "a@[127.0.0.1]", "x" * 65 + "@a.org",
    "a@" + "b" * 250 + ".org", "no at sign", "two@@example.com", "a@b", "", "  ", "a b@example.org",
    "a@example..org", "a@.example.org", "first_last-1{}|~@sub.example.co.uk", "a@example.org.", "a@123.123.123.123",
]


def library_phone(raw: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def library_email(raw: str) -> str | None:
    try:
        validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        return None
    return raw.strip()


@pytest.mark.parametrize("raw", PHONES)
def test_phones_match_phonenumbers(raw):
    normalizer = Normalizer()
    for other in PHONES:  # warm the shared cache with every other spelling first
        normalizer.phone(other)
    assert normalizer.phone(raw) == library_phone(raw)
    assert Normalizer().phone(raw) == library_phone(raw)


@pytest.mark.parametrize("raw", EMAILS)
def test_emails_match_email_validator(raw):
    normalizer = Normalizer()
    for other in EMAILS:
        normalizer.email(other)
    assert normalizer.email(raw) == library_email(raw)
    assert Normalizer().email(raw) == library_email(raw)


def test_each_distinct_value_is_parsed_once(monkeypatch):
    calls = []
    real = phonenumbers.parse
    monkeypatch.setattr(phonenumbers, "parse", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    normalizer = Normalizer()
    for raw in ["(614) 555-0123", "614.555.0123", "614-555-0123", "(614) 555-0123"] * 100:
        assert normalizer.phone(raw) == "+16145550123"
    assert calls == ["6145550123"]


def row(change) -> dict:
    return dict(zip(INBOX_COLUMNS, Normalizer().row(change), strict=True))


def test_change_rows():
    base = {"id": "c1", "seq": 5, "occurred_at": "2026-12-03T21:14:05Z",
            "voter": {"webelect_voter_id": 12, "sos_voter_id": " OH1 "}, "user": {"email": " Pat@X.org "}}
    got = row({**base, "type": "phone", "phone": {"number": "(614) 555-0123", "type": "Landline"}})
    assert (got["value"], got["phone_type"], got["problem"], got["voter_sos_id"], got["user_email"]) == (
        "+16145550123", "landline", None, "OH1", "Pat@X.org")
    assert row({**base, "type": "phone", "phone": {"number": "6145550123", "type": "mobile"}})["phone_type"] == "unknown"
    assert row({**base, "type": "tag", "tag": "\u00a0Yard Sign\t"})["value"] == "Yard Sign"
    assert row({**base, "type": "note", "note": " kept as typed \n"})["value"] == " kept as typed \n"
    assert row({**base, "type": "note", "note": "x", "occurred_at": "yesterday"})["problem"] == "missing_occurred_at"
    assert row({**base, "type": "note", "note": "nul\x00byte"})["value"] == "nulbyte"
    assert row({**base, "type": "Tag", "tag": "x"})["problem"] == "unknown_type"
    assert row({**base, "type": "tag", "tag": "x", "user": None})["problem"] == "missing_user"
    assert row({**base, "type": "tag", "tag": "x", "voter": {"webelect_voter_id": True}})["voter_webelect_id"] is None
    assert row({**base, "type": "tag", "tag": "x", "seq": 2**70})["seq"] is None
    no_id = row({"type": "tag", "tag": "x"})
    assert no_id["problem"] == "malformed" and no_id["change_id"].startswith("malformed:")
    assert row({"type": "tag", "tag": "x"})["change_id"] == no_id["change_id"]  # stable: stored once
    assert row(["not", "an", "object"])["problem"] == "malformed"
