"""`socap campaign …`: thin wrappers over socap.campaigns.service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from socap.campaigns import service
from socap.campaigns.schemas import CampaignInput, CampaignOut, PostsInput
from socap.console import EXIT_INVALID, fail, out, print_json, runtime
from socap.runtime import MissingCredentials
from socap.x import XAPIError

app = typer.Typer(help="Create and manage campaigns.", no_args_is_help=True)

UrlList = Annotated[list[str] | None, typer.Option(help="post URL or id (repeatable)")]


def _print_campaign(view: CampaignOut) -> None:
    out.print(f"[bold]Campaign {view.id}: {escape(view.name)}[/] — {view.status}")
    out.print(f"  window {view.starts_at:%Y-%m-%d %H:%M} → {view.ends_at:%Y-%m-%d %H:%M} UTC, "
              f"threshold {view.alert_threshold}, spacing {view.alert_spacing_minutes} min, "
              f"poll every {view.poll_interval_minutes} min")
    if view.notify_urls:
        out.print("  notify: " + ", ".join(escape(u) for u in view.notify_urls))
    table = Table("category", "post", "author", "text", show_lines=False)
    for post in view.posts:
        flag = f" [red](unavailable: {escape(post.unavailable_reason)})[/]" if post.unavailable_reason else ""
        table.add_row(post.category, escape(post.url) + flag, "@" + escape(post.author_username or "?"),
                      escape(post.text[:60]))
    out.print(table)
    out.print(f"  {len(view.posts)} posts, {view.job_count} poll jobs")
    for warning in view.warnings:
        out.print(f"[yellow]warning:[/] {escape(warning)}")


def _run_guarded(fn):
    try:
        return fn()
    except service.CampaignValidationError as exc:
        fail(escape(str(exc)), EXIT_INVALID)
    except service.PostsUnavailable as exc:
        fail(escape(str(exc)), EXIT_INVALID)
    except service.CampaignError as exc:
        fail(escape(str(exc)), EXIT_INVALID)
    except MissingCredentials as exc:
        fail(escape(str(exc)), EXIT_INVALID)
    except XAPIError as exc:
        fail(f"X API: {escape(str(exc))}")


@app.command()
def create(
    name: Annotated[str, typer.Option(help="campaign name")],
    main: UrlList = None,
    influencer: UrlList = None,
    investor: UrlList = None,
    days: Annotated[float | None, typer.Option(help="monitoring window in days from now (or --start)")] = None,
    start: Annotated[datetime | None, typer.Option(help="window start (UTC), default now")] = None,
    end: Annotated[datetime | None, typer.Option(help="window end (UTC), instead of --days")] = None,
    threshold: Annotated[int, typer.Option(help="alert when importance ≥ this")] = 10,
    spacing: Annotated[int, typer.Option(help="minutes over which one run's alerts are spread")] = 20,
    poll_interval: Annotated[int, typer.Option(help="minutes between polls")] = 30,
    notify: Annotated[list[str] | None, typer.Option(help="Apprise notification URL (repeatable)")] = None,
    allow_missing: Annotated[bool, typer.Option(help="create even if some posts cannot be found")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the campaign as JSON")] = False,
) -> None:
    """Create a campaign: resolves every post on X and sets up 4 poll jobs per post."""
    rt = runtime()
    data = _run_guarded(lambda: CampaignInput(
        name=name, main=main or [], influencer=influencer or [], investor=investor or [], days=days,
        starts_at=start, ends_at=end, threshold=threshold, spacing_minutes=spacing,
        poll_interval_minutes=poll_interval, notify_urls=notify or [], allow_missing=allow_missing))

    def _create() -> CampaignOut:
        # validate before touching the network or the database
        service.validate_input(data, now=rt.clock.now())
        with rt.x_client() as client:
            campaign_id, plan = service.create(rt.db, client, rt.clock, data)
        with rt.db.session() as session:
            return service.to_out(session, service.get(session, campaign_id=campaign_id), warnings=plan.warnings)

    view = _run_guarded(_create)
    if as_json:
        print_json(view.model_dump(mode="json"))
    else:
        _print_campaign(view)


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List campaigns."""
    rt = runtime()
    with rt.db.session() as session:
        views = [service.to_out(session, c) for c in service.list_campaigns(session)]
    if as_json:
        print_json([v.model_dump(mode="json") for v in views])
        return
    table = Table("id", "name", "status", "window (UTC)", "posts", "jobs")
    for v in views:
        table.add_row(str(v.id), escape(v.name), v.status,
                      f"{v.starts_at:%Y-%m-%d %H:%M} → {v.ends_at:%Y-%m-%d %H:%M}", str(len(v.posts)),
                      str(v.job_count))
    out.print(table)


@app.command()
def show(campaign_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one campaign with its posts."""
    rt = runtime()

    def _show() -> CampaignOut:
        with rt.db.session() as session:
            return service.to_out(session, service.get(session, campaign_id=campaign_id))

    view = _run_guarded(_show)
    if as_json:
        print_json(view.model_dump(mode="json"))
    else:
        _print_campaign(view)


def _set_state(campaign_id: int, action) -> CampaignOut:
    rt = runtime()

    def _do() -> CampaignOut:
        with rt.db.write() as session:
            campaign = service.get(session, campaign_id=campaign_id)
            action(session, campaign=campaign, clock=rt.clock)
            return service.to_out(session, campaign)

    return _run_guarded(_do)


@app.command()
def pause(campaign_id: int) -> None:
    """Pause polling and alerts; data is kept."""
    view = _set_state(campaign_id, service.pause)
    out.print(f"campaign {view.id} is {view.status}")


@app.command()
def resume(campaign_id: int) -> None:
    """Resume a paused campaign; due jobs run at the next tick."""
    view = _set_state(campaign_id, service.resume)
    out.print(f"campaign {view.id} is {view.status}")


@app.command("add-posts")
def add_posts(
    campaign_id: int,
    main: UrlList = None,
    influencer: UrlList = None,
    investor: UrlList = None,
    allow_missing: Annotated[bool, typer.Option()] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Add posts to a campaign (resolved on X, 4 poll jobs each)."""
    rt = runtime()

    def _add() -> CampaignOut:
        data = PostsInput(main=main or [], influencer=influencer or [], investor=investor or [],
                          allow_missing=allow_missing)
        with rt.x_client() as client:
            result = service.add_posts_by_url(rt.db, client, rt.clock, campaign_id=campaign_id, data=data)
        with rt.db.session() as session:
            return service.to_out(session, service.get(session, campaign_id=campaign_id), warnings=result.warnings)

    view = _run_guarded(_add)
    if as_json:
        print_json(view.model_dump(mode="json"))
    else:
        _print_campaign(view)
