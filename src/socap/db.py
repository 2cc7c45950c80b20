"""Engine and sessions, SQLite pragmas, and a dialect-aware upsert helper.

SQLite: WAL (readers never block the writer), a busy timeout, foreign keys on, and ``BEGIN IMMEDIATE``
for write sessions so two writers serialise at BEGIN instead of failing at their first write with
"database is locked" half-way through a transaction. PostgreSQL needs none of this.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from socap.clock import ensure_utc

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// and always use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "sqlite"


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every SQLite test
        # Let SQLAlchemy (not the sqlite3 module) decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised by every SQLite test
        if conn.get_execution_options().get("sqlite_immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        _install_sqlite_hooks(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """One engine and its two session factories: plain (reads) and write (BEGIN IMMEDIATE on SQLite)."""

    def __init__(self, url: str, *, echo: bool = False):
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, echo=echo)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        write_bind = self.engine.execution_options(sqlite_immediate=True) if is_sqlite(self.engine) \
            else self.engine
        self._write = sessionmaker(write_bind, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reads (and writes that tolerate SQLite's deferred lock); commits on success."""
        with self._read() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: commits on success, rolls back on any error."""
        with self._write() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


def _insert_for(session: Session):
    return sqlite.insert if is_sqlite(session) else postgresql.insert


def dedupe_rows(rows: Iterable[dict[str, Any]], key: Sequence[str]) -> list[dict[str, Any]]:
    """Keep the last row per key: PostgreSQL refuses to touch one row twice in one statement."""
    seen: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        seen[tuple(row[k] for k in key)] = row
    return list(seen.values())


def upsert(
    session: Session,
    model: type[Base],
    rows: Iterable[dict[str, Any]],
    *,
    index_elements: Sequence[str],
    update_columns: Sequence[str] | None = None,
    returning: Sequence[Any] | None = None,
    batch_size: int = 500,
) -> list[Any]:
    """INSERT … ON CONFLICT: DO UPDATE the given columns, or DO NOTHING when ``update_columns`` is empty.

    Rows are deduplicated on ``index_elements`` first. With ``returning`` the rows actually inserted or
    updated come back (with DO NOTHING: only the really new rows — the ingest relies on that).

    The statement is built once and executed with the rows as parameters ("executemany"), so SQLAlchemy
    caches its compiled form and batches the rows itself (insertmanyvalues, RETURNING included); building
    ``.values(list_of_rows)`` instead would recompile a large statement for every call.
    """
    unique_rows = dedupe_rows(rows, index_elements)
    if not unique_rows:
        return []
    insert = _insert_for(session)
    table = model.__table__
    stmt = insert(table)
    if update_columns:
        stmt = stmt.on_conflict_do_update(index_elements=list(index_elements),
                                          set_={col: stmt.excluded[col] for col in update_columns})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(index_elements))
    if returning is not None:
        stmt = stmt.returning(*returning)
    connection = session.connection()
    results: list[Any] = []
    for start in range(0, len(unique_rows), batch_size):
        result = connection.execute(stmt, unique_rows[start:start + batch_size])
        if returning is not None:
            results.extend(result.all())
    return results


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive ones otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = ensure_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        return None if value is None else ensure_utc(value)
