"""Campaign look-ups shared by the DAGs and the trigger."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from webelect_sidekick import db
from webelect_sidekick.errors import UserFacingError


@dataclass(frozen=True)
class Campaign:
    id: int
    name: str
    timezone: str
    sidekick_enabled: bool
    has_token: bool

    @property
    def label(self) -> str:
        """How messages name the campaign: id and name, never the token."""
        return f"campaign {self.id} ({self.name})"


def load_campaign(conn: psycopg.Connection, campaign_id: int) -> Campaign | None:
    row = conn.execute(
        "select id, name, timezone, sidekick_enabled, sidekick_token is not null"
        " from webelect.campaigns where id = %s",
        (campaign_id,),
    ).fetchone()
    return Campaign(*row) if row else None


def enabled_campaign_ids(conn: psycopg.Connection) -> list[int]:
    """Campaigns with Sidekick switched on and a token to use, in id order."""
    rows = conn.execute(
        "select id from webelect.campaigns"
        " where sidekick_enabled and sidekick_token is not null order by id"
    ).fetchall()
    return [row[0] for row in rows]


def sidekick_token(campaign_id: int, conn: psycopg.Connection | None = None) -> str:
    """The campaign's bearer token, read at the moment of use so it never sits in XCom or a trigger row."""
    owned = conn is None
    conn = conn or db.connect()
    try:
        row = conn.execute(
            "select name, sidekick_enabled, sidekick_token from webelect.campaigns where id = %s",
            (campaign_id,),
        ).fetchone()
    finally:
        if owned:
            conn.close()
    if row is None:
        raise UserFacingError(f"Campaign {campaign_id} does not exist in webElect.")
    name, enabled, token = row
    if not enabled or not token:
        raise UserFacingError(
            f"Send to Sidekick is turned off for campaign {campaign_id} ({name}): an admin must run "
            f"'python -m webelect_sidekick.admin enable --campaign {campaign_id} --admin-email <email>'."
        )
    return token
