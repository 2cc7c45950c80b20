"""A dedicated PostgreSQL database for a benchmark: never one the tests or another benchmark use."""

from __future__ import annotations

from collections.abc import Collection

import psycopg
from sqlalchemy.engine import make_url

from socap import migrations

ALWAYS_PROTECTED = {"", "postgres", "template0", "template1", "test"}
# A benchmark resets its database's schema, so it only takes one named like this: never the app's, nor
# the tests' (``test``, ``test_budget``, ... whatever a helper calls them).
PREFIX = "socap_bench"
# Each benchmark's own databases (its default, and the one bench/run_all.py gives it). A benchmark refuses the
# others', so two benchmarks running at once never reset each other's data.
DATABASES = {
    "poll_cycle": {"socap_bench", "socap_bench_runner_ingest"},
    "dashboard": {"socap_bench_dashboard", "socap_bench_runner_dashboard"},
    "importance": {"socap_bench_importance"},
}


def others(benchmark: str) -> set[str]:
    """The databases of every benchmark but ``benchmark``."""
    return set().union(*(names for name, names in DATABASES.items() if name != benchmark))


def pg_parts(url: str, protected: Collection[str] = ()) -> tuple[str, str]:
    """(libpq DSN of the bench database, its name); refuses shared databases."""
    parsed = make_url(url.replace("postgresql+psycopg://", "postgresql://"))
    name = parsed.database or ""
    if name in ALWAYS_PROTECTED or name in protected or not name.startswith(PREFIX):
        raise SystemExit(f"refusing to use database {name!r} for the benchmark: give a dedicated one, "
                         f"named {PREFIX}…, that no other benchmark uses")
    return parsed.render_as_string(hide_password=False), name


def fresh_postgres(url: str, protected: Collection[str] = ()) -> str:
    """Create the bench database if missing, give it an empty public schema and migrate it; its libpq DSN."""
    dsn, name = pg_parts(url, protected)
    admin = dsn.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    migrations.upgrade(dsn)
    return dsn
