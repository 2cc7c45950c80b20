"""Helpers for importance tests: the real CLI against a runtime, what SOCAP stored, what the simulator saw."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import select
from typer.testing import CliRunner

from socap.cli import app
from socap.importance.models import AccountImportance, Follow, FollowStaging, ImportantAccount

runner = CliRunner()

FOLLOWING = "GET /2/users/:id/following"
USERS_BY = "GET /2/users/by"


def socap(*args: str, code: int | None = 0):
    """Run ``socap …`` in-process (the runtime comes from ``socap.console.set_runtime``)."""
    result = runner.invoke(app, [str(a) for a in args])
    if code is not None:
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result


def socap_json(*args: str):
    return json.loads(socap(*args, "--json").stdout)


def import_csv(tmp_path, text: str, *, code: int = 0, name: str = "seeds.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return socap("importance", "seeds", "import", str(path), code=code)


def usage(server) -> dict:
    return httpx.get(server.url + "/_sim/usage", timeout=30).json()


def calls_to(server, endpoint: str) -> int:
    return usage(server)["endpoints"].get(endpoint, {}).get("calls", 0)


def statuses(server, endpoint: str) -> dict[str, int]:
    return usage(server)["endpoints"].get(endpoint, {}).get("by_status", {})


def call_log(server, endpoint: str | None = None) -> list[dict]:
    calls = httpx.get(server.url + "/_sim/calls", params={"limit": 5000}, timeout=30).json()["calls"]
    return [c for c in calls if endpoint is None or c["endpoint"] == endpoint]


def sim_truth(server) -> dict:
    return httpx.get(server.url + "/_sim/truth", timeout=30).json()


# --- what SOCAP stored ----------------------------------------------------------------------------------------
def seeds_by_name(rt) -> dict[str, ImportantAccount]:
    with rt.db.session() as s:
        rows = s.scalars(select(ImportantAccount)).all()
        s.expunge_all()
    return {r.username.lower(): r for r in rows}


def edges(rt) -> set[tuple[str, str]]:
    """(seed username lower, followed account id) for every live follow edge."""
    with rt.db.session() as s:
        rows = s.execute(select(ImportantAccount.username, Follow.account_id)
                         .join(ImportantAccount, ImportantAccount.id == Follow.seed_id)).all()
    return {(u.lower(), str(a)) for u, a in rows}


def staged(rt) -> set[tuple[str, str]]:
    with rt.db.session() as s:
        rows = s.execute(select(ImportantAccount.username, FollowStaging.account_id)
                         .join(ImportantAccount, ImportantAccount.id == FollowStaging.seed_id)).all()
    return {(u.lower(), str(a)) for u, a in rows}


def world_edges(world, seeds=None) -> set[tuple[str, str]]:
    """The world's follow graph in the same shape (optionally only some seeds)."""
    chosen = world.seeds() if seeds is None else seeds
    return {(s.username.lower(), a) for s in chosen for a in world.following(s.id)}


def importance_rows(rt) -> dict[int, tuple[int, object]]:
    """account id → (score, updated_at) of every materialised score."""
    with rt.db.session() as s:
        return {r.account_id: (r.score, r.updated_at) for r in s.scalars(select(AccountImportance))}
