"""Planner statistics on PostgreSQL when autovacuum is off.

PostgreSQL plans a statement from its tables' statistics, and a prepared statement (psycopg prepares one after
its fifth run on a connection) may keep a generic plan made while the tables were small until their statistics
change. Autovacuum refreshes them as the tables grow; with autovacuum off nothing does, and plans made for
nearly empty tables stay for the connection's life. Measured on the ingest with its production hooks (20,000
engagements in 200 pages on a fresh database, autovacuum off): the two importance look-ups per page went
through account_importance's (workspace_id, score) index and read every row of the workspace (4,000,000 index
entries for 400 look-ups), the roll-ups' campaign_account look-up read every row of the campaign (1,990,000
for 200), and a page took 15 ms in the first quarter of the run and 25-28 ms in the last; with the tables
analyzed 40% of the way in, 11-12 ms in the last two quarters.

So when autovacuum is off, the scheduler does what autovacuum's analyze would have: at most once a minute
(:data:`ANALYZE_EVERY`), it analyzes each table of SOCAP's schema that changed by more than the server's
``autovacuum_analyze_threshold`` + ``autovacuum_analyze_scale_factor`` × its rows since it was last analyzed.
ANALYZE reads a bounded sample, blocks neither reads nor writes, and invalidates the stale plans of every
connection. One scheduler at a time does it (a transaction-level advisory lock); nothing happens on SQLite
(SOCAP gathers no statistics there, so its plans do not depend on the tables' size) or when autovacuum is on.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import text
from sqlalchemy.orm import Session

from socap.db import Database

log = logging.getLogger("socap.db")

ANALYZE_EVERY = 60.0  # seconds (wall time) between two checks by one process, per database
_ADVISORY_KEY = 0x50CA9_57A7  # "socap stat": one scheduler analyzes at a time

# the tables of the current schema autovacuum's analyze would pick, by the server's own thresholds
_STALE = text(
    "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema()"
    " AND n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8"
    " + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(n_live_tup, 0)"
    " ORDER BY relname")

_checked: dict[str, float] = {}
_lock = threading.Lock()


def autovacuum_on(session: Session) -> bool:
    return session.scalar(text("SELECT current_setting('autovacuum')")) == "on"


def describe(session: Session) -> dict:
    """For `socap status`: the database's dialect and, on PostgreSQL, whether autovacuum is on (when it is off,
    the schedulers analyze changed tables themselves: :func:`refresh_if_due`)."""
    dialect = session.get_bind().dialect.name
    return {"dialect": dialect, "autovacuum": autovacuum_on(session) if dialect == "postgresql" else None}


def analyze_stale(session: Session, *, autovacuum: bool | None = None) -> list[str]:
    """ANALYZE the tables whose statistics autovacuum would refresh, if autovacuum is off (``autovacuum``:
    the server's setting unless given); the tables analyzed, none if another session holds the turn."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    if autovacuum is None:
        autovacuum = autovacuum_on(session)
    if autovacuum:
        return []
    if not session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _ADVISORY_KEY}):
        return []
    quote = session.get_bind().dialect.identifier_preparer.quote_identifier
    tables = list(session.scalars(_STALE))
    for table in tables:
        session.execute(text(f"ANALYZE {quote(table)}"))
    return tables


def refresh_if_due(db: Database) -> list[str]:
    """:func:`analyze_stale` on ``db``, at most once per :data:`ANALYZE_EVERY` seconds per process; errors
    are logged, never raised (statistics are an optimisation: the scheduler's tick must go on)."""
    if db.dialect != "postgresql":
        return []
    now = time.monotonic()
    with _lock:
        last = _checked.get(db.url)
        if last is not None and now - last < ANALYZE_EVERY:
            return []
        _checked[db.url] = now
    try:
        with db.session() as session:
            tables = analyze_stale(session)
    except Exception:  # noqa: BLE001 - see the docstring
        log.exception("refreshing planner statistics failed")
        return []
    if tables:
        log.info("autovacuum is off: analyzed %s", ", ".join(tables))
    return tables
