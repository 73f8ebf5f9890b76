"""The first step of an export: read the params, check the query and the campaign (rule 1).

Everything that can be refused is refused here, before anything reaches Sidekick, with a
sentence that says what to fix (``UserFacingError``: the task fails without retrying).
The result is a small dict for XCom: ids, names, counts, the run's upload key and folder.
Never the token.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from webelect_sidekick import campaigns, sql
from webelect_sidekick.errors import UserFacingError

#: Longest "Add To Group" name accepted (webElect shows group names in one line).
MAX_GROUP_NAME = 200

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ExportRequest:
    """What the run will do; every field is safe to keep in XCom and to log."""

    query_id: int
    query_name: str
    campaign_id: int
    campaign_name: str
    add_to_group: str | None
    dry_run: bool
    run_id: str
    upload_key: str
    folder: str
    started_at: str  # ISO 8601, UTC
    query_rows: int  # rows of the saved query (incl. purged voters and ids of other campaigns)

    @property
    def campaign_label(self) -> str:
        return f"campaign {self.campaign_id} ({self.campaign_name})"

    @property
    def upload_name(self) -> str:
        """The name Sidekick shows in its Upload History."""
        return f"webElect query {self.query_id}: {self.query_name}"[:200]

    def to_xcom(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_xcom(cls, data: dict[str, Any]) -> ExportRequest:
        return cls(**data)


def upload_key_for(dag_id: str, run_id: str) -> str:
    """The run's upload key: the same for every try and every cleared task of one run (rule 5).

    The contract allows 8-128 characters of ``[A-Za-z0-9._-]``; run ids may hold other
    characters (``manual__2026-12-04T09:00:00+00:00``), so the key is a digest of the DAG id
    and the run id, with a readable prefix.
    """
    digest = hashlib.sha256(f"{dag_id}\n{run_id}".encode()).hexdigest()[:40]
    return f"webelect-export-{digest}"


def group_name(value: Any) -> str | None:
    """The "Add To Group" param: surrounding spaces trimmed; empty or only spaces means "no group".

    Otherwise the name is used as typed (exact match with the campaign's group names, as
    webElect's unique constraint compares them).
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise UserFacingError(f"add_to_group must be a group name (text) or empty, not {value!r}.")
    name = value.strip()
    if not name:
        return None
    if _CONTROL.search(name):
        raise UserFacingError(
            "add_to_group must be a single line of text without control characters: retype the group name."
        )
    if len(name) > MAX_GROUP_NAME:
        raise UserFacingError(
            f"add_to_group is {len(name)} characters long; a group name may have at most {MAX_GROUP_NAME}."
        )
    return name


def read_params(params: dict[str, Any]) -> tuple[int, str | None, bool]:
    """``(query_id, add_to_group, dry_run)`` from the run's params, checked again here.

    The trigger form validates them first; this repeats the checks for runs started some
    other way (the REST API, the CLI) so that a bad value still ends in one sentence.
    """
    query_id = params.get("query_id")
    if isinstance(query_id, bool) or not isinstance(query_id, int) or query_id < 1:
        raise UserFacingError(
            f"query_id must be the number of a saved target query (a whole number of at least 1), not {query_id!r}: "
            "copy it from Targeting → Saved Queries."
        )
    dry_run = params.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise UserFacingError(f"dry_run must be true or false, not {dry_run!r}.")
    return query_id, group_name(params.get("add_to_group")), dry_run


def check(conn: psycopg.Connection, *, query_id: int, add_to_group: str | None, dry_run: bool, run_id: str,
          upload_key: str, folder: str, now: datetime | None = None) -> ExportRequest:  # fmt: skip
    """Refuse, with a sentence a person can act on, whatever rule 1 refuses; else describe the run."""
    row = conn.execute(sql.load("sidekick_export/request.sql"), {"query_id": query_id}).fetchone()
    if row is None:
        raise UserFacingError(
            f"Target query {query_id} does not exist in webElect: check the query ID "
            "(Targeting → Saved Queries shows it) and trigger the export again."
        )
    _, query_name, campaign_id, has_voters, query_rows = row
    campaign = campaigns.load_campaign(conn, campaign_id)
    if campaign is None:
        raise UserFacingError(
            f"Target query {query_id} ({query_name!r}) belongs to campaign {campaign_id}, which does not exist "
            "in webElect: pick a query of an existing campaign."
        )
    if not campaign.sidekick_enabled or not campaign.has_token:
        missing = "is turned off" if not campaign.sidekick_enabled else "has no Sidekick token"
        raise UserFacingError(
            f"Send to Sidekick {missing} for {campaign.label}: a campaign admin must turn on "
            "Settings → Data Sharing → \"Enable Send to Sidekick\" (python -m webelect_sidekick.admin enable "
            f"--campaign {campaign.id} --admin-email <admin email>) and paste the token into Sidekick."
        )
    if not has_voters:
        purged = conn.execute(sql.load("sidekick_export/purged_count.sql"),
                              {"query_id": query_id, "campaign_id": campaign.id}).fetchone()[0]  # fmt: skip
        other_campaign = query_rows - purged
        detail = []
        if purged:
            detail.append(f"{purged} purged voter{'s' if purged != 1 else ''} skipped")
        if other_campaign:
            detail.append(f"{other_campaign} voter id{'s' if other_campaign != 1 else ''} of another campaign ignored")
        more = f" ({'; '.join(detail)})" if detail else ""
        raise UserFacingError(
            f"Target query {query_id} ({query_name!r}) of {campaign.label} has no voter to send: it holds no voter "
            f"whose status is not 'purged'{more}. Save the selection again in Targeting, then trigger the export."
        )
    started = (now or datetime.now(UTC)).astimezone(UTC)
    return ExportRequest(
        query_id=query_id, query_name=query_name, campaign_id=campaign.id, campaign_name=campaign.name,
        add_to_group=add_to_group, dry_run=dry_run, run_id=run_id, upload_key=upload_key, folder=folder,
        started_at=started.isoformat(), query_rows=int(query_rows),
    )  # fmt: skip
