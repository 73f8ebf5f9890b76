"""Stand up a synthetic webElect with Sidekick enabled: for the demo, docker-compose and the UI tests.

    python -m devtools.seed --db-url postgresql://postgres@host/webelect \\
        [--app-password PW] [--simulator-url http://127.0.0.1:8700] [--voters N] [--seed S]

Steps, each safe to repeat: install webElect's schema (dev only), create the package's
least-privilege role, apply the package's migrations as that role, load synthetic
campaigns (only when the database has none yet), then for every campaign an admin
enables Send to Sidekick and the new token is registered with the simulator, as an
admin would paste it into Sidekick. Tokens go straight to the simulator: never printed.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field

import psycopg

from devtools import postgres

log = logging.getLogger(__name__)


@dataclass
class SeededCampaign:
    id: int
    name: str
    admin_email: str
    query_ids: dict[str, int] = field(default_factory=dict)
    sidekick_account_id: int | None = None


@dataclass
class SeedResult:
    admin_url: str
    app_url: str
    campaigns: list[SeededCampaign]


def seed(admin_url: str, *, app_password: str | None = None, simulator_url: str | None = None,
         voters: int = 5_000, seed: int = 42, campaigns: int = 2) -> SeedResult:
    from devtools import synthetic
    from webelect_sidekick import admin
    from webelect_sidekick.migrations import apply_migrations

    postgres.install_webelect_schema(admin_url)
    app_url = postgres.create_app_role(admin_url, password=app_password)
    with psycopg.connect(app_url) as conn:
        apply_migrations(conn)

    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("select count(*) from webelect.campaigns").fetchone()[0] == 0:
            synthetic.generate(conn, voters=voters, seed=seed, campaigns=campaigns)
        seeded = _campaigns(conn)

    sim = None
    if simulator_url:
        from simulator.control import SimulatorControl

        sim = SimulatorControl(simulator_url)
        sim.wait_until_up()
    with psycopg.connect(app_url, autocommit=True) as conn:
        for campaign in seeded:
            enabled = conn.execute(
                "select sidekick_enabled and sidekick_token is not null from webelect.campaigns where id = %s",
                (campaign.id,),
            ).fetchone()[0]
            if enabled:
                continue  # a re-run: the token was registered the first time
            token = admin.enable(conn, campaign.id, campaign.admin_email)
            if sim is not None:
                campaign.sidekick_account_id = sim.register_account(campaign.name, token=token).id
    if sim is not None:
        sim.close()
    return SeedResult(admin_url=admin_url, app_url=app_url, campaigns=seeded)


def _campaigns(conn: psycopg.Connection) -> list[SeededCampaign]:
    result = []
    for campaign_id, name in conn.execute("select id, name from webelect.campaigns order by id").fetchall():
        admin_email = conn.execute(
            "select email from webelect.users where campaign_id = %s and level >= 5"
            " and (expires_at is null or expires_at > now()) order by id limit 1",
            (campaign_id,),
        ).fetchone()[0]
        queries = dict(conn.execute(
            "select name, id from webelect.target_queries where campaign_id = %s order by id", (campaign_id,)
        ).fetchall())
        result.append(SeededCampaign(campaign_id, name, admin_email, queries))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.seed", description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", required=True, help="a superuser (or owner) URL of the webElect database")
    parser.add_argument("--app-password", default=None, help="password for the least-privilege role")
    parser.add_argument("--simulator-url", default=None, help="Sidekick simulator to register the tokens with")
    parser.add_argument("--voters", type=int, default=5_000, help="voters per campaign (default 5,000)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    result = seed(args.db_url, app_password=args.app_password, simulator_url=args.simulator_url,
                  voters=args.voters, seed=args.seed)
    for campaign in result.campaigns:
        queries = ", ".join(f"{qid}: {name}" for name, qid in campaign.query_ids.items())
        print(f"campaign {campaign.id} ({campaign.name}): Sidekick enabled; saved queries {queries}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
