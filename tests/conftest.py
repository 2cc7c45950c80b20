"""Shared fixtures. The same suite runs on SQLite (default) and on PostgreSQL when
SOCAP_TEST_DATABASE_URL is set; the schema is always built by the real Alembic migrations."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from socap import migrations
from socap.clock import ManualClock
from socap.db import Database, normalise_url
from socap.models import Base

PG_URL = os.environ.get("SOCAP_TEST_DATABASE_URL")
REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"


def pytest_report_header(config):
    return f"socap test database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (temporary files)'}"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> str:
    """Run the migrations once per session: a template file (SQLite) or the test database (PostgreSQL)."""
    if PG_URL:
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
