"""`socap db backup PATH` / `socap db restore PATH`: copies of the app database, taken and put back safely.

SQLite: the backup goes through SQLite's online backup API (one step, inside one read transaction), so it is
a consistent snapshot even while workers write; it is written next to PATH and renamed into place, then
checked (integrity, foreign keys, schema revision) and switched to a self-contained file (no -wal). A
restore copies the pages back through the same API into the live database file — the only safe way with
WAL, where replacing the file under open connections would corrupt it.

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists`` do the work when they are on
PATH (the password goes through PGPASSWORD, never the command line); without them the exact commands are
raised as :class:`ToolMissing` for the CLI to print. pg_dump's snapshot is consistent by design.

Both: a restore refuses, unless forced, a target that holds data or that a worker is using right now (a
lease on a poll job or an alert delivery that has not expired), and a backup whose schema revision this
version does not know (made by a newer SOCAP); an older one is migrated to head after the restore. The task
queue is not part of a backup: the database is the source of truth, and a queue message lost with it costs
one lease expiry.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, column, create_engine, func, inspect, select, table
from sqlalchemy.engine import URL, make_url
from sqlalchemy.schema import DropTable, Table

from socap import migrations
from socap.clock import ensure_utc
from socap.db import normalise_url

PG_DUMP = "pg_dump"
PG_RESTORE = "pg_restore"


class BackupError(Exception):
    """The backup or restore was refused or failed; the message says why and what to do."""


class ToolMissing(BackupError):
    """pg_dump / pg_restore are not installed here: run ``command`` (with ``env``) where they are."""

    def __init__(self, tool: str, command: list[str], env: dict[str, str]):
        self.command, self.env = command, env
        shown = " ".join(f"{k}=<password>" for k in env) + (" " if env else "") + shlex.join(command)
        super().__init__(f"{tool} was not found on PATH; run this where PostgreSQL's client tools are "
                         f"installed:\n  {shown}")


@dataclass
class Result:
    path: Path
    method: str  # "sqlite online backup" | "pg_dump" | "sqlite backup api" | "pg_restore"
    revision: str | None  # the schema revision of the copy
    size_bytes: int = 0
    upgraded_to: str | None = None  # restore: the revision after migrating an older backup
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- what a target holds

def target_state(url: str, *, now: datetime) -> tuple[list[str], list[str]]:
    """(tables holding rows, tables with a lease that has not expired) of the database at ``url``."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            names = [n for n in inspect(conn).get_table_names() if n != "alembic_version"]
            filled, leased = [], []
            for name in names:
                columns = {c["name"] for c in inspect(conn).get_columns(name)}
                if conn.execute(select(func.count()).select_from(table(name))).scalar():
                    filled.append(name)
                if "lease_expires_at" in columns:
                    expiries = conn.execute(select(column("lease_expires_at")).select_from(table(name))
                                            .where(column("lease_expires_at").is_not(None))).scalars()
                    if any(_as_utc(value) > now for value in expiries):
                        leased.append(name)
    finally:
        engine.dispose()
    return filled, leased


def _as_utc(value) -> datetime:
    if isinstance(value, str):  # SQLite hands back text through a bare table()
        value = datetime.fromisoformat(value)
    return ensure_utc(value)


def _refuse_unless_forced(url: str, *, now: datetime, force: bool) -> None:
    filled, leased = target_state(url, now=now)
    if leased:
        problem = (f"the database is in use: a worker holds a lease in {', '.join(sorted(leased))}; stop every "
                   "`socap run` / `socap worker` / `socap scheduler` first")
    elif filled:
        shown = ", ".join(sorted(filled)[:6]) + (", …" if len(filled) > 6 else "")
        problem = f"the database is not empty ({shown} hold rows): everything in it would be replaced"
    else:
        return
    if not force:
        raise BackupError(problem + " (pass --force to restore anyway)")


def _check_revision(revision: str | None) -> None:
    known = {script.revision for script in _scripts().walk_revisions()}
    if revision is None:
        raise BackupError("the backup holds no schema revision (alembic_version): it is not a SOCAP backup")
    if revision not in known:
        raise BackupError(f"the backup is at schema revision {revision}, which this version of SOCAP does not know "
                          f"(it knows up to {_scripts().get_current_head()}): restore it with the SOCAP that made it")


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(migrations.alembic_config("sqlite://"))


def _is_postgres(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "postgresql"


# ---------------------------------------------------------------- entry points

def backup(url: str, path: str | Path, *, force: bool = False) -> Result:
    path = Path(path)
    if path.exists() and not force:
        raise BackupError(f"{path} exists: choose another file or pass --force to overwrite it")
    if _is_postgres(url):
        return _pg_backup(url, path)
    return _sqlite_backup(_sqlite_path(url), path)


def restore(url: str, path: str | Path, *, now: datetime, force: bool = False) -> Result:
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    if _is_postgres(url):
        revision = _pg_dump_revision(path)
        _check_revision(revision)
        _refuse_unless_forced(url, now=now, force=force)
        result = _pg_restore(url, path, revision)
    else:
        revision = _sqlite_revision(path)
        _check_revision(revision)
        target = _sqlite_path(url)
        if target.exists():
            _refuse_unless_forced(url, now=now, force=force)
        result = _sqlite_restore(path, target, revision)
    if revision != _scripts().get_current_head():
        migrations.upgrade(url)
        result.upgraded_to = migrations.current(url)
    return result


# ---------------------------------------------------------------- SQLite

def _sqlite_path(url: str) -> Path:
    database = make_url(normalise_url(url)).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"cannot back up an in-memory or URI SQLite database ({url})")
    return Path(database)


def _sqlite_revision(path: Path) -> str | None:
    try:
        with _sqlite(path, read_only=True) as conn:
            conn.execute("PRAGMA schema_version")  # raises "file is not a database" on anything else
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone() is None:
                return None
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite database: {exc}") from None
    return row[0] if row else None


class _sqlite:
    """A plain sqlite3 connection that is closed (not just committed) at the end of the block."""

    def __init__(self, path: Path, *, read_only: bool = False):
        self.path, self.read_only = path, read_only

    def __enter__(self) -> sqlite3.Connection:
        target = f"file:{self.path}?mode=ro" if self.read_only else str(self.path)
        self.conn = sqlite3.connect(target, uri=self.read_only, timeout=30, isolation_level=None)
        self.conn.execute("PRAGMA busy_timeout=30000")
        return self.conn

    def __exit__(self, *exc) -> None:
        self.conn.close()


def _sqlite_backup(source: Path, path: Path) -> Result:
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    try:
        with _sqlite(source) as src, _sqlite(Path(partial)) as dst:
            src.backup(dst)  # pages=-1: all in one step, i.e. one consistent snapshot of the source
            dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            problems = dst.execute("PRAGMA integrity_check").fetchall()
            if problems != [("ok",)]:
                raise BackupError(f"the copy failed its integrity check: {problems[:3]}")
            if dst.execute("PRAGMA foreign_key_check").fetchone() is not None:
                raise BackupError("the copy has rows pointing at missing rows (foreign key check)")
        revision = _sqlite_revision(Path(partial))
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)
    return Result(path, "sqlite online backup", revision, path.stat().st_size)


def _sqlite_restore(path: Path, target: Path, revision: str | None) -> Result:
    target.parent.mkdir(parents=True, exist_ok=True)
    with _sqlite(path, read_only=True) as src, _sqlite(target) as dst:
        src.backup(dst)  # writes every page through SQLite: open connections see the restored database
        dst.execute("PRAGMA journal_mode=WAL")
        problems = dst.execute("PRAGMA integrity_check").fetchall()
        if problems != [("ok",)]:
            raise BackupError(f"the restored database failed its integrity check: {problems[:3]}")
    return Result(path, "sqlite backup api", revision, path.stat().st_size)


# ---------------------------------------------------------------- PostgreSQL

def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment that carries it."""
    parsed: URL = make_url(normalise_url(url))
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    plain = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                       database=parsed.database, query=parsed.query)
    return plain.render_as_string(hide_password=False), env


def pg_dump_command(url: str, path: Path) -> tuple[list[str], dict[str, str]]:
    uri, env = _libpq(url)
    return [PG_DUMP, "--format=custom", "--no-owner", "--no-privileges", f"--file={path}", uri], env


def pg_restore_command(url: str, path: Path) -> tuple[list[str], dict[str, str]]:
    uri, env = _libpq(url)
    return [PG_RESTORE, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
            "--exit-on-error", f"--dbname={uri}", str(path)], env


def _run(tool: str, command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise ToolMissing(tool, command, env)
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


def _pg_backup(url: str, path: Path) -> Result:
    path.parent.mkdir(parents=True, exist_ok=True)
    if shutil.which(PG_DUMP) is None:
        raise ToolMissing(PG_DUMP, *pg_dump_command(url, path))
    partial = path.with_name(f".{path.name}.partial")
    try:
        _run(PG_DUMP, *pg_dump_command(url, partial))
        os.chmod(partial, 0o600)  # the dump holds notification URLs and password hashes
        revision = _pg_dump_revision(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return Result(path, "pg_dump", revision, path.stat().st_size)


def _pg_dump_revision(path: Path) -> str | None:
    """The schema revision inside a custom-format dump (the data of its alembic_version table)."""
    command = [PG_RESTORE, "--data-only", "--table=alembic_version", "--file=-", str(path)]
    if shutil.which(PG_RESTORE) is None:
        raise ToolMissing(PG_RESTORE, command, {})
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise BackupError(f"{path} is not a pg_dump custom-format file: {done.stderr.strip()[-500:]}")
    lines = done.stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and i + 1 < len(lines):
            value = lines[i + 1].strip()
            return None if value == "\\." else value
    return None


def _pg_dump_tables(path: Path) -> set[str]:
    """The tables a custom-format dump creates (its table of contents: "… TABLE public name owner")."""
    done = subprocess.run([PG_RESTORE, "--list", str(path)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise BackupError(f"cannot read the contents of {path}: {done.stderr.strip()[-500:]}")
    tables = set()
    for line in done.stdout.splitlines():
        words = line.split()
        if not line.startswith(";") and "TABLE" in words:
            i = words.index("TABLE")
            if i + 2 < len(words) and words[i + 1] != "DATA":
                tables.add(words[i + 2])
    return tables


def _pg_restore(url: str, path: Path, revision: str | None) -> Result:
    command, env = pg_restore_command(url, path)
    if shutil.which(PG_RESTORE) is None:
        raise ToolMissing(PG_RESTORE, command, env)
    # tables of a newer schema than the backup's would block --clean (their foreign keys hold the old tables);
    # they are dropped first and the migrations after the restore build them again
    newer = _drop_tables_missing_from(url, _pg_dump_tables(path))
    _run(PG_RESTORE, command, env)
    notes = [f"dropped {', '.join(sorted(newer))} (not in the backup; rebuilt by the migrations)"] if newer else []
    return Result(path, "pg_restore", revision, path.stat().st_size, notes=notes)


def _drop_tables_missing_from(url: str, keep: set[str]) -> set[str]:
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as conn:
            extra = set(inspect(conn).get_table_names()) - keep
            ordered = [name for name, _ in inspect(conn).get_sorted_table_and_fkc_names() if name in extra]
            for name in reversed(ordered):  # referencing tables first
                conn.execute(DropTable(Table(name, MetaData())))
    finally:
        engine.dispose()
    return extra
