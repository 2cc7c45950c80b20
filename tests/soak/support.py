"""The soak's process supervisor and gearbox (see test_soak.py)."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from socap.clock import SharedClock

READY = {"worker": "Huey consumer started", "scheduler": "Will assume transactional DDL"}  # log lines


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Processes:
    """The soak's child processes, each logging to its own file; stopped (by pid) at the end."""

    def __init__(self, logs: Path, env: dict):
        self.logs, self.env = logs, env
        self.running: dict[str, subprocess.Popen] = {}
        self.counter = Counter()

    def start(self, role: str, args: list[str]) -> str:
        self.counter[role] += 1
        name = f"{role}-{self.counter[role]}"
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.running[name] = subprocess.Popen(args, env=self.env, cwd=self.logs, stdout=log,
                                              stderr=subprocess.STDOUT, text=True)
        log.close()
        return name

    def ready(self, name: str) -> bool:
        """Started up: a worker's consumer runs, a scheduler has its database (its tick loop follows)."""
        marker = READY[name.split("-")[0]]
        return marker in (self.logs / f"{name}.log").read_text(errors="replace")

    def all_ready(self) -> bool:
        return all(self.ready(name) for name in self.running if name.split("-")[0] in READY)

    def kill(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def dead(self) -> list[str]:
        return [f"{name} (exit {p.returncode})" for name, p in self.running.items() if p.poll() is not None]

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self.running.clear()

    def tails(self, lines: int = 30) -> str:
        out = []
        for log in sorted(self.logs.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()
            out.append(f"--- {log.name} ---\n" + "\n".join(text[-lines:]))
        return "\n".join(out)


def offset(instant: datetime, start: datetime) -> str:
    """A virtual instant as the scenario files write it: D1 H3 M20, or -M12 before the start."""
    minutes = int((instant - start) / timedelta(minutes=1))
    if minutes < 0:
        return f"-M{-minutes}"
    return f"D{minutes // 1440 + 1} H{minutes % 1440 // 60} M{minutes % 60}"


class Gearbox:
    """Keeps virtual time from outrunning a loaded machine: the shared clock runs ``top`` times real time while
    the workers keep up, ``low`` while work piles up (``busy()`` of at least ``down_at``: queued tasks and
    running ones), ``top`` again once it is down to ``up_at``."""

    def __init__(self, clock: SharedClock, busy: Callable[[], int], *, top: float, low: float, down_at: int = 3,
                 up_at: int = 1):
        self.clock, self.busy = clock, busy
        self.top, self.low, self.down_at, self.up_at = top, low, down_at, up_at
        self.speed = clock.speed
        self.low_seconds = 0.0
        self.shifts = 0
        self._since = time.monotonic()

    def start(self) -> None:
        self._shift(self.top)

    def _shift(self, speed: float) -> None:
        now = time.monotonic()
        if self.speed == self.low:
            self.low_seconds += now - self._since
        self._since = now
        if speed != self.speed:
            self.clock.set_speed(speed)
            self.speed = speed
            self.shifts += 1

    def step(self) -> None:
        try:
            busy = self.busy()
        except Exception:  # noqa: BLE001 - Redis or PostgreSQL restarting: keep the gear
            return
        if busy >= self.down_at:
            self._shift(self.low)
        elif busy <= self.up_at:
            self._shift(self.top)
        else:
            self._shift(self.speed)

    def figures(self) -> dict:
        self._shift(self.speed)
        return {"top": self.top, "low": self.low, "low_gear_seconds": round(self.low_seconds, 1),
                "shifts": self.shifts}
