import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from socap import migrations
from socap.auth.models import Workspace
from socap.db import Database, dedupe_rows, upsert
from socap.importance.models import Account
from socap.models import Base

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _account(i, name="user"):
    return {"id": i, "username": f"{name}{i}", "name": name, "bio": "", "refreshed_at": NOW}


def test_migrated_schema_matches_the_models(database):
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    # the PostgreSQL queue (PostgresHuey) may keep its own huey_* tables in the same database
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("huey"))]
    assert diff == []
    assert migrations.current(database.url) is not None


def test_migrations_downgrade_and_upgrade_again(database_url):
    migrations.downgrade(database_url, "base")
    assert migrations.current(database_url) is None
    migrations.upgrade(database_url)
    head = ScriptDirectory.from_config(migrations.alembic_config(database_url)).get_current_head()
    assert migrations.current(database_url) == head


def test_datetimes_come_back_aware_utc(database):
    eastern = timezone(timedelta(hours=-5))
    with database.write() as s:
        s.add(Workspace(name="w", created_at=datetime(2025, 1, 6, 4, 0, tzinfo=eastern)))
    with database.session() as s:
        created = s.scalar(select(Workspace.created_at))
    assert created == NOW and created.utcoffset() == timedelta(0)


def test_upsert_inserts_updates_and_returns_only_touched_rows(database):
    with database.write() as s:
        inserted = upsert(s, Account, [_account(1), _account(2)], index_elements=["id"],
                          returning=[Account.id])
        assert sorted(r.id for r in inserted) == [1, 2]
        again = upsert(s, Account, [_account(2), _account(3)], index_elements=["id"], returning=[Account.id])
        # DO NOTHING: only the really new row comes back
        assert [r.id for r in again] == [3]
        upsert(s, Account, [_account(1, "renamed")], index_elements=["id"],
               update_columns=["username", "name"])
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Account)) == 3
        assert s.get(Account, 1).username == "renamed1"


def test_upsert_deduplicates_a_batch_touching_one_row_twice(database):
    rows = [_account(7, "first"), _account(7, "second")]
    with database.write() as s:
        upsert(s, Account, rows, index_elements=["id"], update_columns=["username"], batch_size=10)
    with database.session() as s:
        assert s.get(Account, 7).username == "second7"
    assert dedupe_rows(rows, ["id"]) == [rows[1]]


def test_write_session_rolls_back_on_error(database):
    with pytest.raises(RuntimeError), database.write() as s:
        s.add(Workspace(name="doomed", created_at=NOW))
        s.flush()
        raise RuntimeError("boom")
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Workspace)) == 0


def test_sqlite_pragmas(database):
    if database.dialect != "sqlite":
        pytest.skip("SQLite only")
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_concurrent_writers_never_lose_an_increment(database_url):
    """Read-modify-write from several threads: BEGIN IMMEDIATE (SQLite) / row lock (PostgreSQL)."""
    db = Database(database_url)
    with db.write() as s:
        s.add(Workspace(name="counter", created_at=NOW))
    errors: list[Exception] = []
    lock_clause = "" if db.dialect == "sqlite" else " FOR UPDATE"

    def bump(times: int) -> None:
        try:
            for _ in range(times):
                with db.write() as s:
                    name = s.execute(text(f"SELECT name FROM workspace WHERE id = 1{lock_clause}")).scalar()
                    n = int(name.removeprefix("counter") or 0)
                    s.execute(text("UPDATE workspace SET name = :n WHERE id = 1"), {"n": f"counter{n + 1}"})
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(25,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session() as s:
        assert s.scalar(select(Workspace.name)) == "counter100"
    db.dispose()


def test_upsert_fills_python_defaults_converts_types_and_returns_them(database):
    eastern = timezone(timedelta(hours=-5))
    row = {"id": 5, "username": "u5", "refreshed_at": datetime(2025, 1, 6, 4, 0, tzinfo=eastern),
           "created_at": datetime(2020, 1, 1, 12, 30, 0, 7), "protected": True}
    with database.write() as s:
        (back,) = upsert(s, Account, [row], index_elements=["id"],
                         returning=[Account.id, Account.refreshed_at, Account.created_at, Account.suspicion,
                                    Account.followers_count, Account.protected, Account.name])
    assert back == (5, NOW, datetime(2020, 1, 1, 12, 30, 0, 7, tzinfo=UTC), [], 0, True, "")
    assert back.refreshed_at.utcoffset() == timedelta(0)
    with database.session() as s:
        stored = s.get(Account, 5)
        assert (stored.suspicion, stored.bio, stored.category, stored.refreshed_at) == ([], "", "other", NOW)


def test_upsert_batches_and_rejects_rows_with_other_keys(database):
    rows = [_account(i) for i in range(1, 1202)]
    with database.write() as s:
        assert len(upsert(s, Account, rows, index_elements=["id"], returning=[Account.id], batch_size=500)) == 1201
        with pytest.raises(ValueError, match="same keys"):
            upsert(s, Account, [_account(2000), {"id": 2001, "username": "x"}], index_elements=["id"])


def test_sqlite_datetime_binding_is_sqlalchemys_own_text():
    from sqlalchemy.dialects import sqlite

    from socap.db import UTCDateTime

    dialect = sqlite.dialect()
    fast = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    plain = sqlite.DATETIME().bind_processor(dialect)
    values = [datetime(2025, 1, 6, 9), datetime(2025, 1, 6, 9, 0, 0, 1), datetime(999, 12, 31, 23, 59, 59, 999999),
              datetime(2025, 1, 6, 4, tzinfo=timezone(timedelta(hours=-5))), NOW,
              datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30)))]
    for value in values:  # what process_bind_param + SQLite's DATETIME processor produce, one after the other
        expected = plain(value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value)
        assert fast(value) == expected
    assert fast(None) is None


def test_upsert_stores_values_an_array_literal_would_have_to_quote_exactly_as_sent(database):
    # on PostgreSQL the rows travel as one binary-format array per column: nothing is quoted or escaped
    awkward = ['say "hi"', "back\\slash", "{braces}", "a,b", "NULL", "", " padded ", "日本語 🚀", "it's"]
    rows = [{"id": 9_000_000_000_000 + i, "username": f"u{i}", "name": text_, "bio": text_ * 3,
             "verified_type": None if i % 2 else text_, "refreshed_at": NOW + timedelta(microseconds=i),
             "suspicion": [{"flag": "empty_bio", "reason": text_}] if i % 3 else []}
            for i, text_ in enumerate(awkward)]
    with database.write() as s:
        upsert(s, Account, rows, index_elements=["id"])
    with database.session() as s:
        stored = {a.id: a for a in s.scalars(select(Account))}
    for row in rows:
        a = stored[row["id"]]
        assert (a.name, a.bio, a.verified_type, a.refreshed_at, a.suspicion) == \
            (row["name"], row["bio"], row["verified_type"], row["refreshed_at"], row["suspicion"])


def test_a_failing_upsert_raises_sqlalchemys_error_and_the_transaction_keeps_nothing(database):
    """SQLite's upserts run on the driver connection (socap.db.driver_execute): a driver error still comes as
    SQLAlchemy's, naming the statement, and the rows written before it in the transaction are rolled back."""
    from sqlalchemy.exc import IntegrityError

    from socap.monitoring.models import Engagement

    with pytest.raises(IntegrityError) as caught, database.write() as s:
        upsert(s, Account, [_account(70)], index_elements=["id"], update_columns=["name"])
        upsert(s, Engagement, [{"campaign_id": 999, "campaign_tweet_id": 999, "account_id": 70, "action": "retweet",
                                "source_tweet_id": 1, "engaged_at": NOW, "detected_at": NOW}],
               index_elements=["campaign_tweet_id", "action", "source_tweet_id"], returning=[Engagement.id])
    assert "INSERT INTO engagement" in str(caught.value)
    with database.session() as s:
        assert s.get(Account, 70) is None


def test_a_locked_sqlite_database_raises_sqlalchemys_error_at_begin(database_url, monkeypatch):
    """BEGIN IMMEDIATE goes to the driver directly too; waiting out the busy timeout still raises SQLAlchemy's
    OperationalError (what a caller of Database.write sees on any statement)."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from socap import db as socap_db

    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    monkeypatch.setattr(socap_db, "SQLITE_BUSY_TIMEOUT_MS", 50)  # read when a connection is opened
    db = Database(database_url)
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="database is locked"), db.write() as s:
            s.add(Workspace(name="never", created_at=NOW))
            s.flush()
        holder.execute("ROLLBACK")
        with db.write() as s:  # the same pooled connection works once the lock is gone
            s.add(Workspace(name="later", created_at=NOW))
        with db.session() as s:
            assert s.scalars(select(Workspace.name)).all() == ["later"]
    finally:
        holder.close()
        db.dispose()


def test_upsert_serialises_empty_and_non_empty_json_lists_in_one_batch(database):
    """An empty list for a JSON column is serialised once per plan (the usual account has no suspicion flags);
    rows mixing empty and non-empty lists keep their own values."""
    flags = [{"flag": "empty_bio", "reason": "empty bio"}]
    rows = [dict(_account(i), suspicion=value) for i, value in enumerate([[], flags, [], [], flags, ()], start=80)]
    with database.write() as s:
        upsert(s, Account, rows, index_elements=["id"])
    with database.session() as s:
        stored = {a.id: a.suspicion for a in s.scalars(select(Account).where(Account.id >= 80))}
    assert stored == {80: [], 81: flags, 82: [], 83: [], 84: flags, 85: []}
