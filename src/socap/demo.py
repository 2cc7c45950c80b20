"""`make demo` / `socap demo`: the product against the built-in simulator, no X credentials needed.

It starts the simulator over real HTTP on a virtual clock that begins at the scenario's campaign start,
creates the scenario's campaign through the same client and services a real user goes through, then runs
the embedded engine (scheduler + worker threads) until the campaign completes, printing every run.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select

from socap.alerts.channels import set_console_printer
from socap.auth import service as auth_service
from socap.campaigns import service as campaign_service
from socap.campaigns.models import Campaign, CampaignTweet
from socap.campaigns.schemas import CampaignInput
from socap.clock import VirtualClock, format_instant
from socap.config import Settings
from socap.console import out
from socap.importance import seeds as seed_service
from socap.importance import sync
from socap.monitoring.engine import Engine
from socap.monitoring.models import Engagement, MetricSnapshot, Run
from socap.monitoring.reporting import RunReporter, describe_counts
from socap.runtime import Runtime
from socap.simulator import SimulatorServer, create_app, load_scenario

DEMO_DIR = Path("var/demo")
DEMO_EMAIL = "demo@socap.local"
DEMO_PASSWORD = "socap-demo"
# the whole 3-day campaign of scenario 1 in about 5 minutes
DEFAULT_SPEED = 864.0


def _fresh_files() -> tuple[str, str]:
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    for path in DEMO_DIR.glob("*.db*"):
        path.unlink()
    return f"sqlite:///{DEMO_DIR / 'socap.db'}", f"sqlite:///{DEMO_DIR / 'queue.db'}"


def _create_campaign(runtime: Runtime, loaded, world) -> int:
    data = CampaignInput.from_spec(loaded.campaign_spec(), starts_at=world.start)
    with runtime.x_client() as client:
        campaign_id, plan = campaign_service.create(runtime.db, client, runtime.clock, data)
    with runtime.db.session() as session:
        view = campaign_service.to_out(session, campaign_service.get(session, campaign_id=campaign_id),
                                       warnings=plan.warnings)
    out.print(f"\nCreated campaign {view.id} [bold]{escape(view.name)}[/] ({view.status}), "
              f"{format_instant(view.starts_at)} → {format_instant(view.ends_at)}, "
              f"threshold {view.alert_threshold}, alert spacing {view.alert_spacing_minutes} min")
    table = Table("category", "post", "author")
    for post in view.posts:
        table.add_row(post.category, post.url, "@" + escape(post.author_username or "?"))
    out.print(table)
    out.print(f"{len(view.posts)} posts × 4 job kinds = [bold]{view.job_count} poll jobs[/], resolved with "
              f"{plan.lookup_calls} batched lookup call(s).\n")
    return view.id


def _import_seeds(runtime: Runtime, loaded) -> None:
    """The scenario's curated important accounts, imported and synced as a user would."""
    with runtime.db.write() as session:
        workspace_id = auth_service.get_or_create_workspace(session, clock=runtime.clock).id
    with runtime.x_client() as client:
        added, _ = seed_service.import_csv(runtime.db, client, runtime.clock, workspace_id=workspace_id,
                                           text=loaded.seeds_csv())
        report = sync.sync_workspace(runtime.db, client, runtime.clock, workspace_id=workspace_id)
    edges = sum(s.edges or 0 for s in report.seeds)
    out.print(f"Seed list: {added} important accounts imported, "
              f"their following lists synced: {edges:,} follow edges.")


def _start_dashboard(runtime: Runtime, port: int) -> SimulatorServer:
    """The dashboard over the demo's data, with a demo user (fixed, printed credentials: local demo only)."""
    from socap.web.app import create_app as create_web_app

    with runtime.db.write() as session:
        auth_service.create_user(session, email=DEMO_EMAIL, password=DEMO_PASSWORD, clock=runtime.clock)
    app = create_web_app(runtime)
    try:
        return SimulatorServer(app, port=port, health_path="/healthz").start()
    except OSError:  # the port is taken (another demo?): any free port will do
        return SimulatorServer(app, port=0, health_path="/healthz").start()


def _await_summary(runtime: Runtime, campaign_id: int, timeout: float = 15.0) -> None:
    """Let the engine deliver what completion queued (the summary alert) before it stops: a few real seconds
    at most."""
    from sqlalchemy import func, select

    from socap.alerts.models import Alert

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with runtime.db.session() as s:
            waiting = s.scalar(select(func.count()).select_from(Alert).where(
                Alert.campaign_id == campaign_id, Alert.kind == "summary", Alert.status == "queued"))
        if not waiting:
            return
        time.sleep(0.2)


def _write_report(runtime: Runtime, campaign_id: int) -> Path:
    from socap.reports import export, final

    with runtime.db.session() as s:
        report = final.get_report(s, campaign=s.get(Campaign, campaign_id), now=runtime.clock.now())
    path = DEMO_DIR / "report.html"
    path.write_text(export.to_html(report), encoding="utf-8")
    return path.resolve()


def _summary(runtime: Runtime, campaign_id: int) -> None:
    with runtime.db.session() as s:
        campaign = s.get(Campaign, campaign_id)
        actions = Counter(dict(s.execute(select(Engagement.action, func.count()).where(
            Engagement.campaign_id == campaign_id).group_by(Engagement.action)).all()))
        unique = s.scalar(select(func.count(func.distinct(Engagement.account_id)))
                          .where(Engagement.campaign_id == campaign_id))
        calls, cost = s.execute(select(func.coalesce(func.sum(Run.calls), 0), func.coalesce(func.sum(Run.cost_usd), 0))
                                .where(Run.campaign_id == campaign_id)).one()
        likes = 0
        for tweet in s.scalars(select(CampaignTweet).where(CampaignTweet.campaign_id == campaign_id)):
            latest = s.scalar(select(MetricSnapshot.like_count).where(MetricSnapshot.campaign_tweet_id == tweet.id)
                              .order_by(MetricSnapshot.taken_at.desc(), MetricSnapshot.id.desc()).limit(1))
            likes += latest or 0
    out.print(f"\n[bold]Campaign {campaign_id} {campaign.status}[/]: {sum(actions.values())} engagements "
              f"({describe_counts(actions)}) by {unique} unique accounts; {likes:,} likes at the end; "
              f"{calls} X API calls, ${float(cost):.2f} estimated cost.")


def run_demo(*, scenario: str = "1", port: int = 0, speed: float = DEFAULT_SPEED, web_port: int = 8000,
             keep_serving: bool = False) -> int:
    loaded = load_scenario(scenario)
    world = loaded.build_world()
    database_url, queue_url = _fresh_files()
    from socap.migrations import upgrade

    upgrade(database_url)  # before the clock starts: set-up must not eat into the campaign
    # the clock starts a little before the campaign (the posts exist by then) so its first run is on time
    clock = VirtualClock(world.start - min(timedelta(minutes=20), timedelta(seconds=3 * speed)), speed=speed)
    with SimulatorServer(create_app(world, clock), port=port) as server:
        out.print(f"[bold]SOCAP demo[/] — scenario {escape(loaded.key)}: {escape(loaded.name)}")
        out.print(f"X API simulator: {server.api_base}; virtual clock at {speed:g}× "
                  f"(30 minutes pass every {1800 / speed:.1f} s)")
        # a lease must outlast a task in real seconds, whatever the speed (≥ 10 real seconds)
        lease_minutes = max(10.0, speed * 10 / 60)
        settings = Settings(_env_file=None, database_url=database_url, queue_url=queue_url,
                            x_api_base_url=server.api_base, clock=clock.spec(), job_lease_minutes=lease_minutes)
        runtime = Runtime(settings, clock=clock, auto_migrate=False)
        _import_seeds(runtime, loaded)
        dashboard = _start_dashboard(runtime, web_port)
        runtime.settings.public_url = dashboard.url  # links in alerts and the summary name the port really used
        out.print(f"[bold]Dashboard: {dashboard.url}/[/]  sign in as [bold]{DEMO_EMAIL}[/] / "
                  f"[bold]{DEMO_PASSWORD}[/]")
        campaign_id = _create_campaign(runtime, loaded, world)
        out.print(f"Campaign dashboard: {dashboard.url}/campaigns/{campaign_id}\n")
        set_console_printer(lambda text: out.print(
            f"[bold magenta]{format_instant(clock.now())[5:16].replace('T', ' ')}  {escape(text)}[/]"))
        engine = Engine(runtime).start()
        reporter = RunReporter(runtime).start()
        try:
            while True:
                with runtime.db.session() as s:
                    if s.get(Campaign, campaign_id).status == "completed":
                        break
                time.sleep(0.5)
            _await_summary(runtime, campaign_id)
        except KeyboardInterrupt:
            out.print("interrupted")
        finally:
            engine.stop()
            reporter.stop()
        _summary(runtime, campaign_id)
        report_path = _write_report(runtime, campaign_id)
        out.print(f"[bold]Final report: {report_path}[/] (also at {dashboard.url}/campaigns/{campaign_id}/report)")
        out.print(f"Data: {DEMO_DIR / 'socap.db'} — e.g. `SOCAP_DATABASE_URL=sqlite:///{DEMO_DIR}/socap.db "
                  f".venv/bin/socap status`")
        if keep_serving:
            out.print(f"The dashboard stays up at {dashboard.url}/campaigns/{campaign_id} — Ctrl-C ends the demo.")
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
        dashboard.stop()
        runtime.db.dispose()
    return 0
