"""The saved change cursor of each campaign, and the command that resets it.

The saved cursor (``sidekick_import_cursors``) is where the next night's pull starts. It is
moved only by the merge transaction that commits the effects of every change before it.

When Sidekick answers 410 ("cursor expired": the saved cursor is older than the 30 days it
keeps), the campaign needs a full re-pull. Reset its cursor, then run the import again::

    python -m webelect_sidekick.importer.cursor reset --campaign 12
    python -m webelect_sidekick.importer.cursor show --campaign 12

(or trigger ``sidekick_import`` with the param ``reset_cursor_for_campaign`` = 12). The next
pull starts from the oldest change Sidekick still keeps; changes imported before come again
and are skipped as duplicates, so nothing is doubled. Changes older than Sidekick's 30 days
cannot be recovered from Sidekick.
"""

from __future__ import annotations

import argparse
import getpass
import sys

import psycopg

from webelect_sidekick import db, sql
from webelect_sidekick.errors import TransientError, UserFacingError


def saved_cursor(conn: psycopg.Connection, campaign_id: int) -> str | None:
    row = conn.execute(sql.load("sidekick_import/cursor_get.sql"), {"campaign_id": campaign_id}).fetchone()
    return row[0] if row else None


def reset(conn: psycopg.Connection, campaign_id: int, reset_by: str) -> None:
    """Forget the campaign's saved cursor (inside the caller's transaction)."""
    conn.execute(sql.load("sidekick_import/lock_campaign.sql"), {"campaign_id": campaign_id})
    conn.execute(sql.load("sidekick_import/cursor_reset.sql"), {"campaign_id": campaign_id, "reset_by": reset_by})


def _main(argv: list[str] | None = None) -> int:
    from webelect_sidekick.campaigns import load_campaign
    from webelect_sidekick.migrations import apply_migrations

    parser = argparse.ArgumentParser(
        prog="python -m webelect_sidekick.importer.cursor",
        description="Show or reset a campaign's saved Sidekick change cursor (after a 410, reset it for a full re-pull).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("show", "print where the next pull starts"),
                            ("reset", "make the next pull start from the oldest change Sidekick keeps")):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--campaign", type=int, required=True, metavar="ID", help="webElect campaign id")
    args = parser.parse_args(argv)

    try:
        conn = db.connect()
        conn.autocommit = True  # the reset below is its own explicit transaction
        try:
            apply_migrations(conn)
            campaign = load_campaign(conn, args.campaign)
            if campaign is None:
                raise UserFacingError(f"Campaign {args.campaign} does not exist in webElect.")
            if args.command == "reset":
                with conn.transaction():
                    reset(conn, campaign.id, f"cli:{getpass.getuser()}")
                print(f"Reset the Sidekick change cursor of {campaign.label}: the next sidekick_import run "
                      "pulls every change Sidekick still keeps (30 days); changes imported before are skipped.")
            else:
                row = conn.execute(sql.load("sidekick_import/cursor_get.sql"), {"campaign_id": campaign.id}).fetchone()
                if row is None or row[0] is None:
                    print(f"{campaign.label}: no saved cursor; the next pull starts from the oldest change Sidekick keeps.")
                else:
                    print(f"{campaign.label}: saved cursor {row[0]!r}, moved {row[1]:%Y-%m-%d %H:%M:%S %Z} by run {row[2]}.")
        finally:
            conn.close()
    except (UserFacingError, TransientError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main())
