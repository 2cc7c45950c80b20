"""Running the engine: scheduler and worker loops, in threads (embedded `socap run`) or on their own.

``drive`` is the same machinery stepped synchronously on a ManualClock: tick, drain the queue, jump the
clock to the next instant anything is due. Tests, benchmarks and fast simulations use it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from socap import db_stats
from socap.alerts.outbox import deliver_due, next_due
from socap.clock import ManualClock
from socap.monitoring import dispatcher
from socap.monitoring.dispatcher import TickReport
from socap.queue import TaskQueue, make_huey
from socap.runtime import Runtime, set_current

log = logging.getLogger("socap.engine")
ALERT_STEP = timedelta(seconds=15)  # the outbox tick


def build_queue(rt: Runtime, *, url: str | None = None) -> TaskQueue:
    return TaskQueue(make_huey(url or rt.settings.queue_url))


def run_tick(rt: Runtime, queue: TaskQueue) -> TickReport:
    db_stats.refresh_if_due(rt.db)  # PostgreSQL with autovacuum off: see socap.db_stats
    return dispatcher.tick(rt.db, rt.clock, lease=timedelta(minutes=rt.settings.job_lease_minutes),
                           enqueue=queue.enqueue, limits=rt.settings.x_rate_limits)


def sleep_virtual(clock, seconds: float, stop: threading.Event) -> None:
    """Sleep ``seconds`` of ``clock``'s time (a virtual clock's are shorter), waking early on ``stop``."""
    target = clock.now() + timedelta(seconds=seconds)
    while not stop.is_set() and clock.now() < target:
        remaining = (target - clock.now()).total_seconds() / getattr(clock, "speed", 1.0)
        stop.wait(min(max(remaining, 0.001), 0.5))


def outbox_loop(rt: Runtime, stop: threading.Event, *, lease: timedelta | None = None) -> None:
    """The alert outbox: a tick every SOCAP_ALERT_TICK_SECONDS of the clock (counted from the tick's start)
    until ``stop``, and sooner when a slotted delivery falls due before the next tick (``next_wake``), so an
    alert leaves at its slot rather than up to one tick later. A failed tick (e.g. while the database
    restarts) is retried at the next one."""
    options = {"lease": lease} if lease is not None else {}
    tick = timedelta(seconds=rt.settings.alert_tick_seconds)
    while not stop.is_set():
        began = rt.clock.now()
        wake = began + tick
        try:
            deliver_due(rt.db, rt.clock, **options)
            wake = next_wake(rt, regular=wake)
        except Exception:  # noqa: BLE001 - the next tick retries
            log.exception("alert outbox tick failed")
        sleep_virtual(rt.clock, (wake - rt.clock.now()).total_seconds(), stop)


def next_wake(rt: Runtime, *, regular: datetime) -> datetime:
    """When the outbox ticks next: at ``regular``, or at the earliest queued delivery's slot if that comes
    first. A delivery already due that this tick did not send (another outbox holds its lease, or it waits
    for a retry that is past) does not shorten the wait: the regular tick takes it, never a busy loop."""
    due = next_due(rt.db)
    return due if due is not None and rt.clock.now() < due < regular else regular


class Engine:
    """Scheduler + worker threads in one process (the embedded mode)."""

    def __init__(self, rt: Runtime, *, workers: int | None = None, queue: TaskQueue | None = None,
                 on_tick: Callable[[TickReport], None] | None = None, schedule: bool = True):
        self.rt = rt
        self.queue = queue or build_queue(rt)
        self.workers = workers or rt.settings.worker_threads
        self.on_tick = on_tick
        self.schedule = schedule
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> Engine:
        set_current(self.rt)
        if self.schedule:
            self._threads.append(threading.Thread(target=self._scheduler_loop, name="socap-scheduler", daemon=True))
            self._threads.append(threading.Thread(target=self._outbox_loop, name="socap-outbox", daemon=True))
        for i in range(self.workers):
            self._threads.append(threading.Thread(target=self._worker_loop, name=f"socap-worker-{i}", daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _scheduler_loop(self) -> None:
        interval = self.rt.settings.dispatch_interval_seconds
        while not self._stop.is_set():
            try:
                report = run_tick(self.rt, self.queue)
                if self.on_tick:
                    self.on_tick(report)
            except Exception:  # noqa: BLE001 - a failed tick is retried at the next one
                log.exception("dispatcher tick failed")
            sleep_virtual(self.rt.clock, interval, self._stop)

    def _outbox_loop(self) -> None:
        outbox_loop(self.rt, self._stop)

    def _worker_loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.queue.run_one():
                    self._stop.wait(0.05)
            except Exception:  # noqa: BLE001 - keep the worker alive
                log.exception("worker failed to run a task")
                time.sleep(0.1)


def drive(rt: Runtime, queue: TaskQueue, *, until: datetime, on_tick: Callable[[TickReport], None] | None = None,
          max_step: timedelta = timedelta(minutes=30), min_step: timedelta = timedelta(minutes=1)) -> int:
    """Step a ManualClock-driven runtime to ``until``; returns the number of ticks."""
    clock = rt.clock
    if not isinstance(clock, ManualClock):
        raise TypeError("drive() needs a ManualClock; use Engine for real or virtual time")
    set_current(rt)
    ticks = 0
    while True:
        report = run_tick(rt, queue)
        ticks += 1
        while queue.run_one():
            pass
        deliver_due(rt.db, clock)
        if on_tick:
            on_tick(report)
        now = clock.now()
        if now >= until:
            return ticks
        wake = dispatcher.next_wakeup(rt.db, now)
        alerts_due = next_due(rt.db)
        if alerts_due is not None and (wake is None or alerts_due < wake):
            wake = max(alerts_due, now + ALERT_STEP) if alerts_due <= now else alerts_due
        busy = report.messages or report.activated or report.final_runs or report.completed
        if wake is None:
            step_to = now + max_step
        elif wake <= now:
            step_to = now if busy else now + min_step
        else:
            step_to = min(wake, now + max_step)
        step_to = min(step_to, until)
        if step_to > now:
            clock.set(step_to)
