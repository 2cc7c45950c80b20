"""Shared CLI plumbing: consoles, the runtime, clean failures with the right exit code."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import typer
from rich.console import Console

from socap.runtime import Runtime

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_INVALID = 2   # the user's input was refused; nothing written
EXIT_FAILED = 1    # something outside the input failed (X, network, database)

_runtime: Runtime | None = None


def runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        _runtime = Runtime()
    return _runtime


def set_runtime(value: Runtime | None) -> None:
    global _runtime
    _runtime = value


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


def print_json(value: Any) -> None:
    # plain print: Rich would wrap long lines and break the JSON
    print(json.dumps(value, indent=2, default=str, ensure_ascii=False))
