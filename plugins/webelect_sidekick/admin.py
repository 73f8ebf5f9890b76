"""Enable "Send to Sidekick" for a campaign: webElect Settings → Data Sharing, as a command.

    python -m webelect_sidekick.admin enable  --campaign ID --admin-email EMAIL [--db-url URL]
    python -m webelect_sidekick.admin rotate  --campaign ID --admin-email EMAIL [--db-url URL]
    python -m webelect_sidekick.admin disable --campaign ID --admin-email EMAIL [--db-url URL]

(with ``plugins/`` on ``PYTHONPATH``). The database is ``--db-url``, else the environment
variable ``WEBELECT_DB_URL``, else the Airflow connection ``webelect_db``.

Only an admin of the campaign may do this: the user with that email (any case) must
belong to the campaign, be able to log in (level > 0 and not expired) and be admin level
(level ≥ 5). Anything else is refused with one sentence on stderr and exit code 2; a
database that cannot be reached or refuses the change gives one sentence and exit code 1.

- ``enable`` switches ``sidekick_enabled`` on, stores a new token
  (``secrets.token_urlsafe(32)``: 32 random bytes, 43 URL-safe characters) and records
  the admin and the time in ``sidekick_enabled_by``/``sidekick_enabled_at``. The token is
  printed once, on stdout, to paste into Campaign Sidekick. When the campaign is already
  enabled (with a token) it is refused: the stored token is never shown again, and
  ``rotate`` issues a new one.
- ``rotate`` replaces the token (the old one stops working when this commits) and records
  the admin and time again, since they say who issued the token in use. Refused when the
  campaign is not enabled.
- ``disable`` switches it off and clears the token, so it stops working at once and a later
  ``enable`` issues a fresh one. ``sidekick_enabled_by``/``_at`` are kept as the record of
  the last enable. Disabling a disabled campaign is not an error.

Each command is one transaction that locks the campaign row (``select ... for update``), so
two admins at once take turns. Tokens are never logged. Tests and the demo call
``enable(conn, campaign_id, admin_email)``, ``rotate(...)`` (both return the token) and
``disable(...)``; they raise ``UserFacingError`` for every refusal. They commit their change,
unless the connection they are given is already inside a transaction: then the change is a
savepoint in it, and the caller's commit (or rollback) decides.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
import warnings
from dataclasses import dataclass
from datetime import datetime

if __name__ == "__main__":
    # Airflow 3 warns on stderr about airflow.exceptions; the command's stderr is for its one sentence.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)

import psycopg  # noqa: E402

from webelect_sidekick.errors import TransientError, UserFacingError  # noqa: E402

log = logging.getLogger(__name__)

#: Admin level in webElect: "5 and above = admin".
ADMIN_LEVEL = 5
TOKEN_BYTES = 32


class AlreadyEnabledError(UserFacingError):
    """``enable`` on a campaign that is enabled already: its token is not shown again."""


@dataclass(frozen=True)
class _Campaign:
    id: int
    name: str
    enabled: bool
    has_token: bool

    @property
    def label(self) -> str:
        return f"campaign {self.id} ({self.name})"


def new_token() -> str:
    """An unguessable, URL-safe token: 32 random bytes as 43 characters."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def _authorise(conn: psycopg.Connection, campaign_id: int, admin_email: str) -> tuple[_Campaign, int]:
    """Lock the campaign row and check the admin; return the campaign and the admin's user id."""
    row = conn.execute(
        "select id, name, sidekick_enabled, sidekick_token is not null"
        " from webelect.campaigns where id = %s for update",
        (campaign_id,),
    ).fetchone()
    if row is None:
        raise UserFacingError(f"Campaign {campaign_id} does not exist in webElect; check the campaign id.")
    campaign = _Campaign(*row)
    email = (admin_email or "").strip()
    if not email:
        raise UserFacingError("Give the email of an admin of the campaign with --admin-email.")
    user = conn.execute(
        "select id, level, expires_at, level > 0 and (expires_at is null or expires_at > now())"
        " from webelect.users where campaign_id = %s and lower(email) = lower(%s) order by id limit 1",
        (campaign.id, email),
    ).fetchone()
    if user is None:
        raise UserFacingError(
            f"No webElect user with email {email} belongs to {campaign.label}; "
            "only an admin of that campaign can change Send to Sidekick."
        )
    user_id, level, expires_at, can_log_in = user
    if not can_log_in:
        if level <= 0:
            why = f"has no permissions (level {level})"
        else:
            why = f"expired on {_when(expires_at)}"
        raise UserFacingError(
            f"The webElect account {email} {why} and cannot log in, so it cannot change Send to Sidekick "
            f"for {campaign.label}; use an active admin account."
        )
    if level < ADMIN_LEVEL:
        raise UserFacingError(
            f"{email} is not an admin of {campaign.label} (level {level}; admin is level {ADMIN_LEVEL} or above), "
            "so it cannot change Send to Sidekick."
        )
    return campaign, user_id


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip() if moment else "an unknown date"


def _store_new_token(conn: psycopg.Connection, campaign: _Campaign, user_id: int) -> str:
    """Give the campaign a fresh token (enabled, by this admin, now) and return it."""
    for _attempt in range(3):
        token = new_token()
        try:
            with conn.transaction():  # a savepoint: a (vanishingly unlikely) duplicate just retries
                conn.execute(
                    "update webelect.campaigns set sidekick_enabled = true, sidekick_token = %s,"
                    " sidekick_enabled_by = %s, sidekick_enabled_at = now() where id = %s",
                    (token, user_id, campaign.id),
                )
        except psycopg.errors.UniqueViolation:
            continue  # the error's detail would quote the token: never let it travel
        return token
    raise TransientError(f"Could not store a unique Sidekick token for {campaign.label}; run the command again.")


def _enable(conn: psycopg.Connection, campaign_id: int, admin_email: str) -> tuple[_Campaign, str]:
    with conn.transaction():
        campaign, user_id = _authorise(conn, campaign_id, admin_email)
        if campaign.enabled and campaign.has_token:
            raise AlreadyEnabledError(
                f"Send to Sidekick is already enabled for {campaign.label}; its token is never shown again, "
                f"so run 'rotate' to issue a new one (the current token then stops working)."
            )
        token = _store_new_token(conn, campaign, user_id)
    log.info("Send to Sidekick enabled for %s by %s (user %s)", campaign.label, admin_email.strip(), user_id)
    return campaign, token


def _rotate(conn: psycopg.Connection, campaign_id: int, admin_email: str) -> tuple[_Campaign, str]:
    with conn.transaction():
        campaign, user_id = _authorise(conn, campaign_id, admin_email)
        if not campaign.enabled:
            raise UserFacingError(
                f"Send to Sidekick is not enabled for {campaign.label}, so there is no token to rotate; "
                "run 'enable' instead."
            )
        token = _store_new_token(conn, campaign, user_id)
    log.info("Sidekick token rotated for %s by %s (user %s)", campaign.label, admin_email.strip(), user_id)
    return campaign, token


def _disable(conn: psycopg.Connection, campaign_id: int, admin_email: str) -> tuple[_Campaign, bool]:
    with conn.transaction():
        campaign, user_id = _authorise(conn, campaign_id, admin_email)
        conn.execute(
            "update webelect.campaigns set sidekick_enabled = false, sidekick_token = null where id = %s",
            (campaign.id,),
        )
    was_on = campaign.enabled or campaign.has_token
    log.info("Send to Sidekick disabled for %s by %s (user %s)%s", campaign.label, admin_email.strip(), user_id,
             "" if was_on else "; it was already off")
    return campaign, was_on


def enable(conn: psycopg.Connection, campaign_id: int, admin_email: str) -> str:
    """Switch Send to Sidekick on with a new token and return the token (the only time it is shown).

    Raises ``UserFacingError`` (``AlreadyEnabledError`` when it is on already) instead.
    """
    return _enable(conn, campaign_id, admin_email)[1]


def rotate(conn: psycopg.Connection, campaign_id: int, admin_email: str) -> str:
    """Replace the token of an enabled campaign; the old token stops working. Returns the new one."""
    return _rotate(conn, campaign_id, admin_email)[1]


def disable(conn: psycopg.Connection, campaign_id: int, admin_email: str) -> bool:
    """Switch Send to Sidekick off and clear the token; True if it was on."""
    return _disable(conn, campaign_id, admin_email)[1]


# --- Command line ---------------------------------------------------------------------------

def _connect(db_url: str | None) -> psycopg.Connection:
    url, source = (db_url, "--db-url") if db_url else (os.environ.get("WEBELECT_DB_URL"), "WEBELECT_DB_URL")
    if not url:
        from webelect_sidekick import db

        return db.connect()
    try:
        return psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as exc:
        raise TransientError(
            f"Cannot reach the webElect database given by {source} ({_first_line(exc)}); "
            "check its host, port, database name and credentials."
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].rstrip(".") if text else type(exc).__name__


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a campaign id (a whole number)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a campaign id (1 or more)")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m webelect_sidekick.admin",
        description="Enable, rotate or disable Send to Sidekick for a webElect campaign (admins only).",
    )
    sub = parser.add_subparsers(dest="action", required=True, metavar="{enable,rotate,disable}")
    for action, text in (("enable", "switch it on and print a new token once"),
                         ("rotate", "replace the token (the old one stops working) and print the new one once"),
                         ("disable", "switch it off and clear the token")):
        cmd = sub.add_parser(action, help=text, description=text)
        cmd.add_argument("--campaign", required=True, type=_positive_int, help="webElect campaign id")
        cmd.add_argument("--admin-email", required=True, help="email of an admin (level 5+) of that campaign")
        cmd.add_argument("--db-url", default=None,
                         help="webElect database URL (default: $WEBELECT_DB_URL, else Airflow connection webelect_db)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # stdout says what happened; Airflow's log handlers would repeat it on stderr.
    for name in ("airflow", __name__):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        conn = _connect(args.db_url)
        try:
            if args.action == "enable":
                campaign, token = _enable(conn, args.campaign, args.admin_email)
                print(f"Send to Sidekick is now enabled for {campaign.label}.")
                print("Paste this token into Campaign Sidekick (its webElect integration settings). "
                      "It is shown only this once; if it is lost, run 'rotate' for a new one:")
                print(token)
            elif args.action == "rotate":
                campaign, token = _rotate(conn, args.campaign, args.admin_email)
                print(f"A new Sidekick token for {campaign.label} has replaced the old one, which no longer works.")
                print("Paste it into Campaign Sidekick now. It is shown only this once:")
                print(token)
            else:
                campaign, was_on = _disable(conn, args.campaign, args.admin_email)
                if was_on:
                    print(f"Send to Sidekick is now disabled for {campaign.label}; its token no longer works, "
                          "and enabling it again issues a new one.")
                else:
                    print(f"Send to Sidekick was already disabled for {campaign.label}; nothing changed.")
        finally:
            conn.close()
    except UserFacingError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except TransientError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        print(f"The webElect database refused the change ({_first_line(exc)}); nothing was changed.",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
