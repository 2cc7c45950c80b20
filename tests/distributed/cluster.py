"""Real OS processes of one distributed SOCAP deployment, and the workers' task log read back.

``Cluster(env, logs)`` starts each process (``socap web``, ``socap scheduler``, ``socap worker``, the
simulator) with the same environment, its output in ``logs/<name>.log``; ``socap(...)`` runs a one-shot
command; ``stop()`` ends them all (SIGTERM, then SIGKILL). ``task_log(path)`` parses the ``task-start`` /
``task-end`` lines a worker writes for every task (socap.monitoring.worker.TaskTrace).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

SOCAP = str(Path(sys.executable).with_name("socap"))
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path
    stop_signal: int = signal.SIGTERM

    @property
    def pid(self) -> int:
        return self.popen.pid

    def signal(self, sig: int) -> None:
        if self.popen.poll() is None:
            os.kill(self.pid, sig)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Cluster:
    env: dict[str, str]
    logs: Path
    processes: dict[str, Process] = field(default_factory=dict)

    def start(self, name: str, *args: str, stop_signal: int = signal.SIGTERM) -> Process:
        """``start("worker-1", SOCAP, "worker", "--threads", "2")``: a process writing to logs/NAME.log;
        ``stop()`` ends it with ``stop_signal``."""
        log = self.logs / f"{name}.log"
        with log.open("w") as out:
            popen = subprocess.Popen(list(args), env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.processes[name] = Process(name, popen, log, stop_signal)
        return self.processes[name]

    def socap(self, *args: str, stdin: str | None = None, timeout: float = 60) -> str:
        """A one-shot ``socap`` command; its stdout (the command must succeed)."""
        done = subprocess.run([SOCAP, *args], env=self.env, cwd=REPO, input=stdin, capture_output=True, text=True,
                              timeout=timeout)
        assert done.returncode == 0, f"socap {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}"
        return done.stdout

    def wait_for_line(self, name: str, prefix: str, *, contains: str = "", timeout: float = 60) -> str:
        """The first line of NAME's output starting with ``prefix`` and holding ``contains`` (fails if the
        process dies first)."""
        process = self.processes[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in process.output().splitlines():
                if line.startswith(prefix) and contains in line:
                    return line
            assert process.popen.poll() is None, f"{name} exited: {process.output()[-2000:]}"
            time.sleep(0.1)
        raise AssertionError(f"{name} printed no {prefix!r} line in {timeout} s: {process.output()[-2000:]}")

    def assert_running(self) -> None:
        for p in self.processes.values():
            assert p.popen.poll() is None or p.popen.returncode == -signal.SIGKILL, \
                f"{p.name} exited {p.popen.returncode}: {p.output()[-3000:]}"

    def stop(self) -> None:
        for p in self.processes.values():
            p.signal(p.stop_signal)
        deadline = time.monotonic() + 15
        for p in self.processes.values():
            try:
                p.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.popen.kill()
                p.popen.wait(5)


@dataclass(frozen=True)
class Task:
    """One task a worker ran (a ``task-end`` line), or one it was running when it died (``task-start`` only:
    ``finished`` and ``outcome`` are None)."""

    pid: int
    owner: str
    kind: str
    jobs: tuple[int, ...]
    started: float
    first_call: float | None
    last_call: float | None
    calls: int
    finished: float | None
    outcome: str | None


def task_log(path: Path) -> list[Task]:
    started: dict[tuple, dict] = {}
    tasks: list[Task] = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):  # SOCAP_LOG_FORMAT=json: the message is a field of the line's object
            line = json.loads(line).get("message", "")
        for marker in ("task-start ", "task-end "):
            at = line.find(marker)
            if at < 0:
                continue
            row = json.loads(line[at + len(marker):])
            key = (row["pid"], row["thread"], row["owner"], tuple(row["jobs"]), row["started"])
            if marker == "task-start ":
                started[key] = row
            else:
                started.pop(key, None)
                tasks.append(_task(row))
    return tasks + [_task(row) for row in started.values()]


def _task(row: dict) -> Task:
    return Task(pid=row["pid"], owner=row["owner"], kind=row["kind"], jobs=tuple(row["jobs"]), started=row["started"],
                first_call=row["first_call"], last_call=row["last_call"], calls=row["calls"],
                finished=row.get("finished"), outcome=row.get("outcome"))


def overlapping_runs(tasks: list[Task], *, killed: dict[int, float]) -> list[tuple[int, Task, Task]]:
    """(job, earlier, later) for every two tasks of one job that talked to X at the same time.

    A task's span runs from its first X call to its last answer; a task that was running when its worker
    (pid in ``killed``, at that wall time) died spans from its start to the kill. The dispatcher's claim
    comes before a task's first call and the previous holder's release after its last answer, so on a
    correct system these spans never overlap (tasks that made no call talked to X never and are left out)."""
    spans: dict[int, list[tuple[float, float, Task]]] = {}
    for task in tasks:
        if task.finished is None:
            if task.pid not in killed:
                continue  # still running when the logs were read (cannot happen after a clean stop)
            span = (task.started, killed[task.pid])
        elif task.first_call is None:
            continue
        else:
            span = (task.first_call, task.last_call or task.first_call)
        for job in task.jobs:
            spans.setdefault(job, []).append((*span, task))
    found = []
    for job, runs in spans.items():
        runs.sort(key=lambda r: r[0])
        for (_, end, earlier), (start, _, later) in zip(runs, runs[1:], strict=False):
            if start < end:
                found.append((job, earlier, later))
    return found


class Pacer:
    """Drives a SharedClock the cluster's processes read: ``fast`` times real time while the workers keep up,
    ``slow`` while more than ``high`` tasks wait in the queue (until no more than ``low`` do). On a loaded
    machine virtual time then cannot run away from the work — leases do not expire in the queue, the backfill
    is not cut short by the window's end — and on an idle one the window passes quickly."""

    def __init__(self, clock, queue, *, fast: float, slow: float, high: int, low: int):
        self.clock, self.queue = clock, queue
        self.fast, self.slow, self.high, self.low = fast, slow, high, low
        self.gears: list[tuple[float, datetime, float]] = []  # (wall time, virtual instant, speed)
        self.slow_seconds = 0.0

    def gear(self, speed: float, *, at: datetime | None = None) -> None:
        start = self.clock.set_speed(speed, at=at)
        self.gears.append((time.time(), start, speed))

    def step(self) -> None:
        backlog = self.queue.pending_count()
        speed = self.clock.speed
        if speed == self.fast and backlog > self.high:
            self.gear(self.slow)
        elif speed == self.slow and backlog <= self.low:
            self.slow_seconds += time.time() - self.gears[-1][0]
            self.gear(self.fast)

    def virtual(self, wall: float) -> datetime:
        """The virtual instant at Unix time ``wall`` (after the first gear change)."""
        at, start, speed = next(g for g in reversed(self.gears) if g[0] <= wall)
        return start + timedelta(seconds=(wall - at) * speed)
