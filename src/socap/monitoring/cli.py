"""`socap run | worker | scheduler | status | polling resume` — thin wrappers over the engine."""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import ExitStack
from datetime import timedelta
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from socap import db_stats, logs
from socap.alerts.channels import set_console_printer
from socap.alerts.masking import mask_dsn
from socap.alerts.outbox import LEASE as OUTBOX_LEASE
from socap.clock import format_instant
from socap.console import EXIT_INVALID, fail, out, print_json, runtime, set_runtime
from socap.monitoring import jobs, service
from socap.monitoring.engine import Engine, build_queue, outbox_loop, run_tick, sleep_virtual
from socap.monitoring.reporting import RunReporter
from socap.runtime import Runtime, set_current, settle_heap
from socap.x.budget import RateBudgetStore

app = typer.Typer(help="Run the monitoring engine.", no_args_is_help=True)


def _simulated_runtime(stack: ExitStack, scenario: str, speed: float) -> tuple[Runtime, object]:
    from socap.clock import VirtualClock
    from socap.config import get_settings
    from socap.simulator import SimulatorServer, create_app, load_scenario

    loaded = load_scenario(scenario)
    world = loaded.build_world()
    clock = VirtualClock(world.start, speed=speed)
    server = stack.enter_context(SimulatorServer(create_app(world, clock)))
    settings = get_settings().model_copy(update={"x_api_base_url": server.api_base, "clock": clock.spec()})
    out.print(f"simulator: scenario {loaded.key} on {server.api_base}, clock {clock.spec()}")
    return Runtime(settings, clock=clock), loaded


@app.command()
def run(
    simulate: Annotated[str | None, typer.Option(help="serve this simulator scenario in-process")] = None,
    speed: Annotated[float, typer.Option(help="with --simulate: virtual seconds per real second")] = 60.0,
    workers: Annotated[int | None, typer.Option(help="worker threads")] = None,
    until_complete: Annotated[bool, typer.Option(help="exit when no campaign is left to monitor")] = False,
    web: Annotated[bool, typer.Option(help="serve the dashboard too (SOCAP_WEB_HOST:SOCAP_WEB_PORT)")] = True,
) -> None:
    """Embedded mode: scheduler and worker threads in one process."""
    logs.configure(level=logging.WARNING, fmt=runtime().settings.log_format)
    with ExitStack() as stack:
        if simulate:
            try:
                rt, scenario = _simulated_runtime(stack, simulate, speed)
            except KeyError as exc:
                fail(str(exc), EXIT_INVALID)
            set_runtime(rt)
            _ensure_scenario_campaign(rt, scenario)
        rt = runtime()
        set_current(rt)
        set_console_printer(lambda text: out.print(f"[bold magenta]{escape(text)}[/]"))
        engine = Engine(rt, workers=workers).start()
        reporter = RunReporter(rt).start()
        if web:
            from socap.simulator.server import SimulatorServer
            from socap.web.app import create_app as create_web_app

            dashboard = stack.enter_context(SimulatorServer(create_web_app(rt), rt.settings.web_host,
                                                            rt.settings.web_port, health_path="/healthz"))
            out.print(f"dashboard: {dashboard.url}/")
        settle_heap()
        out.print(f"SOCAP running: {engine.workers} worker thread(s), queue {mask_dsn(rt.settings.queue_url)}. "
                  "Ctrl-C stops.")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                if until_complete and _nothing_left(rt):
                    break
        except KeyboardInterrupt:
            pass
        engine.stop()
        reporter.stop()
        out.print("stopped")


def _nothing_left(rt: Runtime) -> bool:
    from socap.campaigns.models import Campaign

    with rt.db.session() as session:
        return session.scalar(select(Campaign.id).where(Campaign.status.in_(("scheduled", "active")))
                              .limit(1)) is None


def _ensure_scenario_campaign(rt: Runtime, scenario) -> None:
    from socap.campaigns import service as campaign_service
    from socap.campaigns.models import Campaign
    from socap.campaigns.schemas import CampaignInput

    data = CampaignInput.from_spec(scenario.campaign_spec(), starts_at=scenario.start)
    with rt.db.session() as session:
        if session.scalar(select(Campaign.id).where(Campaign.name == data.name)) is not None:
            return
    with rt.x_client() as client:
        campaign_id, plan = campaign_service.create(rt.db, client, rt.clock, data)
    out.print(f"created campaign {campaign_id} {escape(data.name)!r} from the scenario "
              f"({len(plan.posts)} posts, {4 * len(plan.posts)} jobs)")


@app.command()
def worker(threads: Annotated[int | None, typer.Option(help="worker threads")] = None) -> None:
    """Execute queued poll tasks (distributed mode; run any number of these)."""
    from huey.consumer import Consumer

    rt = runtime()
    logs.configure(level=logging.INFO, fmt=rt.settings.log_format)
    rt.db  # migrate / connect before taking work  # noqa: B018
    set_current(rt)
    queue = build_queue(rt)
    consumer = Consumer(queue.huey, workers=threads or rt.settings.worker_threads, worker_type="thread",
                        periodic=False, initial_delay=0.05, max_delay=1.0, check_worker_health=True)
    consumer.run()


@app.command()
def scheduler() -> None:
    """Run the dispatcher tick and the alert outbox forever (distributed mode; several may run at once)."""
    rt = runtime()
    logs.configure(level=logging.INFO, fmt=rt.settings.log_format)
    set_current(rt)
    queue = build_queue(rt)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # several schedulers' outboxes claim deliveries from each other once a lease expires: the lease must
    # outlast a send in real time, so it follows the job lease (which sped-up clocks already scale)
    lease = max(OUTBOX_LEASE, timedelta(minutes=rt.settings.job_lease_minutes))
    outbox = threading.Thread(target=outbox_loop, args=(rt, stop), kwargs={"lease": lease}, name="socap-outbox",
                              daemon=True)
    outbox.start()
    try:
        while not stop.is_set():
            try:
                report = run_tick(rt, queue)
                if report.messages or report.completed:
                    logging.getLogger("socap.scheduler").info(
                        "tick %s: %d tasks, completed %s", format_instant(report.now), len(report.messages),
                        report.completed)
            except Exception:  # noqa: BLE001 - try again next tick
                logging.getLogger("socap.scheduler").exception("tick failed")
            sleep_virtual(rt.clock, rt.settings.dispatch_interval_seconds, stop)
    except KeyboardInterrupt:
        stop.set()
    outbox.join(10)


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Per campaign: next run, blocked jobs and until when, last errors, budget left, cost so far."""
    rt = runtime()
    budget = RateBudgetStore(rt.db, rt.clock, rt.settings.x_rate_limits).snapshot()
    with rt.db.session() as session:
        body = service.status(session, now=rt.clock.now(), budget=budget, limits=rt.settings.x_rate_limits,
                              cycle=timedelta(minutes=rt.settings.poll_interval_minutes))
    if as_json:
        print_json(body)
        return
    if body["polling_paused"]:
        pause = body["polling_paused"]
        out.print(f"[bold red]POLLING PAUSED[/] since {pause['since']}: {escape(pause['reason'])} "
                  f"(retrying at {pause['retry_at']}; `socap polling resume` to retry now)")
    if body["database"]["autovacuum"] is False:
        out.print(f"PostgreSQL autovacuum is off: every scheduler analyzes SOCAP's changed tables itself, at most "
                  f"once per {db_stats.ANALYZE_EVERY:.0f} s (README: Distributed deployment)")
    table = Table("id", "campaign", "status", "next run", "engagements", "calls", "cost", "backfill", "blocked",
                  "calls/cycle needed/budget")
    for c in body["campaigns"]:
        plan = c["api_budget"]
        table.add_row(str(c["id"]), escape(c["name"]), c["status"],
                      format_instant(c["next_run_at"])[:16] if c["next_run_at"] else "—", str(c["engagements"]),
                      str(c["calls"]), f"${c['cost_usd']:.2f}", f"{c['backfill']['done']}/{c['backfill']['total']}",
                      str(len(c["blocked_jobs"])), f"{plan['needed']}/{plan['budget']}" if plan else "—")
    out.print(table)
    for c in body["campaigns"]:
        if c["api_budget"] and c["api_budget"]["over_budget"]:
            out.print(f"  campaign {c['id']}: {_budget_line(c['api_budget'])}")
        for b in c["blocked_jobs"]:
            out.print(f"  campaign {c['id']}: {b['kind']} of {escape(b['post'])} blocked until "
                      f"{format_instant(b['until'])}")
        for e in c["errors"][:5]:
            out.print(f"  campaign {c['id']}: {e['kind']} of {escape(e['post'])}: {escape(e['error'] or '')}")
        for u in c["unavailable_posts"]:
            out.print(f"  campaign {c['id']}: unavailable {escape(u['url'])}: {escape(u['reason'])}")
    if body["rate_limit_budget"]:
        budget_table = Table("endpoint", "remaining", "limit", "resets")
        for row in body["rate_limit_budget"]:
            budget_table.add_row(row["endpoint"], str(row["remaining"]), str(row["limit"]),
                                 format_instant(row["reset_at"])[11:19])
        out.print(budget_table)


def _budget_line(plan: dict) -> str:
    cycles = plan["cycles_to_clear"]
    short = [f"{endpoint} {e['needed']} needed, {e['budget']} of {e['capacity']} per cycle"
             for endpoint, e in plan["endpoints"].items() if e["needed"] > e["budget"]]
    return (f"over the rate-limit budget: needs {plan['needed']} calls this cycle, gets {plan['budget']} "
            f"({'; '.join(short)}); " + (f"about {cycles} cycles to catch up, most valuable work first"
                                          if cycles else "waits until higher-value work is done"))


polling_app = typer.Typer(help="App-wide polling switch (set when X's usage cap or credits run out).")


@polling_app.command("resume")
def polling_resume() -> None:
    """Clear an app-wide pause now (e.g. after buying credits)."""
    rt = runtime()
    with rt.db.write() as session:
        cleared = jobs.clear_polling_pause(session, now=rt.clock.now())
    out.print("polling resumed" if cleared else "polling was not paused")
