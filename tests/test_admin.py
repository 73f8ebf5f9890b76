"""webelect_sidekick.admin: "Enable Send to Sidekick", under the package's least-privilege role."""

from __future__ import annotations

import base64
import logging
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from webelect_sidekick import admin, campaigns
from webelect_sidekick.errors import UserFacingError

REPO = Path(__file__).resolve().parents[1]
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43,}$")


@dataclass
class World:
    campaign: int
    other_campaign: int
    admin_id: int
    admin_email: str = "Admin@Alpha.example.org"


@pytest.fixture
def world(factory) -> World:
    now = datetime.now(UTC)
    cid = factory.campaign("Alpha for Mayor")
    other = factory.campaign("Beta for Council")
    admin_id = factory.user(cid, "Admin@Alpha.example.org", level=5)
    factory.user(cid, "owner@alpha.example.org", level=9, expires_at=now + timedelta(days=30))
    factory.user(cid, "staff@alpha.example.org", level=4)
    factory.user(cid, "expired@alpha.example.org", level=7, expires_at=now - timedelta(minutes=1))
    factory.user(cid, "nobody@alpha.example.org", level=0)
    factory.user(other, "boss@beta.example.org", level=9)
    return World(cid, other, admin_id)


@pytest.fixture
def conn(webelect):
    with psycopg.connect(webelect.app_url) as connection:
        yield connection


def state(webelect, cid: int) -> tuple:
    return webelect.rows(
        "select sidekick_enabled, sidekick_token, sidekick_enabled_by, sidekick_enabled_at"
        " from webelect.campaigns where id = %s", (cid,))[0]


def test_enable_stores_a_fresh_unguessable_token_and_who_enabled_it(webelect, world, conn):
    token = admin.enable(conn, world.campaign, "admin@ALPHA.example.org")  # email matched in any case
    assert TOKEN.match(token)
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) >= 32
    enabled, stored, by, at = state(webelect, world.campaign)
    assert enabled and stored == token and by == world.admin_id
    assert abs((datetime.now(UTC) - at).total_seconds()) < 60
    assert campaigns.sidekick_token(world.campaign, conn) == token
    # The other campaign is untouched.
    assert state(webelect, world.other_campaign) == (False, None, None, None)


@pytest.mark.parametrize("campaign, email, says", [
    ("campaign", "staff@alpha.example.org", "not an admin"),
    ("campaign", "expired@alpha.example.org", "expired"),
    ("campaign", "nobody@alpha.example.org", "no permissions"),
    ("campaign", "boss@beta.example.org", "No webElect user"),  # an admin, but of the other campaign
    ("campaign", "stranger@example.org", "No webElect user"),
    ("campaign", "   ", "--admin-email"),
    (987654, "Admin@Alpha.example.org", "does not exist"),
])
def test_refusals_change_nothing(webelect, world, conn, campaign, email, says):
    cid = world.campaign if campaign == "campaign" else campaign
    for action in (admin.enable, admin.rotate, admin.disable):
        with pytest.raises(UserFacingError, match=says):
            action(conn, cid, email)
    assert state(webelect, world.campaign) == (False, None, None, None)


def test_refusal_leaves_an_enabled_campaign_as_it_was(webelect, world, conn):
    token = admin.enable(conn, world.campaign, world.admin_email)
    before = state(webelect, world.campaign)
    for action in (admin.rotate, admin.disable):
        with pytest.raises(UserFacingError, match="not an admin"):
            action(conn, world.campaign, "staff@alpha.example.org")
    assert state(webelect, world.campaign) == before
    assert before[1] == token


def test_admin_whose_account_expires_later_may_enable(webelect, world, conn):
    token = admin.enable(conn, world.campaign, "owner@alpha.example.org")
    assert state(webelect, world.campaign)[1] == token


def test_enable_twice_never_shows_the_token_again(webelect, world, conn):
    token = admin.enable(conn, world.campaign, world.admin_email)
    with pytest.raises(admin.AlreadyEnabledError, match="rotate") as refused:
        admin.enable(conn, world.campaign, world.admin_email)
    assert token not in str(refused.value)
    assert state(webelect, world.campaign)[1] == token


def test_rotate_issues_a_new_token_and_the_old_one_stops_working(webelect, world, conn):
    first = admin.enable(conn, world.campaign, world.admin_email)
    second = admin.rotate(conn, world.campaign, "owner@alpha.example.org")
    third = admin.rotate(conn, world.campaign, world.admin_email)
    assert len({first, second, third}) == 3 and all(TOKEN.match(t) for t in (second, third))
    assert webelect.scalar("select count(*) from webelect.campaigns where sidekick_token in (%s, %s)",
                           (first, second)) == 0
    assert campaigns.sidekick_token(world.campaign, conn) == third
    assert state(webelect, world.campaign)[2] == world.admin_id  # who issued the token in use


def test_rotate_refuses_when_not_enabled(webelect, world, conn):
    with pytest.raises(UserFacingError, match="not enabled"):
        admin.rotate(conn, world.campaign, world.admin_email)
    assert state(webelect, world.campaign)[:2] == (False, None)


def test_disable_clears_the_token_and_enable_issues_a_fresh_one(webelect, world, conn):
    old = admin.enable(conn, world.campaign, world.admin_email)
    assert admin.disable(conn, world.campaign, world.admin_email) is True
    enabled, token, by, _at = state(webelect, world.campaign)
    assert (enabled, token, by) == (False, None, world.admin_id)
    with pytest.raises(UserFacingError, match="turned off"):
        campaigns.sidekick_token(world.campaign, conn)
    conn.rollback()  # end the read's transaction, or the calls below would only make savepoints in it
    assert admin.disable(conn, world.campaign, world.admin_email) is False  # already off: no error
    new = admin.enable(conn, world.campaign, world.admin_email)
    assert new != old and state(webelect, world.campaign)[1] == new


def test_tokens_are_unique_across_campaigns_and_rotations(webelect, world, conn, factory):
    factory.user(world.other_campaign, "second@beta.example.org", level=5)
    tokens = {admin.enable(conn, world.campaign, world.admin_email),
              admin.enable(conn, world.other_campaign, "BOSS@beta.example.org")}
    tokens |= {admin.rotate(conn, world.campaign, world.admin_email) for _ in range(5)}
    assert len(tokens) == 7


def test_the_campaign_row_is_locked_while_changing(webelect, world, conn):
    """A second admin waits for the first: the command takes the row with select ... for update."""
    with psycopg.connect(webelect.admin_url) as holder:
        holder.execute("select 1 from webelect.campaigns where id = %s for update", (world.campaign,))
        conn.execute("set lock_timeout = '300ms'")
        conn.commit()
        with pytest.raises(psycopg.errors.LockNotAvailable):
            admin.enable(conn, world.campaign, world.admin_email)
        holder.rollback()
    conn.execute("set lock_timeout = 0")
    conn.commit()
    results: list[str] = []
    with psycopg.connect(webelect.admin_url) as holder:
        holder.execute("select 1 from webelect.campaigns where id = %s for update", (world.campaign,))
        waiter = threading.Thread(target=lambda: results.append(admin.enable(conn, world.campaign, world.admin_email)))
        waiter.start()
        waiter.join(0.5)
        assert waiter.is_alive() and not results  # blocked behind the holder
        holder.commit()
        waiter.join(10)
    assert results and state(webelect, world.campaign)[1] == results[0]


def test_the_token_never_reaches_the_log(webelect, world, conn, caplog):
    caplog.set_level(logging.DEBUG)
    tokens = [admin.enable(conn, world.campaign, world.admin_email),
              admin.rotate(conn, world.campaign, world.admin_email)]
    admin.disable(conn, world.campaign, world.admin_email)
    assert "enabled for campaign" in caplog.text
    assert not any(t in caplog.text for t in tokens)


# --- The command, as an admin runs it (least-privilege role, fresh process) --------------------

def run(*args: str, db_url: str | None = None, env_url: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])}
    env.pop("WEBELECT_DB_URL", None)
    # An admin's shell has no unit-test mode, whose "configuration loaded" notice would land on stdout.
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    if env_url:
        env["WEBELECT_DB_URL"] = env_url
    command = [sys.executable, "-m", "webelect_sidekick.admin", *args]
    if db_url:
        command += ["--db-url", db_url]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


def assert_refused(done: subprocess.CompletedProcess, says: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_command_prints_the_token_exactly_once(webelect, world):
    done = run("enable", "--campaign", str(world.campaign), "--admin-email", "admin@alpha.example.org",
               db_url=webelect.app_url)
    assert done.returncode == 0, done.stderr
    token = state(webelect, world.campaign)[1]
    assert TOKEN.match(token)
    assert done.stdout.count(token) == 1 and token not in done.stderr
    assert done.stdout.strip().splitlines()[-1] == token
    assert "Paste" in done.stdout

    again = run("enable", "--campaign", str(world.campaign), "--admin-email", "admin@alpha.example.org",
                db_url=webelect.app_url)
    assert_refused(again, "already enabled")
    assert token not in again.stdout + again.stderr

    # WEBELECT_DB_URL stands in for --db-url.
    rotated = run("rotate", "--campaign", str(world.campaign), "--admin-email", "owner@alpha.example.org",
                  env_url=webelect.app_url)
    assert rotated.returncode == 0, rotated.stderr
    new = state(webelect, world.campaign)[1]
    assert new != token and rotated.stdout.count(new) == 1 and token not in rotated.stdout


def test_command_refusals_are_one_sentence_and_exit_2(webelect, world):
    assert_refused(run("enable", "--campaign", str(world.campaign), "--admin-email", "staff@alpha.example.org",
                       db_url=webelect.app_url), "not an admin")
    assert_refused(run("disable", "--campaign", "424242", "--admin-email", "admin@alpha.example.org",
                       db_url=webelect.app_url), "does not exist")
    assert state(webelect, world.campaign) == (False, None, None, None)


def test_command_falls_back_to_the_airflow_connection(webelect, world, conn):
    assert os.environ.get("AIRFLOW_CONN_WEBELECT_DB")  # conftest points it at the least-privilege role
    token = admin.enable(conn, world.campaign, world.admin_email)
    done = run("disable", "--campaign", str(world.campaign), "--admin-email", "admin@alpha.example.org")
    assert done.returncode == 0, done.stderr
    assert "now disabled" in done.stdout and token not in done.stdout + done.stderr
    assert state(webelect, world.campaign)[:2] == (False, None)


def test_command_says_so_when_the_database_cannot_be_reached(world):
    done = run("enable", "--campaign", "1", "--admin-email", "a@b.org",
               db_url="postgresql://nobody@127.0.0.1:1/none")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Cannot reach the webElect database" in lines[0] and "Traceback" not in done.stderr
