"""`make demo` / `socap demo`: the product against the built-in simulator, no X credentials needed.

It starts the simulator over real HTTP on a virtual clock that begins at the scenario's campaign start,
creates the scenario's campaign through the same client and services a real user goes through, and shows
what SOCAP set up.
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table

from socap.auth import service as auth_service
from socap.campaigns import service as campaign_service
from socap.campaigns.schemas import CampaignInput
from socap.clock import VirtualClock, format_instant
from socap.config import Settings
from socap.console import out
from socap.runtime import Runtime
from socap.simulator import SimulatorServer, create_app, load_scenario

DEMO_DB = Path("var/demo.db")


def _fresh_database() -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(str(DEMO_DB) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{DEMO_DB}"


def run_demo(*, scenario: str = "1", port: int = 0, speed: float = 60.0) -> int:
    loaded = load_scenario(scenario)
    world = loaded.build_world()
    clock = VirtualClock(world.start, speed=speed)
    spec = loaded.campaign_spec()
    with SimulatorServer(create_app(world, clock), port=port) as server:
        out.print(f"[bold]SOCAP demo[/] — scenario {escape(loaded.key)}: {escape(loaded.name)}")
        out.print(f"X API simulator: {server.api_base}  (virtual clock {clock.spec()})")
        settings = Settings(_env_file=None, database_url=_fresh_database(), x_api_base_url=server.api_base,
                            clock=clock.spec())
        runtime = Runtime(settings, clock=clock)
        data = CampaignInput(name=spec["name"], main=spec["main"], influencer=spec["influencer"],
                             investor=spec["investor"], days=spec["days"], starts_at=world.start,
                             threshold=spec["threshold"],
                             spacing_minutes=spec["spacing_minutes"])
        with runtime.x_client() as client:
            plan = campaign_service.plan_campaign(data, client=client, clock=clock)
        with runtime.db.write() as session:
            workspace = auth_service.get_or_create_workspace(session, clock=clock)
            campaign = campaign_service.create_campaign(session, plan, workspace_id=workspace.id, clock=clock)
            view = campaign_service.to_out(session, campaign, warnings=plan.warnings)

        out.print(f"\nCreated campaign {view.id} [bold]{escape(view.name)}[/] ({view.status}), "
                  f"{format_instant(view.starts_at)} → {format_instant(view.ends_at)}, "
                  f"threshold {view.alert_threshold}, alert spacing {view.alert_spacing_minutes} min")
        table = Table("category", "post", "author", "text")
        for post in view.posts:
            table.add_row(post.category, post.url, "@" + escape(post.author_username or "?"),
                          escape(post.text[:70]))
        out.print(table)
        out.print(f"{len(view.posts)} posts × 4 job kinds (metrics, retweets, replies, quotes) = "
                  f"[bold]{view.job_count} poll jobs[/], resolved with {plan.lookup_calls} batched lookup call(s).")
        out.print(f"Database: {DEMO_DB} — inspect it with `SOCAP_DATABASE_URL=sqlite:///{DEMO_DB} "
                  f".venv/bin/socap campaign show {view.id}`")
        out.print("The poll engine, alerts and the dashboard come with the next issues; "
                  "this demo will then play the whole campaign.")
        runtime.db.dispose()
    return 0
