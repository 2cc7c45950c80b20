"""Scenario 1 played once per module on the engine against the simulator (seeds imported and synced, so
importance is real), with the reports taken at checkpoints on the way; helpers to compute what the reports
should say from the simulator's ground truth."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from socap.auth import service as auth_service
from socap.clock import ManualClock, parse_instant
from socap.config import Settings
from socap.db import Database, normalise_url
from socap.importance import seeds as seed_service
from socap.importance import sync
from socap.models import Base
from socap.monitoring.engine import drive
from socap.reports import queries
from socap.reports import service as reports
from socap.reports.schemas import Filters
from socap.runtime import Runtime
from socap.simulator import SimulatorServer, create_app, load_scenario
from tests.conftest import PG_URL
from tests.monitoring.support import create_campaign, memory_queue, truth

SCENARIO = load_scenario("1")


@dataclass
class Played:
    """A scenario played to its end: the runtime, the campaign, the simulator, and reports taken on the way."""

    rt: Runtime
    server: SimulatorServer
    campaign_id: int
    workspace_id: int
    checkpoints: dict[str, dict] = field(default_factory=dict)
    # per checkpoint: (filters, summary from the roll-ups, summary counted from the engagement table)
    rollup_checks: dict[str, list[tuple[Filters, dict, dict]]] = field(default_factory=dict)

    def campaign(self, session):
        from socap.campaigns.models import Campaign

        return session.get(Campaign, self.campaign_id)

    def truth(self, at: datetime | None = None) -> dict:
        return truth(self.server, at=at)


def fresh_module_database(migrated_template: str, tmp_path_factory) -> str:
    """A database of its own for a module (the function-scoped ``database_url`` would empty it per test)."""
    if PG_URL:
        db = Database(PG_URL)
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.dispose()
        return normalise_url(PG_URL)
    target = tmp_path_factory.mktemp("reports") / "socap.db"
    shutil.copyfile(migrated_template, target)
    return f"sqlite:///{target}"


def import_and_sync_seeds(rt: Runtime, scenario) -> int:
    with rt.db.write() as session:
        workspace_id = auth_service.get_or_create_workspace(session, clock=rt.clock).id
    with rt.x_client() as client:
        seed_service.import_csv(rt.db, client, rt.clock, workspace_id=workspace_id, text=scenario.seeds_csv())
        assert sync.sync_workspace(rt.db, client, rt.clock, workspace_id=workspace_id).finished
    return workspace_id


def snapshot_reports(played: Played, filters: Filters = Filters()) -> dict:
    with played.rt.db.session() as s:
        campaign = played.campaign(s)
        now = played.rt.clock.now()
        return {"now": now, "summary": reports.summary(s, campaign=campaign, filters=filters, now=now),
                "charts": reports.charts(s, campaign=campaign, filters=filters, now=now)}


@pytest.fixture(scope="module")
def played(migrated_template, tmp_path_factory) -> Played:
    """Scenario 1 from creation to completion. Checkpoints: ``first`` (after the first run's backfill),
    ``h2`` (after the run at D1 H2, which finds one more retweet of the main post) and ``end``."""
    url = fresh_module_database(migrated_template, tmp_path_factory)
    world = SCENARIO.build_world()
    clock = ManualClock(world.start)
    server = SimulatorServer(create_app(world, clock)).start()
    rt = Runtime(Settings(_env_file=None, database_url=url, x_api_base_url=server.api_base, x_max_retries=1,
                          x_timeout_seconds=5), clock=clock, auto_migrate=False)
    try:
        workspace_id = import_and_sync_seeds(rt, SCENARIO)
        campaign_id = create_campaign(rt, SCENARIO)
        game = Played(rt, server, campaign_id, workspace_id)
        queue = memory_queue(rt)
        for name, until in (("first", world.start + timedelta(minutes=1)),
                            ("h2", world.start + timedelta(hours=2, minutes=1)),
                            ("end", world.end + timedelta(hours=2))):
            drive(rt, queue, until=until)
            game.checkpoints[name] = snapshot_reports(game)
            game.rollup_checks[name] = both_ways(game)
        yield game
    finally:
        server.stop()
        if "db" in rt.__dict__:
            rt.db.dispose()


# the views the roll-ups answer (whole posts, no action / time / importance filter)
TALLIED_FILTERS = [Filters(), Filters(categories=["main"]), Filters(categories=["influencer", "investor"]),
                   Filters(actions=["retweet", "reply", "quote"])]


def both_ways(played: Played) -> list[tuple[Filters, dict, dict]]:
    """Each of TALLIED_FILTERS' summaries (with the charts' engagers by category) from the roll-ups and counted
    from the engagement table."""
    def dump(reports: dict) -> dict:
        return reports["summary"].model_dump() | {"account_categories": reports["charts"].account_categories}

    out = []
    for filters in TALLIED_FILTERS:
        tallied = dump(snapshot_reports(played, filters))
        queries.USE_ROLLUPS = False
        try:
            counted = dump(snapshot_reports(played, filters))
        finally:
            queries.USE_ROLLUPS = True
        out.append((filters, tallied, counted))
    return out


# ---------------------------------------------------------------- expectations from the truth

def captured(body: dict) -> list[dict]:
    """The engagements a perfect poller stores (direct and visible), with the post's category and the
    account's importance attached."""
    posts = {p["id"]: p for p in body["posts"]}
    importance = {a["id"]: a["importance"] for a in body["accounts"]}
    out = []
    for e in body["engagements"]:
        if e["direct"] and e["visible"]:
            out.append({**e, "category": posts[e["post_id"]]["category"], "importance": importance[e["account_id"]],
                        "at": parse_instant(e["engaged_at"])})
    return out


def expected(rows: list[dict], *, categories=(), actions=(), min_importance=0, since=None, until=None) -> list[dict]:
    return [r for r in rows
            if (not categories or r["category"] in categories) and (not actions or r["action"] in actions)
            and r["importance"] >= min_importance and (since is None or r["at"] >= since)
            and (until is None or r["at"] <= until)]
