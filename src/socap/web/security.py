"""Security headers on every response, and a sign-in rate limit."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Scripts and styles only from this origin: no inline script runs, so an escaped-but-mistaken string can
# never execute. Plotly sets element styles from JS, hence 'unsafe-inline' for style attributes only.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")

HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"same-origin",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=()",
    b"cross-origin-opener-policy": b"same-origin",
}


def security_headers(path: str, *, present: set[bytes] = frozenset(), hsts: bool = False) -> list[tuple[bytes, bytes]]:
    """The headers every response gets (those it does not set itself). Every response but the static files
    is ``no-store``: pages and API answers hold a workspace's data, which no cache should keep."""
    extra = [(k, v) for k, v in HEADERS.items() if k not in present]
    if hsts:
        extra.append((b"strict-transport-security", b"max-age=31536000"))
    if not path.startswith("/static/") and b"cache-control" not in present:
        extra.append((b"cache-control", b"no-store"))
    return extra


class SecurityHeaders:
    """Pure ASGI middleware (it does not buffer streaming responses such as the alert stream). Unhandled
    errors are answered outside every middleware: the app's 500 handler adds :func:`security_headers`
    itself."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False):
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                message["headers"] = headers + security_headers(scope["path"], present=present, hsts=self.hsts)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LoginLimiter:
    """At most ``limit`` failed sign-ins per client address and per e-mail within ``window`` seconds.

    Time comes from ``now`` (the app's clock, so tests move it). A success forgets the e-mail's failures
    only: a guesser holding one valid account of their own cannot wipe their address's count with it. Keys
    whose failures have all aged out are dropped, so guessing random e-mails does not grow memory."""

    def __init__(self, limit: int = 10, window: float = 900.0, *, now: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.now = limit, window, now
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._swept = now()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.get(key) or deque()
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def _sweep(self, now: float) -> None:
        if now - self._swept < self.window:
            return
        self._swept = now
        for key in [k for k, q in self._failures.items() if not q or q[-1] <= now - self.window]:
            del self._failures[key]

    def retry_after(self, *keys: str) -> int:
        """Seconds until another attempt is allowed (0 = allowed now)."""
        now = self.now()
        with self._lock:
            waits = [max(1, math.ceil(q[0] + self.window - now)) for k in keys
                     if len(q := self._recent(k, now)) >= self.limit]
        return max(waits, default=0)

    def failed(self, *keys: str) -> None:
        now = self.now()
        with self._lock:
            self._sweep(now)
            for k in keys:
                self._failures[k] = self._recent(k, now)
                self._failures[k].append(now)

    def succeeded(self, email_key: str) -> None:
        with self._lock:
            self._failures.pop(email_key, None)

    def tracked(self) -> int:
        """How many addresses and e-mails have failures on record."""
        return len(self._failures)
