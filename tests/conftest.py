"""Shared fixtures. The same suite runs on SQLite (default) and on PostgreSQL when
SOCAP_TEST_DATABASE_URL is set; the schema is always built by the real Alembic migrations."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from socap import migrations
from socap.clock import ManualClock
from socap.db import Database, normalise_url
from socap.models import Base

BASE_PG_URL = os.environ.get("SOCAP_TEST_DATABASE_URL")
# Under pytest-xdist (make test runs the parallel-safe tests with -n) each worker has a database of its own,
# named after the worker: test_gw0, test_gw1, … (created on first use, dropped never: the next run reuses it).
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
PG_URL = (make_url(BASE_PG_URL).set(database=f"{make_url(BASE_PG_URL).database}_{XDIST_WORKER}")
          .render_as_string(hide_password=False) if BASE_PG_URL and XDIST_WORKER else BASE_PG_URL)
REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"


FUZZ_PARTS = REPO_ROOT / "tests" / "artifacts" / "fuzz-counts.parts"  # tests/fuzz/conftest.py writes them


def pytest_sessionstart(session):
    if not XDIST_WORKER:  # the run's only or controlling process: no counts of an earlier run
        shutil.rmtree(FUZZ_PARTS, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    """The fuzz tests' example counts, added up over the pytest processes that ran them."""
    import json
    from collections import Counter

    counts: Counter = Counter()
    for part in sorted(FUZZ_PARTS.glob("*.json")) if FUZZ_PARTS.is_dir() else []:
        counts.update(json.loads(part.read_text()))
    if not counts:
        return
    terminalreporter.section("fuzz examples run")
    for name, n in sorted(counts.items()):
        terminalreporter.write_line(f"{n:6d}  {name}")
    terminalreporter.write_line(f"{sum(counts.values()):6d}  in all")
    (FUZZ_PARTS.parent / "fuzz-counts.json").write_text(json.dumps(dict(sorted(counts.items())), indent=2) + "\n")


def pytest_report_header(config):
    return f"socap test database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (temporary files)'}"


def _create_worker_database() -> None:
    """An xdist worker's own PostgreSQL database, made from the configured one's server if it is missing."""
    if PG_URL == BASE_PG_URL:
        return
    name = make_url(PG_URL).database
    db = Database(BASE_PG_URL)
    try:
        with db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        db.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> str:
    """Run the migrations once per session: a template file (SQLite) or the test database (PostgreSQL)."""
    if PG_URL:
        _create_worker_database()
        db = Database(PG_URL)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.dispose()
        migrations.upgrade(PG_URL)
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    migrations.upgrade(url)
    return str(path)


@pytest.fixture
def database_url(migrated_template, tmp_path) -> str:
    if PG_URL:
        db = Database(PG_URL)
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.dispose()
        return normalise_url(PG_URL)
    target = tmp_path / "socap.db"
    shutil.copyfile(migrated_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def database(database_url):
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2025, 1, 6, 9, 0, tzinfo=UTC))


@pytest.fixture
def start_simulator():
    """``start_simulator(world_or_scenario, clock=None, faults=None)`` → a running SimulatorServer
    (real HTTP on a free port) sharing ``clock``; stopped at the end of the test."""
    from socap.simulator import SimulatorServer, create_app

    servers = []

    def start(world, *, clock=None, faults=None):
        if isinstance(world, str):
            from socap.simulator import load_scenario

            world = load_scenario(world).build_world()
        elif hasattr(world, "build_world"):
            world = world.build_world()
        clock = clock or ManualClock(world.start)
        server = SimulatorServer(create_app(world, clock, faults=faults)).start()
        server.clock = clock
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def make_runtime(database_url):
    """``make_runtime(server, **settings)`` → a Runtime on the test database talking to ``server``."""
    from socap.config import Settings
    from socap.runtime import Runtime

    made = []

    def make(server=None, *, clock=None, **overrides):
        values = {"database_url": database_url, "x_max_retries": 1, "x_timeout_seconds": 5}
        if server is not None:
            values["x_api_base_url"] = server.api_base
        values.update(overrides)
        runtime = Runtime(Settings(_env_file=None, **values), clock=clock or getattr(server, "clock", None),
                          auto_migrate=False)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        if "db" in runtime.__dict__:
            runtime.db.dispose()
