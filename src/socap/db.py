"""Engine and sessions, SQLite pragmas, and a dialect-aware upsert helper.

SQLite: WAL (readers never block the writer), a busy timeout, foreign keys on, and ``BEGIN IMMEDIATE``
for write sessions so two writers serialise at BEGIN instead of failing at their first write with
"database is locked" half-way through a transaction. PostgreSQL needs none of this.
"""

from __future__ import annotations

import collections
import itertools
import operator
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    DateTime,
    MetaData,
    TypeDecorator,
    any_,
    create_engine,
    event,
    literal,
    literal_column,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
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
        driver_execute(conn, "BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "BEGIN")


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


def one_of(session: Session, column, ids: Sequence[Any]):
    """``column IN ids``. On PostgreSQL as ``column = ANY(<one array parameter>)``: psycopg sends an IN list
    as one parameter per id, which the server parses and plans on every call (a page's 100 account ids:
    6.5 ms a lookup, 2.8 ms with one array, measured through SQLAlchemy); elsewhere an expanding IN list."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(ids), postgresql.ARRAY(column.type)))
    return column.in_(ids)


def dedupe_rows(rows: Iterable[dict[str, Any]], key: Sequence[str]) -> list[dict[str, Any]]:
    """Keep the last row per key: PostgreSQL refuses to touch one row twice in one statement."""
    get = operator.itemgetter(*key)  # a value for one key, a tuple for several
    return list({get(row): row for row in rows}.values())


def upsert(
    session: Session,
    model: type[Base],
    rows: Iterable[dict[str, Any]],
    *,
    index_elements: Sequence[str],
    update_columns: Sequence[str | tuple[str, str]] | None = None,
    returning: Sequence[Any] | None = None,
    batch_size: int = 500,
) -> list[Any]:
    """INSERT … ON CONFLICT: DO UPDATE the given columns, or DO NOTHING when ``update_columns`` is empty.

    A column name takes the new row's value (``col = excluded.col``); a ``(column, SQL expression)`` pair
    takes the expression, written in SQL both dialects read, e.g. ``("n", "post_tally.n + excluded.n")``
    (a constant of the caller's code: never built from input).

    Rows are deduplicated on ``index_elements`` first (the last row per key wins). All rows must carry the
    same keys; columns left out get their Python-side default, as with SQLAlchemy's insert. With
    ``returning`` the rows actually inserted or updated come back as named tuples, in no particular order
    (with DO NOTHING: only the really new rows — the ingest relies on that).

    This is on every poll's hot path, so it does not go through SQLAlchemy's per-row parameter handling
    (for 100 rows that cost more than the database's own work). It executes one statement per batch in the
    session's transaction (on PostgreSQL through its connection; on SQLite on the driver connection beneath
    it, see :func:`driver_execute`; errors come wrapped as SQLAlchemy's either way) with parameters converted
    per column by the very bind processors SQLAlchemy would use: on SQLite a multi-row ``VALUES`` list, on
    PostgreSQL ``INSERT … SELECT * FROM unnest(<one array per column, in binary format>)``, whose SQL text
    does not grow with the rows (psycopg does not cache its parsing of a long multi-row ``VALUES`` statement:
    measured slower than executemany). Column setups it does not handle (SQL-expression or context-dependent
    defaults, ARRAY columns, other dialects) fall back to SQLAlchemy's own executemany.
    """
    unique_rows = dedupe_rows(rows, index_elements)
    if not unique_rows:
        return []
    connection = session.connection()
    plan = _upsert_plan(connection, model.__table__, tuple(unique_rows[0]), tuple(index_elements),
                        tuple(update_columns or ()), None if returning is None else tuple(returning))
    if plan is None:
        return _upsert_via_sqlalchemy(connection, model, unique_rows, index_elements=index_elements,
                                      update_columns=update_columns, returning=returning, batch_size=batch_size)
    size = max(1, min(batch_size, plan.max_rows))
    results: list[Any] = []
    for start in range(0, len(unique_rows), size):
        statement = plan.statement(unique_rows[start:start + size])
        if plan.sqlite:
            fetched = driver_execute(connection, *statement)
        else:
            result = connection.exec_driver_sql(*statement)
            fetched = result.fetchall() if returning is not None else []
        if returning is not None:
            results.extend(plan.rows(fetched))
    return results


def driver_execute(connection: Connection, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    """SQLite: one statement (``?`` placeholders) on the connection's own driver connection, in its transaction;
    the rows it returns, as the driver gives them (none for a statement without RETURNING).

    For the ingest's hot path, which runs about ten statements a page: SQLAlchemy's execution context costs
    about 28 µs a statement, the driver about 2 µs (measured with ``SELECT 1``). A driver error comes wrapped
    as SQLAlchemy's (an ``sqlalchemy.exc.DBAPIError`` subclass), as ``exec_driver_sql`` would raise it; a file
    database has no connection to lose, so none is invalidated. What it skips with the execution context: the
    engine's cursor events (``before_cursor_execute``…) and ``echo`` logging, for these statements only.
    """
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, params, exc, sqlite3.Error, dialect=connection.dialect) from exc
    finally:
        cursor.close()


_NOTHING = object()


def _max_params(connection) -> int:
    """Bound parameters one statement may carry (SQLite: 32,766 since 3.32 unless built otherwise)."""
    if connection.dialect.name != "sqlite":
        return 65_535
    try:
        return connection.connection.dbapi_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except (AttributeError, sqlite3.Error):  # Python < 3.11 or a wrapped connection
        return 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


class _UpsertPlan:
    """One upsert shape (table, row keys, conflict clause, RETURNING) compiled for one dialect."""

    def __init__(self, dialect, table, keys: tuple[str, ...], defaults: list[tuple[str, Any, bool]],
                 index_elements: tuple[str, ...], update_columns: tuple[str, ...],
                 returning: tuple[Any, ...] | None, *, max_params: int):
        quote = dialect.identifier_preparer.quote
        self.sqlite = dialect.name == "sqlite"
        self.defaults = defaults
        columns = [table.c[k] for k in keys] + [table.c[k] for k, _, _ in defaults]
        self.width = len(columns)
        names = [k for k in keys] + [k for k, _, _ in defaults]
        self.getter = operator.itemgetter(*names) if len(names) > 1 else (lambda row, _k=names[0]: (row[_k],))
        processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
        # with each, what it makes of an empty list for a JSON column (an account's suspicion flags are nearly
        # always none: one serialisation per plan instead of one per row)
        self.processors = [(i, p, p([]) if isinstance(columns[i].type, JSON) else _NOTHING)
                           for i, p in enumerate(processors) if p is not None]
        target = ", ".join(quote(table.c[k].name) for k in index_elements)
        if update_columns:
            action = "DO UPDATE SET " + ", ".join(
                f"{quote(table.c[k[0]].name)} = {k[1]}" if isinstance(k, tuple)
                else f"{quote(table.c[k].name)} = excluded.{quote(table.c[k].name)}" for k in update_columns)
        else:
            action = "DO NOTHING"
        tail = f" ON CONFLICT ({target}) {action}"
        self.row_type, self.result_processors = None, []
        if returning is not None:
            returned = [_column_of(table, r) for r in returning]
            tail += " RETURNING " + ", ".join(quote(c.name) for c in returned)
            self.row_type = collections.namedtuple("UpsertRow", [c.key for c in returned])
            self.result_processors = [(i, p) for i, c in enumerate(returned)
                                      if (p := c.type.dialect_impl(dialect).result_processor(dialect, None))]
        head = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} " \
               f"({', '.join(quote(c.name) for c in columns)})"
        if self.sqlite:
            self.max_rows = max_params // self.width
            self._head, self._tail = head + " VALUES ", tail
            self._group = "(" + ", ".join(["?"] * self.width) + ")"
            self._sql: dict[int, str] = {}
        else:
            self.max_rows = 10_000
            # the types without length / precision: the INSERT's own assignment cast then checks them as a
            # plain INSERT would ("value too long" instead of a silent truncation by an explicit cast)
            casts = [re.sub(r"\([^)]*\)", "", c.type.compile(dialect=dialect)) for c in columns]
            # %b: the arrays go in binary format. psycopg writes a text-format array literal in Python, quoting
            # and escaping element by element with regular expressions: for a page of 100 account rows that cost
            # more than the database's own work (measured 4x slower than binary for a page's arrays)
            self._unnest = f"{head} SELECT * FROM unnest({', '.join(f'%b::{t}[]' for t in casts)}){tail}"

    def _values(self, rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
        getter = self.getter
        try:
            if self.defaults:
                values = [list(getter(_with_defaults(row, self.defaults))) for row in rows]
            else:
                values = [list(getter(row)) for row in rows]
        except KeyError as exc:
            raise ValueError(f"upsert: every row must carry the same keys; one lacks {exc}") from None
        for i, process, empty_list in self.processors:
            last = out = _NOTHING
            for row in values:
                value = row[i]
                if value is not last:  # the very same object as the row before (a page's `now`): same result
                    last = value
                    out = empty_list if empty_list is not _NOTHING and type(value) is list and not value \
                        else process(value)
                row[i] = out
        return values

    def statement(self, rows: Sequence[dict[str, Any]]) -> tuple[str, tuple]:
        values = self._values(rows)
        if self.sqlite:
            sql = self._sql.get(len(rows))
            if sql is None:
                sql = self._sql[len(rows)] = self._head + ", ".join([self._group] * len(rows)) + self._tail
            return sql, tuple(itertools.chain.from_iterable(values))
        return self._unnest, tuple(list(column) for column in zip(*values, strict=True))

    def rows(self, fetched: Sequence[Any]) -> list[Any]:
        make = self.row_type._make
        if not self.result_processors:
            return [make(r) for r in fetched]
        out = []
        for r in fetched:
            r = list(r)
            for i, process in self.result_processors:
                r[i] = process(r[i])
            out.append(make(r))
        return out


def _with_defaults(row: dict[str, Any], defaults: list[tuple[str, Any, bool]]) -> dict[str, Any]:
    row = dict(row)
    for key, arg, is_callable in defaults:
        row[key] = arg(None) if is_callable else arg
    return row


def _column_of(table, item):
    column = item.__clause_element__() if hasattr(item, "__clause_element__") else item
    if getattr(column, "table", None) is not table:
        raise ValueError(f"upsert: RETURNING {item!r} is not a column of {table.name}")
    return column


def _upsert_plan(connection, table, keys, index_elements, update_columns, returning) -> _UpsertPlan | None:
    dialect = connection.dialect
    plans = dialect.__dict__.setdefault("_socap_upsert_plans", {})  # lives as long as the engine's dialect
    key = (table, keys, index_elements, update_columns,
           None if returning is None else tuple(_column_of(table, r).key for r in returning))
    if key in plans:
        return plans[key]
    plan = None
    if dialect.name in ("sqlite", "postgresql") and all(k in table.c for k in keys) \
            and not any(isinstance(c.type, ARRAY) for c in table.columns):  # unnest would flatten them
        defaults: list[tuple[str, Any, bool]] = []
        supported = True
        for column in table.columns:
            default = column.default
            if column.key in keys or default is None:
                continue
            if default.is_scalar:
                defaults.append((column.key, default.arg, False))
            elif default.is_callable and hasattr(default.arg, "__wrapped__"):  # a context-free callable
                defaults.append((column.key, default.arg, True))
            else:
                supported = False
        if supported:
            plan = _UpsertPlan(dialect, table, keys, defaults, index_elements, update_columns, returning,
                               max_params=_max_params(connection))
    plans[key] = plan
    return plan


def _upsert_via_sqlalchemy(connection, model, unique_rows, *, index_elements, update_columns, returning,
                           batch_size) -> list[Any]:
    """SQLAlchemy's executemany (insertmanyvalues, RETURNING included): the general path."""
    insert = sqlite.insert if connection.dialect.name == "sqlite" else postgresql.insert
    table = model.__table__
    stmt = insert(table)
    if update_columns:
        stmt = stmt.on_conflict_do_update(index_elements=list(index_elements),
                                          set_=dict(_assignment(stmt, col) for col in update_columns))
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(index_elements))
    if returning is not None:
        stmt = stmt.returning(*returning)
    results: list[Any] = []
    for start in range(0, len(unique_rows), batch_size):
        result = connection.execute(stmt, unique_rows[start:start + batch_size])
        if returning is not None:
            results.extend(result.all())
    return results


def _assignment(stmt, column: str | tuple[str, str]) -> tuple[str, Any]:
    if isinstance(column, tuple):
        return column[0], literal_column(column[1])
    return column, stmt.excluded[column]


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive ones otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = ensure_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect):
        """On SQLite, one function for what process_bind_param and SQLite's DATETIME string format do in turn
        (every stored instant passes here; the two steps cost several times more). Same text, same rule."""
        impl = self.impl_instance
        if dialect.name == "sqlite" and type(impl) is sqlite.DATETIME \
                and impl._storage_format == sqlite.DATETIME._storage_format:
            return _sqlite_utc_text
        return super().bind_processor(dialect)

    def process_result_value(self, value, dialect):
        return None if value is None else ensure_utc(value)


def _sqlite_utc_text(value):
    """A datetime as SQLite's DATETIME stores it, in UTC: naive values are UTC ("2025-01-06 09:00:00.000000")."""
    if type(value) is not datetime:  # nearly always one; then neither check below is needed
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError("SQLite DateTime type only accepts Python datetime and date objects as input.")
    zone = value.tzinfo
    if zone is not None and zone is not UTC:  # X's times and SOCAP's clock are UTC already
        value = value.astimezone(UTC)
    return _SQLITE_DATETIME % (value.year, value.month, value.day, value.hour, value.minute, value.second,
                               value.microsecond)


_SQLITE_DATETIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"  # sqlite.DATETIME's default storage format
