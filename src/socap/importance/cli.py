"""`socap importance …`: seeds, following sync, checks and suggestions (thin wrappers over the services)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from socap.auth import service as auth_service
from socap.console import EXIT_INVALID, fail, out, print_json, runtime
from socap.importance import seeds as seed_service
from socap.importance import service, sync
from socap.importance.accounts import account_row, lookup_account, upsert_accounts
from socap.runtime import MissingCredentials
from socap.x import XAPIError
from socap.x.budget import RateBudgetStore

app = typer.Typer(help="Importance: curated seed accounts, their following graph, scores.", no_args_is_help=True)
seeds_app = typer.Typer(help="The curated seed list of the workspace.", no_args_is_help=True)
app.add_typer(seeds_app, name="seeds")


def _workspace_id(session) -> int:
    rt = runtime()
    return auth_service.get_or_create_workspace(session, clock=rt.clock).id


def _budgeted_client():
    rt = runtime()
    budget = RateBudgetStore(rt.db, rt.clock, rt.settings.x_rate_limits)
    return rt.x_client(before_call=budget.acquire,
                       on_call=lambda r: budget.observe(r.endpoint, r.rate_limit, exhausted=r.status_code == 429))


def _guard(fn):
    try:
        return fn()
    except seed_service.SeedError as exc:
        fail(escape(str(exc)), EXIT_INVALID)
    except MissingCredentials as exc:
        fail(escape(str(exc)), EXIT_INVALID)
    except XAPIError as exc:
        fail(f"X API: {escape(str(exc))}")


@seeds_app.command("import")
def seeds_import(file: Annotated[Path, typer.Argument(help="CSV with username,category,weight")]) -> None:
    """Import seeds: all rows or none; handles are resolved on X (100 per call)."""
    rt = runtime()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}", EXIT_INVALID)

    def _import() -> tuple[int, int]:
        with rt.db.write() as session:
            workspace_id = _workspace_id(session)
        with _budgeted_client() as client:
            return seed_service.import_csv(rt.db, client, rt.clock, workspace_id=workspace_id, text=text)

    added, updated = _guard(_import)
    out.print(f"seeds imported: {added} added, {updated} updated. Next: `socap importance sync`.")


@seeds_app.command("add")
def seeds_add(username: str, category: Annotated[str, typer.Option()] = "other",
              weight: Annotated[int, typer.Option()] = 1) -> None:
    """Add (or update) one seed."""
    rt = runtime()

    def _add() -> tuple[int, int]:
        row, problems = seed_service._check_fields(1, username, category, str(weight))  # noqa: SLF001
        if row is None:
            raise seed_service.SeedImportError([(1, p) for p in problems])
        with _budgeted_client() as client:
            accounts, missing = seed_service.resolve(client, [row], now=rt.clock.now())
        if missing:
            raise seed_service.SeedError(missing[0][1])
        with rt.db.write() as session:
            return seed_service.import_rows(session, workspace_id=_workspace_id(session), rows=[row],
                                            accounts=accounts, now=rt.clock.now())

    added, _ = _guard(_add)
    out.print(f"@{escape(username.lstrip('@'))} {'added' if added else 'updated'}")


def _change(action, message: str, **kwargs) -> None:
    rt = runtime()

    def _do() -> int:
        with rt.db.write() as session:
            return action(session, workspace_id=_workspace_id(session), now=rt.clock.now(), **kwargs)

    rescored = _guard(_do)
    out.print(f"{message}; {rescored} account score(s) recomputed")


@seeds_app.command("remove")
def seeds_remove(username: str) -> None:
    """Remove a seed and its follow edges."""
    _change(seed_service.remove, f"@{escape(username.lstrip('@'))} removed", username=username)


@seeds_app.command("set-weight")
def seeds_set_weight(username: str, weight: int) -> None:
    _change(seed_service.set_weight, f"@{escape(username.lstrip('@'))} now weighs {weight}", username=username,
            weight=weight)


@seeds_app.command("deactivate")
def seeds_deactivate(username: str) -> None:
    """Keep the seed but stop counting it."""
    _change(seed_service.set_active, f"@{escape(username.lstrip('@'))} deactivated", username=username,
            active=False)


@seeds_app.command("activate")
def seeds_activate(username: str) -> None:
    _change(seed_service.set_active, f"@{escape(username.lstrip('@'))} activated", username=username, active=True)


@seeds_app.command("list")
def seeds_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    rt = runtime()
    with rt.db.session() as session:
        rows = [{"username": s.username, "x_user_id": s.x_user_id, "category": s.category, "weight": s.weight,
                 "active": s.active, "synced_at": s.synced_at, "sync_in_progress": s.sync_cursor is not None}
                for s in seed_service.list_seeds(session, workspace_id=_workspace_id(session))]
    if as_json:
        print_json(rows)
        return
    table = Table("username", "category", "weight", "active", "synced")
    for r in rows:
        table.add_row("@" + escape(r["username"]), r["category"], str(r["weight"]), "yes" if r["active"] else "no",
                      "in progress" if r["sync_in_progress"] else (str(r["synced_at"])[:16] if r["synced_at"]
                                                                    else "never"))
    out.print(table)


@seeds_app.command("export")
def seeds_export(output: Annotated[Path | None, typer.Option("-o", "--output")] = None) -> None:
    """Write the active seeds as CSV (to a file or stdout)."""
    rt = runtime()
    with rt.db.session() as session:
        text = seed_service.export_csv(session, workspace_id=_workspace_id(session))
    if output:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {output}")
    else:
        sys.stdout.write(text)


@app.command("sync")
def sync_command(seed: Annotated[list[str] | None, typer.Option(help="only these seeds (repeatable)")] = None) -> None:
    """Fetch every active seed's following list (1,000 a page, resumable, inside the rate-limit budget)."""
    rt = runtime()
    with rt.db.write() as session:
        workspace_id = _workspace_id(session)
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), console=out,
                        disable=not sys.stdout.isatty())
    task = progress.add_task("syncing", total=None)

    def on_page(result: sync.SeedSync) -> None:
        progress.update(task, description=f"@{result.username}: {result.pages} page(s)")
        if not sys.stdout.isatty() and result.edges is None:
            out.print(f"@{escape(result.username)}: page {result.pages}")

    def _run() -> sync.SyncReport:
        with progress, _budgeted_client() as client:
            return sync.sync_workspace(rt.db, client, rt.clock, workspace_id=workspace_id, usernames=seed,
                                       on_page=on_page)

    report = _guard(_run)
    for s in report.seeds:
        if s.error:
            out.print(f"@{escape(s.username)}: [red]{escape(s.error)}[/]")
        else:
            out.print(f"@{escape(s.username)}: {s.edges} followed (+{s.added} −{s.removed}), "
                      f"{s.rescored} score(s) recomputed")
    if report.blocked_until:
        out.print(f"rate limit reached: run `socap importance sync` again after {report.blocked_until:%H:%M} UTC; "
                  "it resumes where it stopped")
        raise typer.Exit(1)


@app.command("check")
def check(username: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Score, category and the seeds behind them for one account."""
    rt = runtime()

    def _check() -> service.Importance:
        with rt.db.write() as session:
            workspace_id = _workspace_id(session)
            account = lookup_account(session, username)
        if account is None:
            # ask X outside any transaction: the budget writes in its own (SQLite has one writer at a time)
            if not seed_service.HANDLE.match(username.strip()):
                raise seed_service.SeedError(f"{username.strip()!r} is not an X handle")
            with _budgeted_client() as client:
                page = client.get_users_by_usernames([username.strip().lstrip("@")])
            if page.data:
                with rt.db.write() as session:
                    upsert_accounts(session, [account_row(page.data[0], rt.clock.now())])
                account = int(page.data[0].id)
        if account is None:
            raise seed_service.SeedError(f"@{username.lstrip('@')} is not known to SOCAP nor found on X")
        with rt.db.write() as session:
            from socap.importance import scoring

            scoring.store_scores(session, workspace_id=workspace_id, account_ids=[account], now=rt.clock.now())
            return service.profiles(session, workspace_id=workspace_id, account_ids=[account])[account]

    result = _guard(_check)
    body = {"username": result.username, "account_id": result.account_id, "importance": result.score,
            "category": result.category, "category_reason": result.category_reason,
            "seeds": [e.__dict__ for e in result.seeds], "suspicion": result.suspicion}
    if as_json:
        print_json(body)
        return
    out.print(f"@{escape(result.username or '?')}: importance [bold]{result.score}[/], category {result.category}"
              + (f" ({escape(result.category_reason)})" if result.category_reason else ""))
    for e in result.seeds:
        out.print(f"  followed by @{escape(e.username)} ({e.category}, weight {e.weight})")
    for flag in result.suspicion:
        out.print(f"  [yellow]{escape(flag['flag'])}[/]: {escape(flag['reason'])}")


@app.command("suggest")
def suggest(min_seeds: Annotated[int, typer.Option(help="followed by at least this many seeds")] = 3,
            limit: Annotated[int, typer.Option()] = 50,
            as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Accounts many seeds follow that are not seeds yet (candidates for the list)."""
    rt = runtime()
    with rt.db.write() as session:
        rows = service.suggestions(session, workspace_id=_workspace_id(session), min_seeds=min_seeds, limit=limit)
    if as_json:
        print_json(rows)
        return
    table = Table("account", "seeds following", "total weight")
    for r in rows:
        table.add_row("@" + escape(r["username"]) if r["username"] else f"id {r['account_id']}", str(r["seeds"]),
                      str(r["weight"]))
    out.print(table)
