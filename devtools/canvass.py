"""Simulated canvass changes for a campaign's voters: what Sidekick's changes feed would carry.

Realistic and deliberately messy, so the demo and the benchmark exercise every rule of the
import: tags (a pool of walk-list tags, with stray spaces and other capitalisations, a few
empty), notes (quotes, commas, newlines, tabs, emoji, Spanish, Vietnamese, Russian,
Chinese, Arabic; a few blank), phones typed every which way ("(614) 555-0123",
"614.555.0123", "+1 614 555 0123", "1-614-555-0123" …, some invalid, types cell/landline/
null/odd capitals), emails in mixed case with stray spaces (some invalid), a pool of
canvassers whose emails come in several capitalisations, some voters known only by their
SOS id, some unknown voters, and a few changes of a type the import does not know.

Python::

    from devtools.canvass import generate_changes, generate
    changes = generate_changes(db_url, campaign_id, count=500, seed=1)   # reads the campaign's voters
    changes = generate(voters, count=200_000, seed=1)                    # voters: [(id, sos_voter_id), ...]

Changes carry ``id``, ``type``, ``occurred_at``, ``voter``, ``user`` and the type's field; no
``seq`` (the simulator assigns it: ``SimulatorControl.add_changes(account_id, changes)``).

Command line (prints NDJSON, or loads the changes into a running simulator)::

    python -m devtools.canvass --db-url URL --campaign ID [--count N] [--seed S]
        [--simulator http://127.0.0.1:8700 --account ID]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import orjson
import psycopg

TAGS = [
    "Yard Sign", "Volunteer", "Strong Support", "Lean Support", "Undecided", "Lean Oppose", "Strong Oppose",
    "Wants Absentee Ballot", "Needs Ride to Polls", "Door Hanger Left", "Not Home", "Moved", "Deceased",
    "Refused", "Spanish Speaker", "Veteran", "Small Business Owner", "Teacher", "Nurse", "Union Member",
    "Early Voter", "Host a Meet & Greet", "Bumper Sticker", "Donor Prospect", "Call Back", "Do Not Contact",
    "Walk 12/04", "Phone Bank 12/05", "Senior", "Student", "Parent", "Gun Owner", "Pro-Choice", "Pro-Life",
    "Dog at Door", "Gate Locked", "Apartment - No Access", "Language: Vietnamese", "Language: Chinese", "Ñandú Club",
]
NOTES = [
    "Asked about early voting",
    'Said "call me after 5pm", works nights',
    "Supports the levy, worried about property taxes, has two kids at Lincoln Elementary",
    "Not home.\nLeft literature in door.",
    "Habla español — prefiere material en español. ¡Muy amable!",
    "Cô ấy sẽ bỏ phiếu sớm. Cần thông tin về địa điểm bỏ phiếu.",
    "Говорит, что поддерживает кандидата, просил табличку во двор",
    "支持我们的候选人，想要一个院子标志。",
    "يريد معلومات عن التصويت المبكر",
    "Dog at the door 🐕 — approach from the side gate",
    "Wants a yard sign 🪧, husband undecided",
    "Moved out in October; new tenant's name is O'Connor-Smith",
    "Complained about robocalls,\tasked to be removed from the phone list",
    "Veteran, cares about VA clinic hours. Follow up re: town hall on 12/10",
    "Line 1\r\nLine 2 (Windows line break)\r\nLine 3",
    "  Leading and trailing spaces are kept as typed  ",
    "Will volunteer on weekends; email preferred; cell is best after 6",
    "Quote: 'I never miss an election' — 83 years old",
]
BAD_NOTES = ["", "   ", "\n\t "]
BAD_TAGS = ["", "  ", "\t"]
AREA_CODES = [614, 216, 513, 330, 419, 937, 740, 440, 234, 380]
CANVASSERS = [
    ("Pat", "Lee"), ("Jordan", "Rivera"), ("Sam", "O'Neil"), ("Alex", "Nguyễn"), ("María José", "García"),
    ("Chris", "Johnson"), ("Taylor", "Smith-Jones"), ("Robin", "Zhang"), ("Morgan", "Kowalski"), ("Jamie", "Okafor"),
    ("Casey", "Brown"), ("Avery", "Müller"), ("Riley", "Patel"), ("Quinn", "Cohen"), ("Dana", "Ivanova"),
    ("Lee", "Park"), ("Sky", "Yamamoto"), ("Jesse", "Haddad"), ("Drew", "Williams"), ("Kai", "Kealoha"),
]
DOMAINS = ["gmail.com", "yahoo.com", "Example.org", "outlook.com", "campaign.example.org", "aol.com", "icloud.com"]
UNKNOWN_TYPES = ["survey", "disposition", "event_rsvp"]


def _phone(rng: random.Random) -> str:
    area, exchange, line = rng.choice(AREA_CODES), rng.randint(201, 989), rng.randint(0, 9999)
    if exchange % 100 == 11:  # N11 exchanges are not assigned
        exchange += 1
    style = rng.randrange(7)
    if style == 0:
        return f"({area}) {exchange}-{line:04d}"
    if style == 1:
        return f"{area}.{exchange}.{line:04d}"
    if style == 2:
        return f"+1 {area} {exchange} {line:04d}"
    if style == 3:
        return f"{area}{exchange}{line:04d}"
    if style == 4:
        return f"1-{area}-{exchange}-{line:04d}"
    if style == 5:
        return f"{area}-{exchange}-{line:04d}"
    return f" ({area}){exchange}-{line:04d} "


def _bad_phone(rng: random.Random) -> str:
    return rng.choice(["555-0123", "12345", "call me", "614-555-01234", "000-000-0000", "n/a",
                       f"{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"])


def _recase(rng: random.Random, text: str) -> str:
    style = rng.randrange(5)
    if style == 0:
        return text.lower()
    if style == 1:
        return text.upper()
    if style == 2:
        return f"  {text} "
    return text


def _canvasser_email(first: str, last: str) -> str:
    local = f"{first}.{last}".replace(" ", "").replace("'", "")
    local = local.encode("ascii", "ignore").decode() or "canvasser"
    return f"{local}@Campaign.Example.org"


def generate(voters: Sequence[tuple[int, str]], count: int, *, seed: int = 0,
             start: datetime | None = None, days: float = 3.0) -> list[dict]:
    """``count`` changes for ``voters`` (``(webelect_voter_id, sos_voter_id)`` pairs), oldest first."""
    if not voters:
        raise ValueError("the campaign has no voters to canvass")
    rng = random.Random(seed)
    start = start or datetime.now(UTC) - timedelta(days=days)
    step = days * 86400 / max(count, 1)
    canvassers = [(first, last, _canvasser_email(first, last)) for first, last in CANVASSERS]
    # Some voters get the same phone or email again on another visit (already present by then).
    repeat_phone: dict[int, str] = {}
    repeat_email: dict[int, str] = {}
    changes: list[dict] = []
    for i in range(count):
        roll = rng.random()
        voter_id, sos = voters[rng.randrange(len(voters))]
        if roll < 0.04:  # a voter Sidekick has that webElect does not
            voter = {"webelect_voter_id": None, "sos_voter_id": f"ZZ{rng.randrange(10**10):010d}"}
        elif roll < 0.10:  # added in Sidekick by hand: known only by SOS id
            voter = {"webelect_voter_id": None, "sos_voter_id": sos}
        elif roll < 0.11:  # a stale webElect id, right SOS id
            voter = {"webelect_voter_id": voter_id + 10**9, "sos_voter_id": sos}
        else:
            voter = {"webelect_voter_id": voter_id, "sos_voter_id": sos}
        first, last, email = canvassers[rng.randrange(len(canvassers))]
        user = {"email": _recase(rng, email), "first_name": first, "last_name": last}
        occurred = start + timedelta(seconds=i * step + rng.random() * step)
        change = {
            "id": f"chg_{seed:04d}{i:09d}{rng.getrandbits(40):010X}",
            "occurred_at": occurred.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "voter": voter,
            "user": user,
        }
        kind = rng.random()
        if kind < 0.30:
            change["type"] = "tag"
            change["tag"] = rng.choice(BAD_TAGS) if rng.random() < 0.01 else _recase(rng, rng.choice(TAGS))
        elif kind < 0.55:
            change["type"] = "note"
            change["note"] = rng.choice(BAD_NOTES) if rng.random() < 0.01 else rng.choice(NOTES)
        elif kind < 0.77:
            change["type"] = "phone"
            if rng.random() < 0.05:
                number = _bad_phone(rng)
            elif voter_id in repeat_phone and rng.random() < 0.3:
                number = repeat_phone[voter_id]
            else:
                number = repeat_phone.setdefault(voter_id, _phone(rng))
            change["phone"] = {"number": number, "type": rng.choice(["cell", "cell", "landline", None, "Cell"])}
        elif kind < 0.99:
            change["type"] = "email"
            if rng.random() < 0.05:
                address = rng.choice(["name@", "no at sign.com", "a@b", "two@@example.com", "   "])
            elif voter_id in repeat_email and rng.random() < 0.3:
                address = _recase(rng, repeat_email[voter_id])
            else:
                address = repeat_email.setdefault(
                    voter_id, f"voter{voter_id}.{rng.randrange(100)}@{rng.choice(DOMAINS)}")
                address = _recase(rng, address)
            change["email"] = address
        else:
            change["type"] = rng.choice(UNKNOWN_TYPES)
            change["answer"] = rng.choice(["yes", "no", "maybe"])
        changes.append(change)
    return changes


def campaign_voters(conn: psycopg.Connection, campaign_id: int) -> list[tuple[int, str]]:
    return conn.execute("select id, sos_voter_id from webelect.voters where campaign_id = %s order by id",
                        (campaign_id,)).fetchall()


def generate_changes(db: str | psycopg.Connection, campaign_id: int, count: int = 500, seed: int = 0) -> list[dict]:
    """Changes for the voters of ``campaign_id``, read from the webElect database at ``db``."""
    if isinstance(db, str):
        with psycopg.connect(db) as conn:
            voters = campaign_voters(conn, campaign_id)
    else:
        voters = campaign_voters(db, campaign_id)
    return generate(voters, count, seed=seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.canvass", description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", required=True, help="webElect database URL (to read the campaign's voters)")
    parser.add_argument("--campaign", type=int, required=True)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--simulator", help="load into this simulator instead of printing NDJSON")
    parser.add_argument("--account", type=int, help="the simulator account id (with --simulator)")
    args = parser.parse_args(argv)
    changes = generate_changes(args.db_url, args.campaign, args.count, args.seed)
    if args.simulator:
        if args.account is None:
            parser.error("--simulator needs --account")
        from simulator.control import SimulatorControl

        with SimulatorControl(args.simulator) as control:
            for i in range(0, len(changes), 5000):
                control.add_changes(args.account, changes[i:i + 5000])
        print(f"loaded {len(changes)} changes into account {args.account}", file=sys.stderr)
    else:
        out = sys.stdout.buffer
        for change in changes:
            out.write(orjson.dumps(change) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
