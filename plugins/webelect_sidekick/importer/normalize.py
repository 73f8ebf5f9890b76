"""Turn one Sidekick change (as delivered) into the typed columns of the inbox.

Phones and emails are normalised once per DISTINCT raw value: each ``Normalizer`` keeps a
dict of what it has already seen, so a night of 200,000 changes where the same numbers
come back again and again parses each number once. Nothing here touches the database.

Rules (behaviour.md, "merge contacts"):
- tag: the Sidekick name, trimmed; empty or whitespace-only -> ``empty_tag``;
- note: the body as typed (not trimmed); empty or whitespace-only -> ``empty_note``;
  a note needs ``occurred_at`` (its ``created_at``) -> else ``missing_occurred_at``;
- phone: E.164 with ``phonenumbers``, US by default, ``is_valid_number`` -> else
  ``invalid_phone``; the type is kept when it is 'cell' or 'landline' (any case), else 'unknown';
- email: trimmed, syntax-checked with ``email-validator`` (no DNS) -> else ``invalid_email``;
  it is lower-cased when written (by PostgreSQL's ``lower()``, the same function webElect's
  unique index uses);
- any other type -> ``unknown_type``; a change that is not an object or has no id -> ``malformed``;
  no user email -> ``missing_user``.
Voters are matched later, in SQL (``unknown_voter`` / ``voter_not_in_campaign``).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

import orjson
import phonenumbers
from email_validator import EmailNotValidError, validate_email

KNOWN_TYPES = frozenset({"tag", "note", "phone", "email"})
PHONE_TYPES = frozenset({"cell", "landline", "unknown"})
DEFAULT_REGION = "US"

# Rejection reasons, in the order they are checked. The SQL adds the voter ones.
MALFORMED = "malformed"
UNKNOWN_TYPE = "unknown_type"
EMPTY_TAG = "empty_tag"
EMPTY_NOTE = "empty_note"
INVALID_PHONE = "invalid_phone"
INVALID_EMAIL = "invalid_email"
MISSING_OCCURRED_AT = "missing_occurred_at"
MISSING_USER = "missing_user"

_MAX_RAW = 254  # longer phone/email input is not a phone or an email
_PLAIN_PHONE = re.compile(r"\s*\+?[\d\s().\-]+\Z")
_NON_DIGITS = re.compile(r"\D")
# A dot-atom local part of RFC 5322 "atext" in ASCII: what email-validator accepts unquoted.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")


def _valid_email(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _text(value: Any) -> str | None:
    """A string without NUL characters (PostgreSQL text cannot hold them), else None."""
    if not isinstance(value, str):
        return None
    return value.replace("\x00", "") if "\x00" in value else value


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    return value


class Normalizer:
    """Per-pull caches of normalised values; one instance per campaign pull."""

    def __init__(self, region: str = DEFAULT_REGION):
        self.region = region
        self._phones: dict[str, str | None] = {}
        self._emails: dict[str, str | None] = {}
        self._domains: dict[str, bool] = {}
        self._times: dict[str, datetime | None] = {}

    # --- distinct-value normalisers -------------------------------------------------
    def phone(self, raw: str) -> str | None:
        """E.164 for a valid number, else None. Each distinct input is parsed once.

        Inputs made only of digits, spaces, ``( ) . -`` and a leading ``+`` mean the same
        number as their digits (with the ``+``), so "(614) 555-0123" and "614.555.0123" share
        one parse; anything else (letters, extensions) is parsed as typed.
        """
        try:
            return self._phones[raw]
        except KeyError:
            pass
        key = raw
        if _PLAIN_PHONE.match(raw):
            key = ("+" if raw.lstrip().startswith("+") else "") + _NON_DIGITS.sub("", raw)
            try:
                result = self._phones[key]
            except KeyError:
                result = self._parse_phone(key)
                self._phones[key] = result
        else:
            result = self._parse_phone(raw)
        self._phones[raw] = result
        return result

    def _parse_phone(self, raw: str) -> str | None:
        if len(raw) > _MAX_RAW:
            return None
        try:
            number = phonenumbers.parse(raw, self.region)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(number):
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def email(self, raw: str) -> str | None:
        """The trimmed address when its syntax is valid, else None. Each distinct input is checked once."""
        try:
            return self._emails[raw]
        except KeyError:
            pass
        trimmed = raw.strip()
        result = None
        if trimmed and len(trimmed) <= _MAX_RAW:
            local, at, domain = trimmed.rpartition("@")
            if at and len(local) <= 64 and _PLAIN_LOCAL.match(local) and domain.isascii():
                # The common case: a plain ASCII local part, so only the domain needs the
                # library's checks, and a night has few distinct domains: check each once.
                valid = self._domain(domain.lower())
            else:
                valid = _valid_email(trimmed)
            result = trimmed if valid else None
        self._emails[raw] = result
        return result

    def _domain(self, domain: str) -> bool:
        try:
            return self._domains[domain]
        except KeyError:
            valid = self._domains[domain] = _valid_email(f"x@{domain}")
            return valid

    def timestamp(self, raw: Any) -> datetime | None:
        if not isinstance(raw, str):
            return None
        try:
            return self._times[raw]
        except KeyError:
            pass
        try:
            value = datetime.fromisoformat(raw.strip())
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
        except ValueError:
            value = None
        self._times[raw] = value
        return value

    # --- one change ------------------------------------------------------------------
    def row(self, change: Any) -> tuple:
        """The inbox columns for one delivered change, in ``INBOX_COLUMNS`` order."""
        payload = _dumps(change)
        if "\\u0000" in payload:  # jsonb and text cannot hold NUL: drop it
            change = _strip_nul(change)
            payload = _dumps(change)
        if not isinstance(change, dict):
            return (_synthetic_id(payload), None, None, None, None, None, None, None, None, MALFORMED, payload)

        raw_id = change.get("id")
        change_id = str(raw_id).strip() if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else ""
        seq = change.get("seq")
        seq = seq if isinstance(seq, int) and not isinstance(seq, bool) and -(2**63) < seq < 2**63 else None
        change_type = _text(change.get("type"))
        occurred_at = self.timestamp(change.get("occurred_at"))

        voter = change.get("voter")
        voter_id = sos_id = None
        if isinstance(voter, dict):
            raw_voter_id = voter.get("webelect_voter_id")
            if isinstance(raw_voter_id, int) and not isinstance(raw_voter_id, bool) and 0 < raw_voter_id < 2**63:
                voter_id = raw_voter_id
            elif isinstance(raw_voter_id, str) and raw_voter_id.strip().isdigit() and len(raw_voter_id.strip()) < 19:
                voter_id = int(raw_voter_id.strip())
            sos = _text(voter.get("sos_voter_id"))
            sos_id = (sos.strip() or None) if sos is not None else None

        user = change.get("user")
        user_email = None
        if isinstance(user, dict):
            email = _text(user.get("email"))
            user_email = (email.strip() or None) if email is not None else None

        value = phone_type = problem = None
        if not change_id:
            change_id, problem = _synthetic_id(payload), MALFORMED
        elif change_type not in KNOWN_TYPES:
            problem = UNKNOWN_TYPE
        elif change_type == "tag":
            tag = _text(change.get("tag"))
            value = tag.strip() if tag is not None else ""
            if not value:
                value, problem = None, EMPTY_TAG
        elif change_type == "note":
            value = _text(change.get("note"))
            if value is None or not value.strip():
                value, problem = None, EMPTY_NOTE
            elif occurred_at is None:
                problem = MISSING_OCCURRED_AT
        elif change_type == "phone":
            phone = change.get("phone")
            raw_number = _text(phone.get("number")) if isinstance(phone, dict) else _text(phone)
            value = self.phone(raw_number) if raw_number is not None else None
            if value is None:
                problem = INVALID_PHONE
            else:
                raw_type = _text(phone.get("type")) if isinstance(phone, dict) else None
                phone_type = raw_type.strip().lower() if raw_type is not None else "unknown"
                if phone_type not in PHONE_TYPES:
                    phone_type = "unknown"
        else:  # email
            raw_email = _text(change.get("email"))
            value = self.email(raw_email) if raw_email is not None else None
            if value is None:
                problem = INVALID_EMAIL
        if problem is None and user_email is None:
            problem = MISSING_USER
        return (change_id, seq, change_type, occurred_at, voter_id, sos_id, user_email, value, phone_type,
                problem, payload)


#: Column order of ``Normalizer.row`` (and of the pull's staging table).
INBOX_COLUMNS = ("change_id", "seq", "change_type", "occurred_at", "voter_webelect_id", "voter_sos_id",
                 "user_email", "value", "phone_type", "problem", "payload")


def _dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):  # e.g. an integer beyond 64 bits
        return json.dumps(value, default=str)


def _synthetic_id(payload: str) -> str:
    """A stable key for a change that came without an id, so it is stored (and rejected) once."""
    return "malformed:" + hashlib.sha256(payload.encode()).hexdigest()[:40]
