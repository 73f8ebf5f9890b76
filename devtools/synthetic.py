"""Synthetic webElect data: realistic campaigns, bulk-loaded with COPY.

Fills a database that already has the webElect schema (``include/sql/webelect/schema.sql``)
with one or more campaigns that look like the real thing: households of 1-6 voters, a
few empty households, voters with no household, ~1 % purged and ~10 % inactive voters,
names with accents, Vietnamese and Chinese characters, apostrophes and hyphens, a
nested tag tree (some tags with a ``sidekick_name``), voter tags, groups, notes full of
commas, quotes, newlines, emoji and non-Latin text, E.164 phones and emails from
several sources, staff users (an admin, staff of levels 1-4, an expired admin, a
level-0 user and a Sidekick-created account) and saved target queries.

Command line (the URL is used as given: a superuser URL standing in for webElect)::

    python -m devtools.synthetic --db-url postgresql://postgres@127.0.0.1:5432/mydb \\
        [--voters N] [--seed S] [--campaigns K] [--campaign-name NAME] \\
        [--query-size N ...] [--benchmark] [--reset] [--json]

``--voters`` is per campaign (default 2,000; with ``--benchmark`` 1,500,000 for the first). It prints a summary line with the row
counts and the seconds taken; ``--json`` also prints the full result (below) as JSON.

Python API::

    from devtools.synthetic import generate
    result = generate(url_or_psycopg_connection, voters=5_000, seed=7, campaigns=2)
    result["campaigns"][0]["id"]            # campaign id
    result["campaigns"][0]["admin_email"]   # 'admin@<slug>.example.org', level 5, can log in
    result["campaigns"][0]["queries"]       # [{'id', 'name', 'kind', 'size'}, ...]
    result["campaigns"][0]["query_ids"]     # {'everyone_active': id, 'half_sample': id, ...}
    result["counts"]                        # rows loaded per table (all campaigns)
    result["benchmark_query_id"]            # only with benchmark=True: the 1,000,000-voter query
    result["seconds"]

Parameters of ``generate``:

- ``voters`` -- voters per campaign: one int for every campaign, or a sequence with one
  size per campaign (``voters=[1_500_000, 2_000]``). Default 2,000 (1,500,000 with
  ``benchmark=True``).
- ``seed`` -- the same seed, sizes and starting database give identical rows, ids
  included (each campaign draws from ``numpy.random.Generator(PCG64(SeedSequence([seed,
  campaign_id])))``, so two campaigns of one run differ).
- ``campaigns`` -- how many campaigns (default: ``len(voters)`` or 1). Campaigns never
  share a row: every voter, household, tag, group, note, phone, email, user and query
  belongs to exactly one campaign and references only that campaign's rows.
- ``campaign_name`` -- a name (campaigns 2.. get " 2", " 3" appended) or one per
  campaign. Default ``"Synthetic Campaign <id>"``. The admin's email is
  ``admin@<slug-of-the-name>.example.org``.
- ``query_sizes`` -- extra saved queries of exactly N targeted (non-purged) voters each,
  chosen to split households: every household keeps one random member in the query
  while there is room, and the voters left out are drawn from the other members, so
  (nearly) every non-purged voter outside the query is the housemate of a targeted one. A sequence applies to every campaign; a mapping
  ``{campaign_index: [sizes]}`` (0-based) to the campaigns it names. A size larger than
  the campaign's non-purged voters is a ``ValueError``.
- ``benchmark=True`` -- the export benchmark's preset: the first campaign gets
  1,500,000 voters (unless ``voters`` says otherwise; further campaigns get 2,000) and a
  query of exactly 1,000,000 targeted voters (kind ``'sample'``, id in
  ``campaigns[0]["sample_query_ids"]`` and ``result["benchmark_query_id"]``), which brings
  485,000 housemates along (all of the 1,485,000 non-purged voters outside the query).
- ``reset=True`` -- first truncate every webElect table and the package's ``sidekick_``
  tables (not ``sidekick_schema_migrations``) and restart their identities. Destructive,
  so never the default: without it a run only *adds* campaigns, with ids after
  everything already there, and can be repeated against the same database.

Every campaign gets these saved queries (``kind``: name):

- ``everyone_active``: "Everyone active" -- every voter whose status is not 'purged';
- ``half_sample``: "Random half (splits households)" -- ~50 % of the non-purged voters;
- ``demo``: "Demo: 100 voters" -- 100 random non-purged voters (fewer in a tiny campaign);
- ``with_purged``: "Old list incl. purged voters" -- up to 50 purged + 150 other voters;
- ``sample``: one per ``query_sizes`` entry, "Sample of N voters (splits households)".

Ids are explicit: each table continues after ``greatest(max(id), its identity
sequence's last value)`` (tables are locked meanwhile), and afterwards every identity
sequence is moved to the new ``max(id)``, so webElect's (and the package's) later
inserts don't collide. Everything loads in one transaction with COPY (CSV built by
numpy/pyarrow in a producer thread while PostgreSQL ingests the previous table), so a
failure leaves nothing behind. Timestamps are relative to a fixed moment
(2025-06-01 12:00 UTC), never the clock, to keep runs identical.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import queue
import re
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from psycopg import sql

log = logging.getLogger("devtools.synthetic")

DEFAULT_VOTERS = 2_000
BENCHMARK_VOTERS = 1_500_000
BENCHMARK_QUERY_SIZE = 1_000_000

#: Every timestamp is an offset from this moment, so that a seed always gives the same rows.
REFERENCE_TIME = np.datetime64("2025-06-01T12:00:00", "us")
REFERENCE_DATE = np.datetime64("2025-06-01", "D")
_US_PER_DAY = 86_400 * 1_000_000

#: webElect's tables in the order they load (foreign keys point backwards only).
TABLES: dict[str, tuple[str, ...]] = {
    "campaigns": ("id", "name", "timezone", "sidekick_enabled"),
    "users": ("id", "campaign_id", "email", "first_name", "last_name", "level", "expires_at", "created_at",
              "created_via"),
    "households": ("id", "campaign_id", "address_line1", "unit", "city", "state", "zip5"),
    "voters": ("id", "campaign_id", "household_id", "sos_voter_id", "rnc_reg_id", "first_name", "middle_name",
               "suffix", "last_name", "birth_date", "gender", "party", "registration_date", "status", "precinct"),
    "tags": ("id", "campaign_id", "name", "parent_id", "sidekick_name", "created_at"),
    "voter_tags": ("voter_id", "tag_id", "created_at", "created_by"),
    "groups": ("id", "campaign_id", "name", "created_at"),
    "group_members": ("group_id", "voter_id", "added_at"),
    "notes": ("id", "voter_id", "body", "created_at", "created_by", "source", "external_id"),
    "phones": ("id", "voter_id", "number", "phone_type", "source", "rank_score", "created_at", "created_by"),
    "emails": ("id", "voter_id", "address", "source", "rank_score", "created_at", "created_by"),
    "target_queries": ("id", "campaign_id", "name", "created_by", "created_at"),
    "target_query_voters": ("query_id", "voter_id"),
}
IDENTITY_TABLES = ("campaigns", "users", "households", "voters", "tags", "groups", "notes", "phones", "emails",
                   "target_queries")

# --- Reference data -------------------------------------------------------------------

# state, timezone, area codes, cities: (name, zip3, weight)
_STATES = (
    ("OH", "America/New_York", (614, 216, 513, 330, 419, 937, 440, 740),
     (("Columbus", "432", 30), ("Cleveland", "441", 20), ("Cincinnati", "452", 18), ("Toledo", "436", 10),
      ("Akron", "443", 8), ("Dayton", "454", 8), ("Parma", "441", 3), ("Canton", "447", 3))),
    ("PA", "America/New_York", (215, 267, 412, 610, 717, 570, 814),
     (("Philadelphia", "191", 35), ("Pittsburgh", "152", 20), ("Allentown", "181", 8), ("Erie", "165", 6),
      ("Reading", "196", 6), ("Scranton", "185", 5), ("Lancaster", "176", 5), ("Harrisburg", "171", 5))),
    ("AZ", "America/Phoenix", (602, 480, 520, 623, 928),
     (("Phoenix", "850", 35), ("Tucson", "857", 18), ("Mesa", "852", 12), ("Chandler", "852", 8),
      ("Glendale", "853", 8), ("Scottsdale", "852", 6), ("Tempe", "852", 6), ("Yuma", "853", 3))),
    ("WI", "America/Chicago", (414, 608, 262, 920, 715),
     (("Milwaukee", "532", 35), ("Madison", "537", 20), ("Green Bay", "543", 10), ("Kenosha", "531", 7),
      ("Racine", "534", 7), ("Appleton", "549", 6), ("Waukesha", "531", 5), ("Eau Claire", "547", 4))),
    ("GA", "America/New_York", (404, 470, 678, 770, 706, 912),
     (("Atlanta", "303", 35), ("Augusta", "309", 10), ("Columbus", "319", 10), ("Macon", "312", 8),
      ("Savannah", "314", 10), ("Athens", "306", 7), ("Sandy Springs", "303", 6), ("Roswell", "300", 5))),
)

_STREET_NAMES = (
    "Main", "High", "Broad", "Elm", "Oak", "Maple", "Pine", "Cedar", "Walnut", "Chestnut", "Cherry", "Spruce",
    "Washington", "Lincoln", "Jefferson", "Madison", "Franklin", "Jackson", "Adams", "Monroe", "Church", "Mill",
    "Park", "Lake", "River", "Hill", "Spring", "Sunset", "Highland", "Meadow", "Forest", "Ridge", "Valley",
    "Center", "Market", "Water", "Union", "Liberty", "Front", "Second", "Third", "Fourth", "Fifth", "Sixth",
    "Seventh", "Eighth", "Ninth", "Tenth", "Martin Luther King Jr", "Cesar Chavez", "Lakeview", "Fairview",
    "Woodland", "Prospect", "Grant", "Sherman", "Dogwood", "Magnolia", "Willow", "Hickory", "Birch", "Laurel",
    "Jones", "Green", "Railroad", "Academy", "College", "Orchard", "Pleasant", "Summit", "Cottage", "Bridge",
    "Canal", "Harbor", "King", "Queen", "Prince", "Bell", "Oakwood", "Glenwood", "Ivy", "Heather", "Rosewood",
    "Vista del Sol", "Camino Real", "Saint Mary's", "O'Hara", "Peachtree", "Old Mill", "Country Club",
)
_STREET_TYPES = (("St", 30), ("Ave", 22), ("Rd", 14), ("Dr", 12), ("Ln", 7), ("Ct", 5), ("Blvd", 4), ("Way", 3),
                 ("Pl", 2), ("Pkwy", 1), ("Cir", 1), ("Ter", 1))
_DIRECTIONS = ("N", "S", "E", "W")

# Name pools: {group: (male first names, female first names, surnames)}; display spelling.
_NAME_GROUPS: dict[str, tuple[str, str, str]] = {
    "anglo": (
        "James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew "
        "Anthony Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald Edward Jason "
        "Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel "
        "Gregory Alexander Frank Patrick Raymond Jack Dennis Jerry Tyler Aaron Henry Douglas Peter Adam Nathan "
        "Zachary Walter Kyle Harold Carl Jeremy Keith Roger Gerald Ethan Arthur Terry Christian Sean Lawrence "
        "Austin Joe Noah Jesse Albert Bryan Billy Bruce Willie Jordan Dylan Alan Ralph Gabriel Roy Wayne Eugene "
        "Logan Randy Louis Russell Vincent Philip Bobby Johnny Bradley DeShawn Tyrone Jamal Darnell Malik",
        "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty Sandra "
        "Margaret Ashley Kimberly Emily Donna Michelle Carol Amanda Melissa Deborah Stephanie Dorothy Rebecca "
        "Sharon Laura Cynthia Amy Kathleen Angela Shirley Brenda Emma Anna Pamela Nicole Samantha Katherine "
        "Christine Helen Debra Rachel Carolyn Janet Catherine Heather Diane Olivia Julie Joyce Victoria Ruth "
        "Virginia Lauren Kelly Christina Joan Evelyn Judith Andrea Hannah Megan Cheryl Jacqueline Martha Madison "
        "Teresa Gloria Sara Janice Ann Kathryn Abigail Sophia Frances Jean Alice Judy Isabella Julia Grace Amber "
        "Denise Danielle Marilyn Beverly Charlotte Natalie Theresa Diana Brittany Doris Kayla Alexis Lori Marie "
        "Shanice Latoya Keisha Imani Aaliyah Mary-Kate Zoë",
        "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Jackson Martin Lee "
        "Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill Green Adams Baker "
        "Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart Morris "
        "Murphy Cook Rogers Morgan Cooper Peterson Bailey Reed Kelly Howard Cox Ward Richardson Watson Brooks "
        "Wood James Bennett Gray Hughes Price Sanders Myers Long Ross Foster Powell Jenkins Perry Russell "
        "Sullivan Bell Coleman Butler Henderson Barnes Fisher Graham Hayes Simmons Patterson Jordan Reynolds "
        "Hamilton Wallace Cole West O'Brien O'Connor McDonald MacKenzie D'Angelo Kowalski Nowak Schmidt Müller "
        "Schneider Becker Olson Larson Hansen Novak Russo Romano Esposito Rossi Washington Jefferson "
        "Van_Buren St._John",
    ),
    "hispanic": (
        "José Juan Luis Carlos Jesús Miguel Antonio Francisco Alejandro Jorge Pedro Manuel Ricardo Fernando "
        "Javier Raúl Sergio Andrés Héctor Rubén Óscar Ramón Joaquín Julián Adrián Martín Iván Tomás Ángel Diego "
        "Santiago Mateo Emilio Rafael Eduardo Arturo Roberto",
        "María Guadalupe Ana Rosa Carmen Sofía Lucía Valentina Isabel Elena Verónica Mónica Mariana Daniela "
        "Gabriela Alejandra Beatriz Patricia Adriana Inés Raquel Dolores Pilar Yolanda Araceli Leticia Marisol "
        "Ximena Renée Noemí Belén María_José",
        "García Rodríguez Martínez Hernández López González Pérez Sánchez Ramírez Torres Flores Rivera Gómez Díaz "
        "Cruz Morales Reyes Gutiérrez Ortiz Chávez Ramos Ruiz Jiménez Mendoza Álvarez Castillo Vásquez Romero "
        "Herrera Medina Aguilar Núñez Peña Muñoz Ibáñez Domínguez Vargas Castro Guzmán Fernández Suárez Ortega "
        "Delgado Salazar De_La_Cruz de_León",
    ),
    "vietnamese": (
        "Minh Anh Dũng Hùng Tuấn Quang Đức Thắng Huy Long Phúc Khoa Bảo Nam Hải Trung Việt Sơn Tài Thành",
        "Thảo Hương Lan Linh Ngọc Trang Mai Hằng Thủy Phương Nhung Hoa Yến Vy Thu Hạnh Diệp Châu Quỳnh Xuân",
        "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý",
    ),
    "chinese": (
        "Wei Jian Hao Jun Ming Lei Qiang Tao Yong Jie Bo Peng Yi Feng Gang Hui Xin Kai Long Zhiwei",
        "Li Na Fang Ying Xiu Jing Mei Yan Hong Xia Lin Juan Ling Ting Yu Qing Lan Xue Min Xiaoling",
        "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao Cheung Wong Chan "
        "Lam Ng",
    ),
    # Written in Chinese characters, as some records are; "display:ascii" gives the pinyin for emails.
    "hanzi": (
        "伟:wei 强:qiang 磊:lei 军:jun 洋:yang 勇:yong 杰:jie 涛:tao 明:ming 超:chao 志强:zhiqiang",
        "芳:fang 娜:na 敏:min 静:jing 丽:li 艳:yan 娟:juan 霞:xia 婷:ting 雪:xue 秀英:xiuying",
        "王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 黄:huang 赵:zhao 吴:wu 周:zhou 欧阳:ouyang",
    ),
    "other": (
        "Rahul Arjun Vikram Sanjay Mohammed Ahmed Omar Ali Hassan Yusuf Min-jun Ji-ho Dmitri Oleksandr Kwame "
        "Chinedu Kofi Tariq Ravi Hiroshi",
        "Priya Ananya Aisha Fatima Layla Zainab Mariam Ji-woo Seo-yeon Olena Anastasia Chloé Amara Ngozi Yuki "
        "Deepa Noor Sakura Ifeoma Leila",
        "Patel Shah Singh Kumar Gupta Khan Ahmed Hussein Haddad Kim Park Choi Jung Kowalczyk Petrov Shevchenko "
        "Bianchi Okafor Mensah Adeyemi Tanaka Sato Nakamura Al-Amin Abdullah",
    ),
}
_GROUP_WEIGHTS = {"anglo": 64, "hispanic": 20, "vietnamese": 4, "chinese": 4, "hanzi": 1, "other": 7}

_PARTIES = (("REP", 33), ("DEM", 33), (None, 25), ("IND", 6), ("LIB", 2), ("GRN", 1))
_SUFFIXES = (("Jr", 50), ("Sr", 20), ("II", 10), ("III", 15), ("IV", 5))
_EMAIL_DOMAINS = (("gmail.com", 40), ("yahoo.com", 16), ("hotmail.com", 9), ("outlook.com", 8), ("aol.com", 6),
                  ("icloud.com", 7), ("comcast.net", 5), ("att.net", 4), ("protonmail.com", 2), ("sbcglobal.net", 3))

# name, parent, sidekick_name, share of voters tagged (support level is one exclusive choice).
_TAG_TREE: tuple[tuple[str, str | None, str | None, float], ...] = (
    ("Issues", None, None, 0.0),
    ("Guns", "Issues", "2nd Amendment", 0.05),
    ("Education", "Issues", None, 0.06),
    ("Healthcare", "Issues", "Health Care", 0.06),
    ("Economy & Jobs", "Issues", "Economy", 0.07),
    ("Immigration", "Issues", None, 0.03),
    ("Environment", "Issues", None, 0.03),
    ("Abortion", "Issues", None, 0.03),
    ("Support Level", None, None, 0.0),
    ("1 - Strong Support", "Support Level", "Strong Support", 0.10),
    ("2 - Lean Support", "Support Level", "Lean Support", 0.08),
    ("3 - Undecided", "Support Level", "Undecided", 0.10),
    ("4 - Lean Oppose", "Support Level", "Lean Oppose", 0.05),
    ("5 - Strong Oppose", "Support Level", "Strong Oppose", 0.06),
    ("Yard Sign", None, "Yard Sign Request", 0.03),
    ("Volunteer", None, "Wants to Volunteer", 0.01),
    ("Phone Bank", "Volunteer", None, 0.005),
    ("Door Knocking", "Volunteer", "Canvass", 0.005),
    ("Host an Event", "Volunteer", None, 0.002),
    ("Donor", None, None, 0.0),
    ("Small Donor", "Donor", None, 0.02),
    ("Major Donor", "Donor", "Major Donor $1,000+", 0.002),
    ("Do Not Contact", None, "DNC", 0.01),
    ("Veteran ", None, None, 0.03),  # trailing space: real tag names are untidy
    ("Habla español", None, "Spanish Speaker", 0.02),
    ("Nói tiếng Việt", None, "Vietnamese Speaker", 0.005),
    ("需要中文材料", None, None, 0.003),  # "needs Chinese-language material"
    ("Sidekick", None, None, 0.0),  # root of tags an earlier import created
    ("Not Home", "Sidekick", None, 0.04),
    ("Moved", "Sidekick", None, 0.01),
    ("yard sign", "Sidekick", None, 0.002),  # same name as 'Yard Sign' in another case
)
_SUPPORT_TAGS = ("1 - Strong Support", "2 - Lean Support", "3 - Undecided", "4 - Lean Oppose", "5 - Strong Oppose")

# name, share of voters
_GROUPS = (
    ("Early Voters 2024", 0.15), ("Absentee Ballot Requests", 0.08), ("Turf 12, North Side", 0.03),
    ("Lista en Español", 0.02), ("Donors – Q3 2025", 0.01), ("Yard Sign Deliveries", 0.01),
    ("Phone Bank Volunteers", 0.005), ("Block Captains", 0.002), ("Empty group (new)", 0.0),
)

_NOTES = (
    "Not home, left lit at door.",
    "Strong supporter, wants a yard sign.",
    "Undecided, worried about property taxes, schools, and roads.",
    'Said "call me after 6pm" and closed the door.',
    "Moved away, new owner is renting.",
    "Very friendly! Offered us water 💧",
    "Dog in yard 🐕, approach with care.",
    "Asked about early voting hours, gave flyer.",
    "Spoke with daughter; mom is in the hospital.",
    "Prefers text over calls.",
    "Left voicemail.",
    "Wrong number.",
    "Hostile, do not return.",
    "Needs a ride to the polls on Election Day.",
    "Interested in volunteering: phone bank, maybe canvass.",
    "Said he'd vote \"if the weather's good\".",
    "Gate code is 4#21\\ (backslash included).",
    "Household split: she supports, he doesn't.",
    "Requested absentee ballot application, mailed 10/02.",
    "Donated $25 at the door 👍",
    "Concerned about gun laws, healthcare, and jobs — in that order.",
    "Asked us to remove her from the list; tagged DNC.",
    "Veteran, Army, served in Iraq. Cares about VA funding.",
    "Works nights, try weekends.",
    "Language barrier; needs Spanish speaker.",
    "Habla español, prefiere llamadas por la tarde.",
    "No está en casa; dejé folleto en la puerta.",
    "Apoya al candidato, quiere un letrero para el jardín.",
    "Cần người nói tiếng Việt; bà cụ không nói tiếng Anh.",
    "Ông ấy ủng hộ, muốn nhận thêm thông tin qua email.",
    "需要中文资料，下午再来。",
    "支持我们的候选人 👍",
    "Left a door hanger 🚪",
    "Building is locked, could not get in 🔒",
    "Said: \"Not interested, thanks\", polite though.",
    "Has a yard sign from the other side 😬",
    "Wheelchair user; prefers mail ballot.",
    "Knows the candidate from church.",
    "Asked for a call back re: zoning, the park, and the new school.",
    "Follow up in October.",
    "Husband answered, wife is the registered voter.",
    "Phone disconnected.",
    "Email bounced.",
    "Great conversation (15 min), persuadable on education.",
    "Will vote early, first day.",
    "Signed petition, wants updates.",
    "Tenant says voter moved out in March.",
    "Ring doorbell twice, hard of hearing.",
    "\t indented note from an old import",
    "ok",
)
_NOTE_FOLLOWUPS = (
    "Follow-up: reached by phone, confirmed support.",
    "Update 10/15: still undecided.",
    "P.S. prefers \"Liz\", not Elizabeth.",
    "Second visit: nobody home.\nThird visit: spoke briefly.",
    "Actualización: ya votó.",
    "— added by field team, Turf 12",
    "🗳️ voted early!",
)

# local part, first, last, level, special ('expired' | 'future' | 'sidekick' | None)
_USERS = (
    ("admin", "Alex", "Morgan", 5, None),
    ("Dana.Whitfield", "Dana", "Whitfield", 9, None),
    ("field.director", "Marcus", "Ortiz", 4, None),
    ("data.lead", "Priya", "Raman", 4, None),
    ("organizer.keisha", "Keisha", "Brown", 3, None),
    ("organizer.tomas", "Tomás", "Núñez", 3, None),
    ("organizer.linh", "Linh", "Trần", 3, None),
    ("intern", "Jordan", "Lee", 2, None),
    ("volunteer.lead", "Sam", "Okafor", 2, None),
    ("phonebank1", "Chris", "Kim", 1, None),
    ("phonebank2", "María", "Gómez", 1, None),
    ("former.manager", "Pat", "Reilly", 5, "expired"),
    ("summer.fellow", "Avery", "Chen", 2, "future"),
    ("no.access", "Robin", "Hale", 0, None),
    ("jamie.canvasser", "Jamie", "Rivera", 0, "sidekick"),
)


def _split_pool(words: str) -> tuple[list[str], list[str]]:
    """Display and ASCII spellings of a whitespace-separated pool ('_' stands for a space)."""
    display, ascii_ = [], []
    for word in words.split():
        shown, _, latin = word.partition(":")
        shown = shown.replace("_", " ")
        display.append(shown)
        ascii_.append(latin or _to_ascii(shown))
    return display, ascii_


def _to_ascii(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d").replace("ø", "o")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _email_part(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _to_ascii(text).lower())


class _Pool:
    """One pool of names built from every group, indexed by group offset + position."""

    def __init__(self, part: int):
        display: list[str] = []
        ascii_: list[str] = []
        offsets, sizes = [], []
        for group in _GROUP_ORDER:
            shown, latin = _split_pool(_NAME_GROUPS[group][part])
            offsets.append(len(display))
            sizes.append(len(shown))
            display += shown
            ascii_ += [_email_part(a) for a in latin]
        self.display = pa.array(display)
        self.ascii = pa.array(ascii_)
        self.offsets = np.array(offsets)
        self.sizes = np.array(sizes)
        self.total = len(display)

    def pick(self, rng: np.random.Generator, groups: np.ndarray) -> np.ndarray:
        """One index per row, common names first (a skewed draw within the row's group)."""
        u = rng.random(len(groups)) ** 1.7
        return self.offsets[groups] + (u * self.sizes[groups]).astype(np.int64)


_GROUP_ORDER = tuple(_NAME_GROUPS)
_GROUP_P = np.array([_GROUP_WEIGHTS[g] for g in _GROUP_ORDER], dtype=float) / sum(_GROUP_WEIGHTS.values())
_HANZI = _GROUP_ORDER.index("hanzi")
_POOLS: dict[str, _Pool] = {}


def _pools() -> tuple[_Pool, _Pool, _Pool]:
    if not _POOLS:
        _POOLS.update(male=_Pool(0), female=_Pool(1), surname=_Pool(2))
    return _POOLS["male"], _POOLS["female"], _POOLS["surname"]


def _weights(pairs) -> tuple[list, np.ndarray]:
    values = [v for v, _ in pairs]
    w = np.array([w for _, w in pairs], dtype=float)
    return values, w / w.sum()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _to_ascii(name).lower()).strip("-") or "campaign"


# --- Small array helpers ----------------------------------------------------------------

def _take(values: Sequence | pa.Array, idx: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """``values[idx]`` as an Arrow array; rows where ``mask`` is true are null."""
    pool = values if isinstance(values, pa.Array) else pa.array(list(values))
    return pool.take(pa.array(idx, mask=mask))


def _int_str(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _times(rng: np.random.Generator, n: int, oldest_days: float, newest_days: float = 0.0) -> pa.Array:
    """Timestamps between ``oldest_days`` and ``newest_days`` before the reference time (UTC)."""
    offsets = rng.uniform(newest_days, oldest_days, n) * _US_PER_DAY
    stamps = REFERENCE_TIME - offsets.astype(np.int64).astype("timedelta64[us]")
    return pa.array(stamps).cast(pa.timestamp("us", tz="UTC"))


def _ts(days_ago: float) -> np.datetime64:
    return REFERENCE_TIME - np.timedelta64(int(days_ago * _US_PER_DAY), "us")


def _const_ts(stamps: Sequence[np.datetime64 | None]) -> pa.Array:
    return pa.array(np.array([s if s is not None else np.datetime64("NaT") for s in stamps],
                             dtype="datetime64[us]")).cast(pa.timestamp("us", tz="UTC"))


def _ids(base: int, n: int) -> np.ndarray:
    return np.arange(base + 1, base + 1 + n, dtype=np.int64)


def _counts_to_rows(rng: np.random.Generator, n: int, choices: Sequence[int], p: Sequence[float]) -> np.ndarray:
    """For ``n`` owners drawing a count each, the owner index of every resulting row (sorted)."""
    counts = rng.choice(np.array(choices), size=n, p=np.array(p) / np.sum(p))
    return np.repeat(np.arange(n), counts)


def _uuids(rng: np.random.Generator, n: int) -> pa.Array:
    """Upper-case GUID strings (the shape of RNC registration ids)."""
    if n == 0:
        return pa.array([], pa.string())
    hexed = np.frombuffer(rng.bytes(16 * n).hex().upper().encode(), dtype="S1").reshape(n, 32)
    out = np.full((n, 36), b"-", dtype="S1")
    out[:, 0:8], out[:, 9:13], out[:, 14:18] = hexed[:, 0:8], hexed[:, 8:12], hexed[:, 12:16]
    out[:, 19:23], out[:, 24:36] = hexed[:, 16:20], hexed[:, 20:32]
    return pc.cast(pa.array(out.view("S36").ravel(), pa.binary()), pa.string())


# --- One campaign ------------------------------------------------------------------------

@dataclass
class CampaignPlan:
    ordinal: int
    id: int
    name: str
    voters: int
    query_sizes: tuple[int, ...]
    state_index: int = 0
    info: dict = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return _slug(self.name)


def _campaign_tables(plan: CampaignPlan, seed: int, next_id: dict[str, int]) -> Iterator[tuple[str, pa.Table]]:
    """Build one campaign's rows table by table, in load order; advances ``next_id``."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, plan.id])))
    state, tz, area_codes, cities = _STATES[plan.state_index % len(_STATES)]
    cid = plan.id
    n = plan.voters
    info = plan.info
    info.update(id=cid, name=plan.name, slug=plan.slug, state=state, timezone=tz, voters=n)

    def take_ids(table: str, count: int) -> np.ndarray:
        ids = _ids(next_id[table], count)
        next_id[table] += count
        return ids

    def table(columns: dict) -> pa.Table:
        return pa.table(columns)

    # Campaign ----------------------------------------------------------------------------
    yield "campaigns", table({"id": [cid], "name": [plan.name], "timezone": [tz], "sidekick_enabled": [False]})

    # Users -------------------------------------------------------------------------------
    user_ids = take_ids("users", len(_USERS))
    emails, expires, created, via = [], [], [], []
    for i, (local, _first, _last, _level, special) in enumerate(_USERS):
        created_at = _ts(900 - 40 * i)
        if special == "sidekick":
            emails.append(f"{local}.{cid}@volunteers.example.com")
            expires.append(created_at)
            via.append("sidekick")
        else:
            emails.append(f"{local}@{plan.slug}.example.org")
            expires.append({"expired": _ts(45), "future": _ts(-3650)}.get(special))
            via.append(None)
        created.append(created_at)
    yield "users", table({
        "id": user_ids, "campaign_id": np.full(len(_USERS), cid), "email": emails,
        "first_name": [u[1] for u in _USERS], "last_name": [u[2] for u in _USERS],
        "level": pa.array([u[3] for u in _USERS], pa.int16()), "expires_at": _const_ts(expires),
        "created_at": _const_ts(created), "created_via": via,
    })
    admin_id = int(user_ids[0])
    # Who writes notes and tags: staff who can (or once could) log in.
    staff = np.array([uid for uid, u in zip(user_ids, _USERS, strict=True) if u[3] >= 1], dtype=np.int64)
    info.update(
        admin_email=emails[0], admin_user_id=admin_id,
        users=[{"id": int(uid), "email": e, "level": u[3], "kind": u[4] or ("admin" if u[3] >= 5 else "staff")}
               for uid, e, u in zip(user_ids, emails, _USERS, strict=True)],
    )

    # Households --------------------------------------------------------------------------
    n_nohh = max(round(n * 0.02), 1 if n >= 10 else 0)
    in_hh = n - n_nohh
    size_p = np.array([0.005, 0.35, 0.33, 0.14, 0.11, 0.045, 0.025])  # mean ~2.2 voters
    sizes = np.zeros(0, dtype=np.int64)
    while sizes.sum() < in_hh:
        sizes = np.concatenate([sizes, rng.choice(7, size=max(16, int(in_hh / 2.1)), p=size_p / size_p.sum())])
    csum = np.cumsum(sizes)
    last = int(np.searchsorted(csum, in_hh)) if in_hh else -1
    sizes = sizes[: last + 1]
    if in_hh:
        sizes[-1] -= csum[last] - in_hh
    if n >= 200 and not (sizes == 0).any():
        sizes = np.append(sizes, 0)
    h = len(sizes)
    hh_ids = take_ids("households", h)

    city_names, city_w = _weights([(c, w) for c, _z, w in cities])
    city_zip3 = np.array([int(z) for _c, z, _w in cities])
    streets = [f"{d} {s}" if d else s for s in _STREET_NAMES for d in ("", *_DIRECTIONS)]
    st_types, st_w = _weights(_STREET_TYPES)
    street_pool = pa.array([f"{s} {t}" for s in streets for t in st_types])
    street_p = np.repeat(np.where(np.char.find(np.array(streets), " ") == 1, 0.3, 1.0), len(st_types))
    street_p = street_p * np.tile(st_w, len(streets))
    street_p /= street_p.sum()

    hh_city = rng.choice(len(city_names), size=h, p=city_w)
    hh_street = rng.choice(len(street_pool), size=h, p=street_p)
    house_no = np.minimum(9999, (10 ** rng.uniform(0.0, 4.0, h)).astype(np.int64) + 1)
    # ~14 % of households are flats: several share one building address, each with a unit.
    is_flat = rng.random(h) < 0.14
    n_buildings = max(1, int(is_flat.sum()) // 8)
    b_street = rng.choice(len(street_pool), size=n_buildings, p=street_p)
    b_no = rng.integers(100, 4000, n_buildings)
    b_city = rng.choice(len(city_names), size=n_buildings, p=city_w)
    building = rng.integers(0, n_buildings, h)
    hh_street = np.where(is_flat, b_street[building], hh_street)
    house_no = np.where(is_flat, b_no[building], house_no)
    hh_city = np.where(is_flat, b_city[building], hh_city)
    unit_pool = ([f"Apt {i}" for i in range(1, 41)] + [f"Apt {i}{c}" for i in range(1, 13) for c in "ABCD"]
                 + [f"Unit {i}" for i in range(1, 31)] + [f"#{i}" for i in range(1, 21)]
                 + [f"Lot {i}" for i in range(1, 61)] + ["Basement", "Rear", "Upper"])
    unit_idx = rng.integers(0, len(unit_pool), h)
    zip5 = city_zip3[hh_city] * 100 + (hh_street * 7 + hh_city * 13) % 99 + 1
    yield "households", table({
        "id": hh_ids, "campaign_id": np.full(h, cid),
        "address_line1": _join(_int_str(house_no), " ", street_pool.take(pa.array(hh_street))),
        "unit": _take(unit_pool, unit_idx, ~is_flat),
        "city": _take(city_names, hh_city), "state": pa.array(np.full(h, state)),
        "zip5": pc.utf8_lpad(_int_str(zip5), width=5, padding="0"),
    })
    info["households"] = h
    info["empty_households"] = int((sizes == 0).sum())

    # Voters ------------------------------------------------------------------------------
    hh_of = np.repeat(np.arange(h), sizes)
    key = np.concatenate([hh_of + 0.5, rng.random(n_nohh) * max(h, 1)])
    hh_of = np.concatenate([hh_of, np.full(n_nohh, -1)])[np.argsort(key, kind="stable")]
    has_hh = hh_of >= 0
    voter_ids = take_ids("voters", n)
    male, female, surname = _pools()
    hh_group = rng.choice(len(_GROUP_ORDER), size=h, p=_GROUP_P)
    hh_surname = surname.pick(rng, hh_group)
    own_group = rng.choice(len(_GROUP_ORDER), size=n, p=_GROUP_P)
    group = np.where(has_hh & (rng.random(n) < 0.9), hh_group[np.maximum(hh_of, 0)], own_group)
    last_idx = np.where(has_hh & (rng.random(n) < 0.82), hh_surname[np.maximum(hh_of, 0)], surname.pick(rng, group))
    hyphen = (rng.random(n) < 0.02) & (group != _HANZI)
    last_name = pc.if_else(pa.array(hyphen),
                           _join(surname.display.take(pa.array(last_idx)), "-",
                                 surname.display.take(pa.array(surname.pick(rng, group)))),
                           surname.display.take(pa.array(last_idx)))
    gender_codes = np.array(["M", "F", "X", None], dtype=object)
    gender = rng.choice(4, size=n, p=[0.475, 0.495, 0.005, 0.025])
    is_male = (gender == 0) | ((gender >= 2) & (rng.random(n) < 0.5))
    first_pool = pa.concat_arrays([male.display, female.display])
    first_ascii = pa.concat_arrays([male.ascii, female.ascii])
    first_idx = np.where(is_male, male.pick(rng, group), male.total + female.pick(rng, group))
    first_name = first_pool.take(pa.array(first_idx))
    middle_idx = np.where(is_male, male.pick(rng, group), male.total + female.pick(rng, group))
    has_middle = (rng.random(n) < 0.42) & (group != _HANZI) & (middle_idx != first_idx)
    middle = first_pool.take(pa.array(middle_idx, mask=~has_middle))
    middle = pc.if_else(pa.array(rng.random(n) < 0.25), pc.utf8_slice_codeunits(middle, 0, 1), middle)
    suffix_values, suffix_p = _weights(_SUFFIXES)
    suffix = _take(suffix_values, rng.choice(len(suffix_values), size=n, p=suffix_p),
                   ~((gender == 0) & (rng.random(n) < 0.04)))
    age_days = (18 + rng.beta(1.6, 2.4, n) * 80) * 365.25
    birth = REFERENCE_DATE - age_days.astype(np.int64).astype("timedelta64[D]")
    adult = birth + np.timedelta64(6575, "D")
    span = (REFERENCE_DATE - adult).astype(np.int64)
    registered = adult + (rng.random(n) ** 0.7 * span).astype(np.int64).astype("timedelta64[D]")
    party_values, party_p = _weights(_PARTIES)
    hh_party = rng.choice(len(party_values), size=h, p=party_p)
    party_idx = np.where(has_hh & (rng.random(n) < 0.6), hh_party[np.maximum(hh_of, 0)],
                         rng.choice(len(party_values), size=n, p=party_p))
    party = _take(party_values, party_idx)
    status = np.where(rng.random(n) < 0.10, 1, 0)
    n_purged = max(round(n * 0.01), 1 if n >= 10 else 0)
    status[rng.choice(n, size=n_purged, replace=False)] = 2
    # Precincts: wards of the household's city, following its street and block.
    precinct_pool = pa.array([f"{c.upper()} {w:02d}-{ltr}" for c in city_names for w in range(1, 31) for ltr in "ABCD"])
    hh_precinct = hh_city * 120 + (hh_street * 31 + house_no // 1000) % 120
    precinct_idx = np.where(has_hh, hh_precinct[np.maximum(hh_of, 0)], rng.integers(0, len(precinct_pool), n))
    precinct_null = (~has_hh) & (rng.random(n) < 0.7)
    max_gap = int(max(2, min(3000, 8e9 // max(n, 1))))
    sos_numbers = rng.integers(1_000_000, 500_000_000) + np.cumsum(rng.integers(1, max_gap, n))
    rnc = _uuids(rng, n)
    rnc = pc.if_else(pa.array(rng.random(n) < 0.15), pa.scalar(None, pa.string()), rnc)
    yield "voters", table({
        "id": voter_ids, "campaign_id": np.full(n, cid),
        "household_id": pa.array(hh_ids[np.maximum(hh_of, 0)] if h else np.zeros(n, np.int64), mask=~has_hh),
        "sos_voter_id": _join(state, pc.utf8_lpad(_int_str(sos_numbers), width=10, padding="0")),
        "rnc_reg_id": rnc,
        "first_name": first_name, "middle_name": middle, "suffix": suffix, "last_name": last_name,
        "birth_date": pa.array(birth, mask=rng.random(n) < 0.015),
        "gender": pa.array(gender_codes[gender]),
        "party": party,
        "registration_date": pa.array(registered, mask=rng.random(n) < 0.03),
        "status": _take(["active", "inactive", "purged"], status),
        "precinct": precinct_pool.take(pa.array(precinct_idx, mask=precinct_null)),
    })
    purged = status == 2
    info.update(purged=int(purged.sum()), inactive=int((status == 1).sum()), without_household=n_nohh,
                voter_id_range=(int(voter_ids[0]), int(voter_ids[-1])) if n else None)

    # Tags ---------------------------------------------------------------------------------
    tag_ids = take_ids("tags", len(_TAG_TREE))
    tag_by_name = {name: int(tid) for (name, *_rest), tid in zip(_TAG_TREE, tag_ids, strict=True)}
    yield "tags", table({
        "id": tag_ids, "campaign_id": np.full(len(tag_ids), cid), "name": [t[0] for t in _TAG_TREE],
        "parent_id": pa.array([tag_by_name[t[1]] if t[1] else None for t in _TAG_TREE], pa.int64()),
        "sidekick_name": [t[2] for t in _TAG_TREE],
        "created_at": _const_ts([_ts(1000 - 10 * i) for i in range(len(_TAG_TREE))]),
    })
    info["tags"] = tag_by_name
    vt_voter, vt_tag = [], []
    support_p = np.array([t[3] for t in _TAG_TREE if t[0] in _SUPPORT_TAGS])
    support = rng.choice(len(_SUPPORT_TAGS) + 1, size=n, p=[*support_p, 1 - support_p.sum()])
    for k, name in enumerate(_SUPPORT_TAGS):
        vt_voter.append(np.flatnonzero(support == k))
        vt_tag.append(np.full(len(vt_voter[-1]), tag_by_name[name]))
    for name, _parent, _sk, share in _TAG_TREE:
        if share and name not in _SUPPORT_TAGS:
            vt_voter.append(np.flatnonzero(rng.random(n) < share))
            vt_tag.append(np.full(len(vt_voter[-1]), tag_by_name[name]))
    vt_voter_a = np.concatenate(vt_voter)
    vt_tag_a = np.concatenate(vt_tag)
    order = np.lexsort((vt_tag_a, vt_voter_a))
    m = len(order)
    yield "voter_tags", table({
        "voter_id": voter_ids[vt_voter_a[order]], "tag_id": vt_tag_a[order],
        "created_at": _times(rng, m, 1500, 1),
        "created_by": pa.array(staff[rng.integers(0, len(staff), m)], mask=rng.random(m) < 0.3),
    })

    # Groups --------------------------------------------------------------------------------
    group_ids = take_ids("groups", len(_GROUPS))
    yield "groups", table({
        "id": group_ids, "campaign_id": np.full(len(group_ids), cid), "name": [g[0] for g in _GROUPS],
        "created_at": _const_ts([_ts(700 - 30 * i) for i in range(len(_GROUPS))]),
    })
    gm_group, gm_voter = [], []
    for gid, (_name, share) in zip(group_ids, _GROUPS, strict=True):
        members = np.flatnonzero(rng.random(n) < share)
        gm_group.append(np.full(len(members), gid))
        gm_voter.append(voter_ids[members])
    gm_g = np.concatenate(gm_group)
    yield "group_members", table({
        "group_id": gm_g, "voter_id": np.concatenate(gm_voter), "added_at": _times(rng, len(gm_g), 700, 1),
    })
    info["groups"] = {g[0]: int(gid) for g, gid in zip(_GROUPS, group_ids, strict=True)}

    # Notes ---------------------------------------------------------------------------------
    note_owner = _counts_to_rows(rng, n, (0, 1, 2, 3, 5), (0.78, 0.15, 0.045, 0.018, 0.007))
    k = len(note_owner)
    note_ids = take_ids("notes", k)
    followup_pool = pa.array(["", *("\n" + f for f in _NOTE_FOLLOWUPS)])
    followup = np.where(rng.random(k) < 0.15, rng.integers(1, len(followup_pool), k), 0)
    from_sidekick = rng.random(k) < 0.02
    created_at = _times(rng, k, 6 * 365, 1)
    # A voter's notes in time order, as webElect shows them.
    order = np.lexsort((created_at.to_numpy(zero_copy_only=False).astype("int64"), note_owner))
    yield "notes", table({
        "id": note_ids, "voter_id": voter_ids[note_owner],
        "body": _join(_take(_NOTES, rng.integers(0, len(_NOTES), k)), followup_pool.take(pa.array(followup))),
        "created_at": created_at.take(pa.array(order)),
        "created_by": pa.array(staff[rng.integers(0, len(staff), k)], mask=rng.random(k) < 0.2),
        "source": pa.array(np.where(from_sidekick, "sidekick", "webelect")),
        "external_id": pc.if_else(pa.array(from_sidekick), _join("synthetic-", _int_str(note_ids)),
                                  pa.scalar(None, pa.string())),
    })

    # Phones ----------------------------------------------------------------------------------
    hh_landline = _phone_numbers(rng, h, area_codes)
    owner = _counts_to_rows(rng, n, (0, 1, 2, 3, 4), (0.52, 0.32, 0.11, 0.04, 0.01))
    k = len(owner)
    numbers = _phone_numbers(rng, k, area_codes)
    owner_hh = hh_of[owner]
    shared = (owner_hh >= 0) & (rng.random(k) < 0.15)
    numbers = np.where(shared, hh_landline[np.maximum(owner_hh, 0)] if h else numbers, numbers)
    order = np.lexsort((numbers, owner))
    owner, numbers, shared = owner[order], numbers[order], shared[order]
    keep = np.ones(k, dtype=bool)
    keep[1:] = (owner[1:] != owner[:-1]) | (numbers[1:] != numbers[:-1])
    owner, numbers, shared = owner[keep], numbers[keep], shared[keep]
    k = len(owner)
    source = rng.choice(3, size=k, p=[0.5, 0.35, 0.15])  # voter_file, vendor, user
    phone_type = np.where(shared, 1, rng.choice(3, size=k, p=[0.62, 0.23, 0.15]))
    phone_type = np.where(source == 2, 0, phone_type)
    yield "phones", table({
        "id": take_ids("phones", k), "voter_id": voter_ids[owner],
        "number": _join("+", _int_str(numbers)),
        "phone_type": _take(["cell", "landline", "unknown"], phone_type),
        "source": _take(["voter_file", "vendor", "user"], source),
        "rank_score": pa.array(_ranks(rng, source), pa.int16()),
        "created_at": _times(rng, k, 5 * 365, 1),
        "created_by": pa.array(staff[rng.integers(0, len(staff), k)], mask=source != 2),
    })

    # Emails ----------------------------------------------------------------------------------
    owner = _counts_to_rows(rng, n, (0, 1, 2, 3), (0.68, 0.24, 0.06, 0.02))
    k = len(owner)
    first_a = first_ascii.take(pa.array(first_idx[owner]))
    last_a = surname.ascii.take(pa.array(last_idx[owner]))
    digits = _int_str(rng.integers(1, 100, k))
    year = _int_str(rng.integers(40, 100, k))
    initial = pc.utf8_slice_codeunits(first_a, 0, 1)
    local = pc.choose(pa.array(rng.choice(6, size=k, p=[0.3, 0.2, 0.15, 0.15, 0.1, 0.1]).astype(np.int8)),
                      _join(first_a, ".", last_a), _join(first_a, last_a, digits), _join(initial, last_a),
                      _join(first_a, "_", last_a, year), _join(last_a, ".", first_a), _join(first_a, year))
    local = pc.if_else(pa.array(rng.random(k) < 0.05), pc.utf8_title(local), local)
    domain_values, domain_p = _weights(_EMAIL_DOMAINS)
    address = _join(local, "@", _take(domain_values, rng.choice(len(domain_values), size=k, p=domain_p)))
    # unique (voter_id, lower(address)): keep the first of each.
    keep = ~pd.DataFrame({"o": owner, "a": pd.Series(pc.utf8_lower(address), dtype="str")}).duplicated().to_numpy()
    keep_idx = pa.array(np.flatnonzero(keep))
    owner, address = owner[keep], address.take(keep_idx)
    k = len(owner)
    source = rng.choice(3, size=k, p=[0.4, 0.45, 0.15])
    yield "emails", table({
        "id": take_ids("emails", k), "voter_id": voter_ids[owner], "address": address,
        "source": _take(["voter_file", "vendor", "user"], source),
        "rank_score": pa.array(_ranks(rng, source), pa.int16()),
        "created_at": _times(rng, k, 5 * 365, 1),
        "created_by": pa.array(staff[rng.integers(0, len(staff), k)], mask=source != 2),
    })

    # Target queries ------------------------------------------------------------------------
    eligible = np.flatnonzero(~purged)
    queries: list[tuple[str, str, np.ndarray]] = [
        ("everyone_active", "Everyone active", eligible),
        ("half_sample", "Random half (splits households)", eligible[rng.random(len(eligible)) < 0.5]),
        ("demo", "Demo: 100 voters",
         np.sort(rng.choice(eligible, size=min(100, len(eligible)), replace=False))),
    ]
    purged_idx = np.flatnonzero(purged)
    mixed = np.concatenate([rng.choice(purged_idx, size=min(50, len(purged_idx)), replace=False),
                            rng.choice(eligible, size=min(150, len(eligible)), replace=False)])
    queries.append(("with_purged", "Old list incl. purged voters", np.sort(mixed)))
    for size in plan.query_sizes:
        if size > len(eligible):
            raise ValueError(f"Campaign {cid} has {len(eligible):,} non-purged voters: it cannot hold a query of "
                             f"{size:,} targeted voters; ask for more voters.")
        queries.append(("sample", f"Sample of {size:,} voters (splits households)",
                        _splitting_sample(rng, eligible, hh_of, size)))
    q_ids = take_ids("target_queries", len(queries))
    yield "target_queries", table({
        "id": q_ids, "campaign_id": np.full(len(q_ids), cid), "name": [q[1] for q in queries],
        "created_by": np.full(len(q_ids), admin_id),
        "created_at": _const_ts([_ts(60 - 7 * i) for i in range(len(queries))]),
    })
    info["queries"] = [{"id": int(qid), "name": name, "kind": kind, "size": len(members)}
                       for qid, (kind, name, members) in zip(q_ids, queries, strict=True)]
    info["query_ids"] = {q["kind"]: q["id"] for q in info["queries"] if q["kind"] != "sample"}
    info["sample_query_ids"] = [q["id"] for q in info["queries"] if q["kind"] == "sample"]
    for qid, (_kind, _name, members) in zip(q_ids, queries, strict=True):
        yield "target_query_voters", table({"query_id": np.full(len(members), qid), "voter_id": voter_ids[members]})


def _splitting_sample(rng: np.random.Generator, eligible: np.ndarray, hh_of: np.ndarray, size: int) -> np.ndarray:
    """``size`` of the ``eligible`` voters, chosen so that the ones left out have a targeted housemate.

    Each household keeps one random eligible member (its anchor) in the query while there is
    room; the voters left out are drawn at random from the other members, so as many as
    possible come along to Sidekick as housemates. Returns sorted voter indexes.
    """
    leave_out = len(eligible) - size
    homed = eligible[hh_of[eligible] >= 0]
    order = np.lexsort((rng.random(len(homed)), hh_of[homed]))
    homed = homed[order]
    hh = hh_of[homed]
    first = np.ones(len(homed), dtype=bool)
    first[1:] = hh[1:] != hh[:-1]
    candidates = homed[~first]  # every eligible member of a household but its anchor
    if leave_out <= len(candidates):
        out = rng.choice(candidates, size=leave_out, replace=False)
    else:  # not enough housemates to go round: leave out others too
        rest = np.setdiff1d(eligible, candidates)
        out = np.concatenate([candidates, rng.choice(rest, size=leave_out - len(candidates), replace=False)])
    return np.setdiff1d(eligible, out)


def _phone_numbers(rng: np.random.Generator, k: int, area_codes: Sequence[int]) -> np.ndarray:
    """NANP numbers as integers 1NPANXXXXXX (NXX never starts with 0/1, never 555-01xx)."""
    area = np.array(area_codes)[rng.integers(0, len(area_codes), k)]
    exchange = rng.integers(200, 1000, k)
    exchange = np.where(exchange == 555, 556, exchange)
    line = rng.integers(0, 10_000, k)
    return 10_000_000_000 + area * 10_000_000 + exchange * 10_000 + line


def _ranks(rng: np.random.Generator, source: np.ndarray) -> np.ndarray:
    """Rank scores: voter file 30-70, vendor 10-80, user-entered 90 (sometimes 60-100)."""
    k = len(source)
    user = np.where(rng.random(k) < 0.7, 90, rng.integers(60, 101, k))
    return np.select([source == 0, source == 1], [rng.integers(30, 71, k), rng.integers(10, 81, k)], user)


# --- Loading --------------------------------------------------------------------------------

_WRITE = pa_csv.WriteOptions(include_header=False, quoting_style="needed", batch_size=65_536)
_BATCH_ROWS = 200_000
_DONE = object()


def _csv_chunks(data: pa.Table) -> Iterator[bytes]:
    for start in range(0, data.num_rows, _BATCH_ROWS):
        buf = io.BytesIO()
        pa_csv.write_csv(data.slice(start, _BATCH_ROWS), buf, _WRITE)
        yield buf.getvalue()


def _lock_and_bases(conn: psycopg.Connection) -> dict[str, int]:
    """Lock webElect's tables against concurrent writes; the id each identity table continues after."""
    names = sql.SQL(", ").join(sql.Identifier("webelect", t) for t in TABLES)
    conn.execute(sql.SQL("lock table {} in share row exclusive mode").format(names))
    bases = {}
    for t in IDENTITY_TABLES:
        seq = conn.execute("select pg_get_serial_sequence(%s, 'id')", (f"webelect.{t}",)).fetchone()[0]
        last, called = conn.execute(sql.SQL("select last_value, is_called from {}").format(
            sql.SQL(seq))).fetchone()
        top = conn.execute(sql.SQL("select coalesce(max(id), 0) from {}").format(
            sql.Identifier("webelect", t))).fetchone()[0]
        bases[t] = max(top, last if called else 0)
    return bases


def _reset(conn: psycopg.Connection) -> None:
    own = [r[0] for r in conn.execute(
        "select tablename from pg_tables where schemaname = 'webelect'"
        " and tablename like 'sidekick\\_%%' and tablename <> 'sidekick_schema_migrations'").fetchall()]
    names = sql.SQL(", ").join(sql.Identifier("webelect", t) for t in (*TABLES, *own))
    conn.execute(sql.SQL("truncate {} restart identity cascade").format(names))


def _bump_sequences(conn: psycopg.Connection) -> None:
    for t in IDENTITY_TABLES:
        conn.execute(sql.SQL(
            "select setval(pg_get_serial_sequence({tn}, 'id'), max(id)) from {t} having max(id) is not null"
        ).format(tn=sql.Literal(f"webelect.{t}"), t=sql.Identifier("webelect", t)))


def _plans(voters, campaigns, campaign_name, query_sizes, benchmark, first_id: int) -> list[CampaignPlan]:
    if voters is None:
        count = campaigns or 1
        # The benchmark's big campaign is the first; any others are there to prove isolation.
        sizes = [BENCHMARK_VOTERS if benchmark and i == 0 else DEFAULT_VOTERS for i in range(count)]
    elif isinstance(voters, int):
        count = campaigns or 1
        sizes = [voters] * count
    else:
        sizes = [int(v) for v in voters]
        count = campaigns or len(sizes)
        if count != len(sizes):
            raise ValueError(f"voters gives {len(sizes)} sizes but campaigns={count}.")
    if count < 1 or any(v < 0 for v in sizes):
        raise ValueError("Need at least one campaign and a voter count of 0 or more.")
    if isinstance(query_sizes, Mapping):
        per = {int(i): tuple(int(s) for s in v) for i, v in query_sizes.items()}
    else:
        per = {i: tuple(int(s) for s in query_sizes) for i in range(count)}
    if benchmark:
        per[0] = (*per.get(0, ()), BENCHMARK_QUERY_SIZE)
    plans = []
    for i in range(count):
        cid = first_id + i + 1
        if campaign_name is None:
            name = f"Synthetic Campaign {cid}"
        elif isinstance(campaign_name, str):
            name = campaign_name if i == 0 else f"{campaign_name} {i + 1}"
        else:
            name = list(campaign_name)[i]
        plans.append(CampaignPlan(ordinal=i, id=cid, name=name, voters=sizes[i], query_sizes=per.get(i, ()),
                                  state_index=cid - 1))
    return plans


def generate(conn_or_url: str | psycopg.Connection, voters: int | Sequence[int] | None = None, seed: int = 0,
             campaigns: int | None = None, campaign_name: str | Sequence[str] | None = None,
             query_sizes: Sequence[int] | Mapping[int, Sequence[int]] = (), benchmark: bool = False,
             reset: bool = False, analyze: bool = True, fk_checks: str = "bulk") -> dict:
    """Load synthetic campaigns; return their ids, admin emails, queries and row counts (see module doc)."""
    started = time.perf_counter()
    owned = isinstance(conn_or_url, str)
    conn = psycopg.connect(conn_or_url) if owned else conn_or_url
    try:
        return _generate(conn, voters, seed, campaigns, campaign_name, query_sizes, benchmark, reset, analyze,
                         fk_checks, started)
    finally:
        if owned:
            conn.close()


def _next(work: queue.Queue):
    item = work.get()
    if isinstance(item, BaseException):
        raise item
    return item


def _consume(conn: psycopg.Connection, work: queue.Queue, counts: dict[str, int]) -> None:
    """COPY what the producer hands over, table by table, until it is done."""
    with conn.cursor() as cur:
        while (item := _next(work)) is not _DONE:
            _begin, name = item
            copy_sql = sql.SQL("copy {} ({}) from stdin (format csv)").format(
                sql.Identifier("webelect", name), sql.SQL(", ").join(map(sql.Identifier, TABLES[name])))
            t0 = time.perf_counter()
            with cur.copy(copy_sql) as copy:
                while (item := _next(work))[0] == "chunk":
                    copy.write(item[1])
            counts[name] += item[1]
            log.debug("copied %s rows into %s in %.2f s", f"{item[1]:,}", name, time.perf_counter() - t0)


def _generate(conn, voters, seed, campaigns, campaign_name, query_sizes, benchmark, reset, analyze, fk_checks,
              started):
    if fk_checks not in ("bulk", "row"):
        raise ValueError("fk_checks must be 'bulk' or 'row'.")
    counts = dict.fromkeys(TABLES, 0)
    with conn.transaction():
        conn.execute("set local work_mem = '64MB'")
        if reset:
            _reset(conn)
        next_id = _lock_and_bases(conn)
        plans = _plans(voters, campaigns, campaign_name, query_sizes, benchmark, next_id["campaigns"])
        bulk = fk_checks == "bulk" and _skip_row_fk_checks(conn)
        work: queue.Queue = queue.Queue(maxsize=6)
        stop = threading.Event()

        def produce() -> None:
            try:
                for plan in plans:
                    for name, data in _campaign_tables(plan, seed, next_id):
                        work.put(("begin", name))
                        for chunk in _csv_chunks(data.select(list(TABLES[name]))):
                            if stop.is_set():
                                return
                            work.put(("chunk", chunk))
                        work.put(("end", data.num_rows))
                work.put(_DONE)
            except BaseException as exc:  # handed to the loading thread, which raises it
                work.put(exc)

        producer = threading.Thread(target=produce, name="synthetic-producer", daemon=True)
        producer.start()
        try:
            _consume(conn, work, counts)
        finally:
            stop.set()
            while producer.is_alive():  # unblock a producer stuck on a full queue, then wait for it
                try:
                    work.get(timeout=0.1)
                except queue.Empty:
                    pass
            producer.join()
        t0 = time.perf_counter()
        if bulk:
            conn.execute("set local session_replication_role = origin")
            _validate_foreign_keys(conn)
            log.debug("foreign keys validated in %.2f s", time.perf_counter() - t0)
        _bump_sequences(conn)
        if analyze:
            t0 = time.perf_counter()
            conn.execute(sql.SQL("analyze {}").format(
                sql.SQL(", ").join(sql.Identifier("webelect", t) for t in TABLES)))
            log.debug("analyzed in %.2f s", time.perf_counter() - t0)
    infos = [p.info for p in plans]
    result = {
        "seed": seed,
        "campaigns": infos,
        "campaign_ids": [i["id"] for i in infos],
        "admin_emails": {i["id"]: i["admin_email"] for i in infos},
        "counts": counts,
        "fk_checks": "bulk" if bulk else "row",
        "seconds": round(time.perf_counter() - started, 2),
    }
    if benchmark:
        result["benchmark_query_id"] = infos[0]["sample_query_ids"][-1]
    return result


def _skip_row_fk_checks(conn: psycopg.Connection) -> bool:
    """Switch off the per-row foreign-key triggers for this transaction, when the role may.

    ``session_replication_role = replica`` (what pg_restore's --disable-triggers uses) needs a
    superuser; the schema itself is not touched. The keys are then checked set-wise before
    commit by ``_validate_foreign_keys``, while the table locks keep everyone else out.
    """
    try:
        with conn.transaction():
            conn.execute("set local session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True


def _validate_foreign_keys(conn: psycopg.Connection) -> None:
    """Check every foreign key between webElect's tables in one anti-join each; raise on a dangling row."""
    fks = conn.execute(
        """
        select c.conname, ch.relname, chcol.attname, pa.relname, pacol.attname
        from pg_constraint c
        join pg_class ch on ch.oid = c.conrelid
        join pg_namespace n on n.oid = ch.relnamespace
        join pg_class pa on pa.oid = c.confrelid
        join pg_attribute chcol on chcol.attrelid = c.conrelid and chcol.attnum = c.conkey[1]
        join pg_attribute pacol on pacol.attrelid = c.confrelid and pacol.attnum = c.confkey[1]
        where c.contype = 'f' and n.nspname = 'webelect' and cardinality(c.conkey) = 1
          and ch.relname = any(%s) and pa.relname = any(%s)
        order by 1
        """,
        (list(TABLES), list(TABLES)),
    ).fetchall()
    for conname, child, col, parent, pcol in fks:
        bad = conn.execute(sql.SQL(
            "select count(*) from {child} c where c.{col} is not null"
            " and not exists (select from {parent} p where p.{pcol} = c.{col})"
        ).format(child=sql.Identifier("webelect", child), col=sql.Identifier(col),
                 parent=sql.Identifier("webelect", parent), pcol=sql.Identifier(pcol))).fetchone()[0]
        if bad:
            raise RuntimeError(f"{bad} rows of webelect.{child} break foreign key {conname}: nothing was loaded.")


def summary_line(result: dict) -> str:
    counts = " ".join(f"{t}={n:,}" for t, n in result["counts"].items())
    return (f"synthetic webElect: campaigns {result['campaign_ids']} seed={result['seed']} {counts} "
            f"(foreign keys checked {result['fk_checks']}-wise) in {result['seconds']:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.synthetic", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", required=True, help="webElect database URL (a superuser or owner; used as given)")
    parser.add_argument("--voters", type=int, default=None, help=f"voters per campaign (default {DEFAULT_VOTERS:,})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--campaigns", type=int, default=1)
    parser.add_argument("--campaign-name", default=None, help="default 'Synthetic Campaign <id>'")
    parser.add_argument("--query-size", type=int, action="append", default=[],
                        help="also save a query of exactly N targeted voters (repeatable)")
    parser.add_argument("--benchmark", action="store_true",
                        help="first campaign: 1,500,000 voters (unless --voters) and a 1,000,000-voter query")
    parser.add_argument("--reset", action="store_true",
                        help="truncate all webElect and sidekick_ data first (otherwise campaigns are added)")
    parser.add_argument("--row-fk-checks", action="store_true",
                        help="let PostgreSQL check foreign keys row by row (slower) instead of set-wise at the end")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(message)s")
    try:
        result = generate(args.db_url, voters=args.voters, seed=args.seed, campaigns=args.campaigns,
                          campaign_name=args.campaign_name, query_sizes=args.query_size,
                          benchmark=args.benchmark, reset=args.reset,
                          fk_checks="row" if args.row_fk_checks else "bulk")
    except (psycopg.Error, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"synthetic: nothing was loaded: {first}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    for info in result["campaigns"]:
        queries = ", ".join(f"{q['id']}={q['name']!r} ({q['size']:,})" for q in info["queries"])
        print(f"campaign {info['id']} {info['name']!r}: admin {info['admin_email']}; queries {queries}")
    print(summary_line(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
