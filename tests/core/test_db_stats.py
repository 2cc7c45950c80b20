"""socap.db_stats: with autovacuum off, the scheduler refreshes PostgreSQL's planner statistics itself."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from socap import db_stats
from socap.cli import app
from socap.console import set_runtime
from socap.db import Database
from socap.importance.accounts import placeholder_account, upsert_accounts
from socap.monitoring.engine import build_queue, run_tick

NOW = datetime(2025, 1, 6, 9, tzinfo=UTC)
runner = CliRunner()


def postgres_only(database: Database) -> None:
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL only (SOCAP_TEST_DATABASE_URL)")


def add_accounts(database: Database, n: int, first: int = 1) -> None:
    """n new accounts, their counts published when the commit returns (a session publishes its table
    statistics at most once a second otherwise, and an idle one up to 10 s later: PostgreSQL 15)."""
    with database.write() as session:
        upsert_accounts(session, [placeholder_account(str(i), NOW) for i in range(first, first + n)])
        session.execute(text("SELECT pg_stat_force_next_flush()"))


def analyzed_already(database: Database) -> None:
    """The account table as just analyzed: what earlier tests changed in it counts no more."""
    with database.session() as session:
        session.execute(text("ANALYZE account"))
    assert until(lambda: stats_of(database, "account").n_mod_since_analyze == 0)


def until(check, seconds: float = 15.0):
    """``check()`` once it is truthy: PostgreSQL publishes its table statistics asynchronously (about once a
    second per session), so what one session wrote shows in pg_stat_user_tables a little later."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def analyzed(database: Database, autovacuum: bool | None = False) -> list[str]:
    with database.session() as session:
        return db_stats.analyze_stale(session, autovacuum=autovacuum)


def stats_of(database: Database, table: str):
    with database.session() as session:
        session.execute(text("SELECT pg_stat_clear_snapshot()"))
        return session.execute(text("SELECT analyze_count, n_mod_since_analyze FROM pg_stat_user_tables"
                                    " WHERE relname = :t AND schemaname = current_schema()"), {"t": table}).one()


def test_changed_tables_are_analyzed_when_autovacuum_is_off_and_then_left_alone(database):
    postgres_only(database)
    analyzed_already(database)
    before = stats_of(database, "account").analyze_count
    add_accounts(database, 300)  # above autovacuum's default threshold (50 + 10% of the rows)
    tables = until(lambda: "account" in analyzed(database))
    assert tables, "the account table, changed by 300 rows, was never analyzed"
    count, pending = until(lambda: (s := stats_of(database, "account")).analyze_count > before and s)
    assert count == before + 1 and pending == 0
    assert "account" not in analyzed(database)  # nothing changed since
    add_accounts(database, 10, first=1000)  # under the threshold now that the table has 300 rows
    assert until(lambda: stats_of(database, "account").n_mod_since_analyze == 10)
    assert "account" not in analyzed(database)


def test_nothing_is_analyzed_when_autovacuum_is_on(database):
    postgres_only(database)
    analyzed_already(database)
    add_accounts(database, 300)
    assert until(lambda: stats_of(database, "account").n_mod_since_analyze >= 300)
    before = stats_of(database, "account").analyze_count
    assert analyzed(database, autovacuum=True) == []
    time.sleep(1.5)
    assert stats_of(database, "account").analyze_count == before


def test_the_servers_own_setting_decides(database):
    """What the scheduler calls (refresh_if_due, the server's setting read): a changed table is analyzed
    exactly when this server runs without autovacuum."""
    postgres_only(database)
    with database.session() as session:
        shown = session.scalar(text("SHOW autovacuum"))
        assert db_stats.autovacuum_on(session) is (shown == "on")
    analyzed_already(database)
    add_accounts(database, 300)
    assert until(lambda: stats_of(database, "account").n_mod_since_analyze >= 300)
    db_stats._checked.pop(database.url, None)
    assert ("account" in db_stats.refresh_if_due(database)) is (shown == "off")


def test_one_scheduler_analyzes_at_a_time(database):
    postgres_only(database)
    analyzed_already(database)
    add_accounts(database, 300)
    assert until(lambda: stats_of(database, "account").n_mod_since_analyze >= 300)
    with database.session() as holder:  # another scheduler in its turn
        assert holder.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": db_stats._ADVISORY_KEY})
        assert analyzed(database) == []
    assert "account" in analyzed(database)


def test_sqlite_is_left_alone(database):
    if database.dialect != "sqlite":
        pytest.skip("SQLite only")
    db_stats._checked.pop(database.url, None)
    assert db_stats.refresh_if_due(database) == []
    with database.session() as session:
        assert db_stats.analyze_stale(session, autovacuum=False) == []
        assert session.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")) == 0
    assert database.url not in db_stats._checked  # not even a check is scheduled


def test_a_process_checks_at_most_once_per_interval(database):
    postgres_only(database)
    db_stats._checked.pop(database.url, None)
    db_stats.refresh_if_due(database)
    first = db_stats._checked[database.url]
    analyzed_already(database)
    add_accounts(database, 300)
    assert until(lambda: stats_of(database, "account").n_mod_since_analyze >= 300)
    before = stats_of(database, "account").analyze_count
    assert db_stats.refresh_if_due(database) == []  # within the minute: not even looked at
    assert db_stats._checked[database.url] == first
    time.sleep(1.5)
    assert stats_of(database, "account").analyze_count == before


def test_an_unreachable_server_is_logged_and_the_tick_goes_on(caplog):
    db = Database("postgresql://postgres@127.0.0.1:1/socap_unreachable")
    try:
        db_stats._checked.pop(db.url, None)
        with caplog.at_level(logging.ERROR, logger="socap.db"):
            assert db_stats.refresh_if_due(db) == []
        assert "refreshing planner statistics failed" in caplog.text
    finally:
        db.dispose()


def test_every_scheduler_tick_refreshes_them(database, make_runtime):
    """run_tick (the scheduler's and `drive`'s step) is what calls refresh_if_due: a changed table is
    analyzed by a tick exactly when this server runs without autovacuum."""
    postgres_only(database)
    rt = make_runtime()
    with database.session() as session:
        off = session.scalar(text("SHOW autovacuum")) == "off"
    analyzed_already(database)
    add_accounts(database, 300)
    assert until(lambda: stats_of(database, "account").n_mod_since_analyze >= 300)
    before = stats_of(database, "account").analyze_count
    db_stats._checked.pop(rt.db.url, None)
    run_tick(rt, build_queue(rt, url="memory:"))
    assert rt.db.url in db_stats._checked
    if off:
        assert until(lambda: stats_of(database, "account").analyze_count == before + 1)
    else:
        time.sleep(1.5)
        assert stats_of(database, "account").analyze_count == before


def test_status_says_whether_the_schedulers_analyze(database, make_runtime):
    """`socap status` names the database and, on PostgreSQL without autovacuum, says the schedulers analyze."""
    rt = make_runtime()
    set_runtime(rt)
    try:
        shown, text_out = runner.invoke(app, ["status", "--json"]), runner.invoke(app, ["status"])
    finally:
        set_runtime(None)
    assert shown.exit_code == 0 == text_out.exit_code, shown.output + text_out.output
    described = json.loads(shown.stdout)["database"]
    if database.dialect == "sqlite":
        assert described == {"dialect": "sqlite", "autovacuum": None}
        off = False
    else:
        with database.session() as session:
            off = session.scalar(text("SHOW autovacuum")) == "off"
        assert described == {"dialect": "postgresql", "autovacuum": not off}
    assert ("autovacuum is off: every scheduler analyzes" in text_out.stdout) is off
