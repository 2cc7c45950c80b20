"""The `socap` command. Each domain owns its sub-commands (socap/<domain>/cli.py); this file wires them."""

from __future__ import annotations

from typing import Annotated

import typer

from socap.alerts.cli import app as alerts_app
from socap.auth.cli import app as user_app
from socap.campaigns.cli import app as campaign_app
from socap.console import EXIT_FAILED, EXIT_INVALID, fail, out, runtime
from socap.importance.cli import app as importance_app
from socap.monitoring import cli as monitoring_cli
from socap.reports.cli import report as report_command
from socap.runtime import settle_heap
from socap.simulator.cli import app as simulator_app

app = typer.Typer(help="SOCAP — campaign monitoring for launches on X.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema, backups.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(campaign_app, name="campaign")
app.add_typer(simulator_app, name="simulator")
app.add_typer(importance_app, name="importance")
app.add_typer(alerts_app, name="alerts")
app.add_typer(user_app, name="user")
app.add_typer(monitoring_cli.polling_app, name="polling")
for command in (monitoring_cli.run, monitoring_cli.worker, monitoring_cli.scheduler, monitoring_cli.status):
    app.command()(command)
app.command("report")(report_command)


@app.command()
def web(
    host: Annotated[str | None, typer.Option(help="address to listen on (default SOCAP_WEB_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default SOCAP_WEB_PORT)")] = None,
) -> None:
    """Serve the dashboard and the JSON API (run any number of these behind a load balancer)."""
    import uvicorn

    from socap.web.app import create_app

    rt = runtime()
    host, port = host or rt.settings.web_host, port or rt.settings.web_port
    out.print(f"SOCAP dashboard on http://{host}:{port}/  (API docs: /docs)")
    application = create_app(rt)
    settle_heap()
    # open alert streams must not hold Ctrl-C for ever
    uvicorn.run(application, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Create or migrate the database schema (Alembic)."""
    from socap import migrations

    url = runtime().settings.database_url
    try:
        migrations.upgrade(url, revision)
    except Exception as exc:  # a migration failure must say which database
        fail(f"migration of the database failed: {exc}")
    out.print(f"database at revision {migrations.current(url)}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision."""
    from socap import migrations

    out.print(migrations.current(runtime().settings.database_url) or "empty (run: socap db upgrade)")


@db_app.command("backup")
def db_backup(
    path: Annotated[str, typer.Argument(help="the backup file to write")],
    force: Annotated[bool, typer.Option(help="overwrite PATH if it exists")] = False,
) -> None:
    """Copy the database to PATH while SOCAP keeps running (SQLite online backup; pg_dump for PostgreSQL)."""
    from socap import db_backup as backups

    try:
        done = backups.backup(runtime().settings.database_url, path, force=force)
    except backups.BackupError as exc:
        fail(str(exc), EXIT_INVALID if not isinstance(exc, backups.ToolMissing) else EXIT_FAILED)
    out.print(f"backup written to {done.path} ({done.method}, schema revision {done.revision}, "
              f"{done.size_bytes:,} bytes)")


@db_app.command("restore")
def db_restore(
    path: Annotated[str, typer.Argument(help="a file written by `socap db backup`")],
    force: Annotated[bool, typer.Option(help="replace a database that holds data or is in use")] = False,
) -> None:
    """Replace the database with the backup at PATH (stop every SOCAP process first); monitoring resumes from
    the backup's state: engagements found since are fetched again, never twice."""
    from socap import db_backup as backups

    rt = runtime()
    try:
        done = backups.restore(rt.settings.database_url, path, now=rt.clock.now(), force=force)
    except backups.BackupError as exc:
        fail(str(exc), EXIT_INVALID if not isinstance(exc, backups.ToolMissing) else EXIT_FAILED)
    upgraded = f", migrated to {done.upgraded_to}" if done.upgraded_to else ""
    out.print(f"restored {done.path} ({done.method}, schema revision {done.revision}{upgraded})")
    for note in done.notes:
        out.print(f"  {note}")


@app.command()
def demo(
    scenario: Annotated[str, typer.Option(help="simulator scenario")] = "1",
    port: Annotated[int, typer.Option(help="simulator port (0 = any free port)")] = 0,
    speed: Annotated[float, typer.Option(help="virtual seconds per real second (864: 3 days in 5 minutes)")] = 864.0,
    web_port: Annotated[int, typer.Option(help="dashboard port (a free one if taken)")] = 8000,
    keep_serving: Annotated[bool, typer.Option(help="keep the dashboard up after the campaign ends")] = False,
) -> None:
    """Play a scenario against the built-in simulator (no X credentials needed), with the dashboard."""
    from socap.demo import run_demo

    run_demo(scenario=scenario, port=port, speed=speed, web_port=web_port, keep_serving=keep_serving)


if __name__ == "__main__":  # pragma: no cover
    app()
