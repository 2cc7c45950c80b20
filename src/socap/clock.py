"""Clocks: every component asks a Clock for "now".

A VirtualClock is fully described by (virtual origin, real origin, speed), so separate processes
(simulator, schedulers, workers, web) agree on the same virtual now without talking to each other.
Its spec string travels through configuration (``SOCAP_CLOCK``).

Spec strings understood by :func:`parse_clock`:

- ``system``
- ``virtual:2025-01-06T09:00:00Z``                     virtual origin, speed 1, real origin = now
- ``virtual:2025-01-06T09:00:00Z*60``                  speed 60 (one real second = one virtual minute)
- ``virtual:2025-01-06T09:00:00Z*60@1764330000.5``     with an explicit real origin (Unix seconds)
- ``shared:/path/clock.json``                          a SharedClock: a virtual clock whose speed one process
                                                       changes while the others run (a test pacing them)
- ``manual:2025-01-06T09:00:00Z``                      a ManualClock for tests (advances only when told)
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC (that is how SQLite hands them back)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return ensure_utc(datetime.fromisoformat(text))


def format_instant(value: datetime) -> str:
    return ensure_utc(value).isoformat().replace("+00:00", "Z")


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""

    def spec(self) -> str:
        """A string that :func:`parse_clock` turns back into an equivalent clock."""


class SystemClock:
    def now(self) -> datetime:
        return utcnow()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def spec(self) -> str:
        return "system"

    def __repr__(self) -> str:
        return "SystemClock()"


class VirtualClock:
    """Virtual time that runs ``speed`` times faster than real time from a shared origin."""

    def __init__(self, virtual_origin: datetime, *, speed: float = 1.0, real_origin: float | None = None):
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self.virtual_origin = ensure_utc(virtual_origin)
        self.speed = float(speed)
        self.real_origin = time.time() if real_origin is None else float(real_origin)

    def now(self) -> datetime:
        elapsed = (time.time() - self.real_origin) * self.speed
        return self.virtual_origin + timedelta(seconds=elapsed)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)

    def real_seconds_until(self, instant: datetime) -> float:
        return max(0.0, (ensure_utc(instant) - self.now()).total_seconds() / self.speed)

    def spec(self) -> str:
        return f"virtual:{format_instant(self.virtual_origin)}*{self.speed:g}@{self.real_origin:.6f}"

    def __repr__(self) -> str:
        return f"VirtualClock({self.spec()!r})"


class SharedClock(VirtualClock):
    """A virtual clock whose gear one process changes while other processes read it.

    Its state — virtual origin, real origin, speed, as for a VirtualClock — is a small JSON file; every reader
    re-reads it when the file changes (a writer replaces it atomically), so separate processes agree on "now"
    as with a VirtualClock, and a driver (the distributed test) can slow everything down while work catches
    up and speed it up again. A new gear starts from the instant it is set: time never goes back.
    """

    def __init__(self, path: str | os.PathLike):
        # no VirtualClock.__init__: its origin and speed are properties over the file's state
        self.path = os.fspath(path)
        self._stamp: tuple[int, int] | None = None
        self._state: tuple[datetime, float, float] = self._read()

    @classmethod
    def create(cls, path: str | os.PathLike, virtual_origin: datetime, *, speed: float = 1.0) -> SharedClock:
        cls._write(os.fspath(path), ensure_utc(virtual_origin), time.time(), speed)
        return cls(path)

    @staticmethod
    def _write(path: str, virtual_origin: datetime, real_origin: float, speed: float) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        body = {"virtual_origin": format_instant(virtual_origin), "real_origin": real_origin, "speed": speed}
        partial = f"{path}.{os.getpid()}.tmp"
        with open(partial, "w") as out:
            json.dump(body, out)
        os.replace(partial, path)  # readers see the old state or the new one, never half of it

    def _read(self) -> tuple[datetime, float, float]:
        try:
            with open(self.path) as source:
                body = json.load(source)
            return parse_instant(body["virtual_origin"]), float(body["real_origin"]), float(body["speed"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"shared clock file {self.path!r} is missing or unreadable: {exc}") from exc

    def _current(self) -> tuple[datetime, float, float]:
        try:
            info = os.stat(self.path)
            stamp = (info.st_ino, info.st_mtime_ns)
            if stamp != self._stamp:
                self._state, self._stamp = self._read(), stamp
        except (OSError, ValueError):
            pass  # a reader keeps the last state it saw
        return self._state

    virtual_origin = property(lambda self: self._current()[0])
    real_origin = property(lambda self: self._current()[1])
    speed = property(lambda self: self._current()[2])

    def now(self) -> datetime:
        origin, real_origin, speed = self._current()
        return origin + timedelta(seconds=(time.time() - real_origin) * speed)

    def set_speed(self, speed: float, *, at: datetime | None = None) -> datetime:
        """From ``at`` (default: now; never earlier than now) the clock runs ``speed`` times real time."""
        now = self.now()
        start = now if at is None else ensure_utc(at)
        if start < now:
            raise ValueError("a clock never goes backwards")
        self._write(self.path, start, time.time(), speed)
        return start

    def sleep(self, seconds: float) -> None:
        target = self.now() + timedelta(seconds=seconds)
        while (left := (target - self.now()).total_seconds()) > 0:
            time.sleep(min(0.1, left / self.speed))  # a new gear applies within a tenth of a second

    def spec(self) -> str:
        return f"shared:{self.path}"

    def __repr__(self) -> str:
        return f"SharedClock({self.path!r})"


class ManualClock:
    """A clock that moves only when told: deterministic tests share one between SOCAP and the simulator.

    ``sleep`` advances the clock (a single-threaded test never blocks on it).
    """

    def __init__(self, start: datetime):
        self._now = ensure_utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def advance(self, delta: float | timedelta) -> datetime:
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        if delta < timedelta(0):
            raise ValueError("a clock never goes backwards")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, instant: datetime) -> datetime:
        instant = ensure_utc(instant)
        with self._lock:
            if instant < self._now:
                raise ValueError("a clock never goes backwards")
            self._now = instant
            return self._now

    def spec(self) -> str:
        return f"manual:{format_instant(self.now())}"

    def __repr__(self) -> str:
        return f"ManualClock({format_instant(self.now())!r})"


def parse_clock(spec: str | None) -> Clock:
    """Build a clock from its spec string; raises ValueError with the offending text on bad input."""
    if spec is None or spec.strip() in ("", "system"):
        return SystemClock()
    text = spec.strip()
    kind, sep, rest = text.partition(":")
    if not sep:
        raise ValueError(f"unknown clock spec {spec!r}: expected 'system', 'virtual:ISO[*SPEED][@REAL]', "
                         "'shared:PATH' or 'manual:ISO'")
    try:
        if kind == "manual":
            return ManualClock(parse_instant(rest))
        if kind == "shared":
            return SharedClock(rest)
        if kind == "virtual":
            real_origin: float | None = None
            speed = 1.0
            if "@" in rest:
                rest, real_text = rest.rsplit("@", 1)
                real_origin = float(real_text)
            if "*" in rest:
                rest, speed_text = rest.rsplit("*", 1)
                speed = float(speed_text)
            return VirtualClock(parse_instant(rest), speed=speed, real_origin=real_origin)
    except ValueError as exc:
        raise ValueError(f"bad clock spec {spec!r}: {exc}") from exc
    raise ValueError(f"unknown clock kind {kind!r} in {spec!r}: expected 'system', 'virtual', 'shared' or 'manual'")
