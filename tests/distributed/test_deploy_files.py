"""deploy/ names only commands and settings that exist: every `socap …` command line in compose.yaml, the
Procfile and the systemd units parses with the real CLI, and every SOCAP_* variable they (or
socap.env.example) set is a setting. Docker and systemd do not run on this machine; test_processes.py runs the
same commands as OS processes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
import yaml

from socap.cli import app
from socap.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SERVICES = {"postgres", "redis", "migrate", "web", "scheduler", "worker"}


def _parses(argv: list[str]):
    """Parse ``socap ARGS`` down to the leaf command without running it (a bad option raises)."""
    assert argv[0].endswith("socap"), argv
    command = typer.main.get_command(app)
    ctx = command.make_context("socap", argv[1:])
    while hasattr(command, "resolve_command"):  # a group: descend into the sub-command
        pending = list(getattr(ctx, "protected_args", None) or getattr(ctx, "_protected_args", [])) + ctx.args
        name, command, rest = command.resolve_command(ctx, pending)
        ctx = command.make_context(name, rest, parent=ctx)
    return ctx


def _command_lines() -> list[tuple[str, list[str]]]:
    lines = []
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for name, service in compose["services"].items():
        if "command" in service and service["command"][0] == "socap":
            lines.append((f"compose {name}", service["command"]))
    for line in (DEPLOY / "Procfile").read_text().splitlines():
        if line and not line.startswith("#"):
            name, command = line.split(":", 1)
            lines.append((f"Procfile {name}", shlex.split(re.sub(r"\$\{PORT:-(\d+)\}", r"\1", command))))
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        for line in unit.read_text().splitlines():
            if line.startswith("ExecStart="):
                lines.append((unit.name, shlex.split(line.removeprefix("ExecStart="))))
    return lines


def test_compose_has_the_deployment_s_services_with_migration_first():
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert set(services) == SERVICES
    assert services["scheduler"]["deploy"]["replicas"] == 2 and services["worker"]["deploy"]["replicas"] >= 3
    for name in ("web", "scheduler", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        environment = services[name]["environment"]
        assert environment["SOCAP_DATABASE_URL"].startswith("postgresql://")
        assert environment["SOCAP_QUEUE_URL"].startswith("redis://")
    assert services["worker"]["stop_signal"] == "SIGINT"  # a Huey consumer's graceful stop


@pytest.mark.parametrize(("where", "argv"), _command_lines(), ids=[w for w, _ in _command_lines()])
def test_every_command_line_is_a_socap_command(where, argv):
    ctx = _parses(argv)
    assert ctx.info_name in ("upgrade", "web", "scheduler", "worker"), where


def test_every_variable_deploy_sets_is_a_setting():
    names = set()
    for path in [*DEPLOY.glob("*"), *(DEPLOY / "systemd").glob("*")]:
        if path.is_file():
            names |= set(re.findall(r"\b(SOCAP_[A-Z_]+)\b", path.read_text()))
    known = {f"SOCAP_{field.upper()}" for field in Settings.model_fields}
    assert names and names <= known, names - known
