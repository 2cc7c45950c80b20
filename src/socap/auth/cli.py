"""`socap user create|list|password|token`: dashboard users and API tokens."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from socap.auth import service
from socap.clock import format_instant
from socap.console import EXIT_INVALID, err, fail, out, runtime

app = typer.Typer(help="Dashboard users and API tokens.", no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@app.command("create")
def create(
    email: str,
    workspace: Annotated[str, typer.Option(help="workspace the user belongs to (created if new)")] =
    service.DEFAULT_WORKSPACE,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Create a user who can sign in to the dashboard."""
    password = _password(password_stdin)
    rt = runtime()
    try:
        with rt.db.write() as session:
            user = service.create_user(session, email=email, password=password, workspace=workspace, clock=rt.clock)
            address = user.email
    except service.AuthError as exc:
        fail(escape(str(exc)), EXIT_INVALID)
    out.print(f"user {escape(address)} created in workspace {escape(workspace)!r}")


@app.command("password")
def password(
    email: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Set a user's password."""
    value = _password(password_stdin)
    rt = runtime()
    try:
        with rt.db.write() as session:
            service.set_password(session, email=email, password=value)
    except service.AuthError as exc:
        fail(escape(str(exc)), EXIT_INVALID)
    out.print("password changed")


@app.command("list")
def list_() -> None:
    """Users and their workspaces."""
    rt = runtime()
    table = Table("id", "e-mail", "workspace", "created", "last sign-in")
    with rt.db.session() as session:
        for user, ws in service.list_users(session):
            table.add_row(str(user.id), escape(user.email), escape(ws), format_instant(user.created_at)[:16],
                          format_instant(user.last_login_at)[:16] if user.last_login_at else "—")
    out.print(table)


@app.command("token")
def token(email: str, name: Annotated[str, typer.Option(help="what the token is for")] = "api") -> None:
    """Create an API token for /api/v1 (printed once; only its hash is stored)."""
    rt = runtime()
    try:
        with rt.db.write() as session:
            _, plain = service.create_token(session, email=email, name=name, clock=rt.clock)
    except service.AuthError as exc:
        fail(escape(str(exc)), EXIT_INVALID)
    err.print("API token (shown once; send it as 'Authorization: Bearer <token>'):")
    print(plain)
