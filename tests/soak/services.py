"""A private PostgreSQL cluster and a private Redis for the soak test, so it can restart them without touching
the machine's own (5432 / 6379, which other tests use).

PostgreSQL: a Debian cluster (``pg_createcluster VERSION soak -p 5439``, trust auth on 127.0.0.1) created on
first use and started / restarted / stopped with ``pg_ctlcluster``. Redis: ``redis-server --port 6389`` with
nothing kept on disk, so a restart loses every queued message, as a crashed Redis would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

PG_CLUSTER = "soak"
PG_PORT = 5439
REDIS_PORT = 6389
REDIS_DIR = Path("/tmp/socap-soak-redis")
# a throwaway cluster: durability is not what the soak measures (its restarts are clean shutdowns)
PG_OPTIONS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200")


def missing_binaries() -> str | None:
    """Why the services cannot run here, or None."""
    needed = ["pg_ctlcluster", "pg_createcluster", "pg_lsclusters", "redis-server", "redis-cli"]
    absent = [b for b in needed if shutil.which(b) is None]
    if absent:
        return f"the soak test needs {', '.join(absent)} (Debian's postgresql-common and redis-server)"
    if not Path("/etc/postgresql").is_dir() or not os.listdir("/etc/postgresql"):
        return "no PostgreSQL version under /etc/postgresql"
    return None


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def _wait(ready, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


class PrivatePostgres:
    def __init__(self, *, cluster: str = PG_CLUSTER, port: int = PG_PORT):
        self.version = sorted(os.listdir("/etc/postgresql"), key=lambda v: float(v))[-1]
        self.cluster, self.port = cluster, port

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, action: str) -> None:
        result = _run("pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.cluster, action)
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctlcluster {action}: {result.stderr.strip() or result.stdout.strip()}")

    def _exists(self) -> bool:
        return (Path("/etc/postgresql") / self.version / self.cluster).is_dir()

    def _accepts(self) -> bool:
        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def ensure(self) -> str | None:
        """Create (first time) and start the cluster; returns why it cannot, or None."""
        if not self._exists():
            if os.geteuid() != 0:
                return f"creating PostgreSQL cluster {self.version}/{self.cluster} needs root"
            options = [arg for option in PG_OPTIONS for arg in ("-o", option)]
            result = _run("pg_createcluster", "--start-conf=manual", "-p", str(self.port), *options,
                          self.version, self.cluster, "--", "--auth=trust", timeout=120)
            if result.returncode != 0:
                return f"pg_createcluster failed: {result.stderr.strip()[-500:]}"
        if not self._accepts():
            self._ctl("start")
            _wait(self._accepts, f"PostgreSQL {self.version}/{self.cluster}")
        return None

    def recreate_database(self, name: str) -> str:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop (fast: open connections are cut), stay down a while, start again."""
        self._ctl("stop")
        time.sleep(down_seconds)
        self._ctl("start")
        _wait(self._accepts, f"PostgreSQL {self.version}/{self.cluster}")

    def stop(self) -> None:
        if self._exists() and self._accepts():
            self._ctl("stop")


class PrivateRedis:
    def __init__(self, *, port: int = REDIS_PORT):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"

    def _cli(self, *args: str) -> subprocess.CompletedProcess:
        return _run("redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args, timeout=10)

    def _alive(self) -> bool:
        return self._cli("ping").stdout.strip() == "PONG"

    def start(self) -> None:
        if self._alive():
            self._cli("flushall")
            return
        REDIS_DIR.mkdir(parents=True, exist_ok=True)
        result = _run("redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no", "--daemonize", "yes", "--dir", str(REDIS_DIR),
                      "--logfile", str(REDIS_DIR / "redis.log"), "--pidfile", str(REDIS_DIR / "redis.pid"))
        if result.returncode != 0:
            raise RuntimeError(f"redis-server: {result.stderr.strip() or result.stdout.strip()}")
        _wait(self._alive, f"Redis on port {self.port}")

    def stop(self) -> None:
        if self._alive():
            self._cli("shutdown", "nosave")
            _wait(lambda: not self._alive(), f"Redis on port {self.port} to stop")

    def restart(self, down_seconds: float = 0.0) -> None:
        """Shut down without saving (every queued message is gone), stay down a while, start again."""
        self.stop()
        time.sleep(down_seconds)
        self.start()
