"""The alert stream for the browser (Server-Sent Events): ``GET /api/v1/alerts/stream`` (every campaign of the
workspace) and ``GET /api/v1/campaigns/{id}/alerts/stream``.

The outbox sends alerts on the app's clock (virtual or manual in simulations and tests); the stream just
watches the ``alert`` table, once a second of real time, with a short session per look (none is held
between polls), and sends one ``alert`` event per alert whose delivery finished (status ``sent``) after the
stream started — or after the ``Last-Event-ID`` the browser sends when it reconnects. The stream's first
block carries its starting position as an ``id`` with no data, which sets the browser's last event id
without firing an event, so even a reconnect before any alert resumes from where the stream began.

Event ids. Alerts go out in slot order (highest importance first within a run, runs one after another), not
in id order, so an alert id is no cursor. The cursor is the pair (``sent_at``, alert id), written
``<sent_at in µs since the Unix epoch>-<alert id>`` (e.g. ``1736157600000000-42``), and every event carries
the highest pair the stream has delivered so far (not necessarily its own: see below). Resuming from it
sends exactly the alerts above that pair, in (``sent_at``, id) order.

``sent_at`` is taken just before the outbox's transaction that records it, so two outbox workers can commit
out of ``sent_at`` order. The stream therefore re-reads a look-back window behind its cursor (one hour of
the app's clock, longer at high virtual speeds) and remembers which alerts of that window it has already
sent: a late commit is still delivered once, and because the event id stays the high-water pair, resuming
from it never repeats the alerts above the late one. (An alert whose commit is late by more than the
window, or that commits below the cursor while the browser is disconnected, is not replayed.)
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from socap.alerts.models import Alert
from socap.auth.service import Principal
from socap.campaigns.models import Campaign
from socap.clock import Clock, ensure_utc, format_instant
from socap.db import Database
from socap.web.deps import ApiUser, RuntimeDep

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
RETRY_MS = 3000
LOOKBACK = timedelta(hours=1)
LOOKBACK_REAL_SECONDS = 30  # at a virtual speed s, the window covers at least this many real seconds
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

@dataclass(frozen=True, order=True)
class Cursor:
    """A position in the stream of sent alerts: ordered by when they were sent, then by id."""

    sent_at: datetime
    alert_id: int

    def event_id(self) -> str:
        return f"{(ensure_utc(self.sent_at) - EPOCH) // timedelta(microseconds=1)}-{self.alert_id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        micros, sep, alert_id = text.strip().partition("-")
        if not sep or not micros.isdigit() or not alert_id.isdigit():
            raise ValueError(f"not an alert stream event id: {text!r} (expected <microseconds>-<alert id>)")
        return cls(EPOCH + timedelta(microseconds=int(micros)), int(alert_id))


def lookback_for(clock: Clock) -> timedelta:
    return max(LOOKBACK, timedelta(seconds=LOOKBACK_REAL_SECONDS * float(getattr(clock, "speed", 1.0))))


@dataclass
class AlertFeed:
    """The sent alerts of a workspace (or one of its campaigns) not yet delivered to this stream."""

    db: Database
    workspace_id: int
    campaign_id: int | None = None
    lookback: timedelta = LOOKBACK
    high: Cursor | None = None  # the highest (sent_at, id) delivered or already known at the start
    floor: datetime | None = None  # alerts sent before this are never looked at again
    known: dict[int, datetime] = field(default_factory=dict)  # alert id → sent_at, within the window

    def _scope(self, query):
        query = query.join(Campaign, Campaign.id == Alert.campaign_id).where(
            Campaign.workspace_id == self.workspace_id, Alert.status == "sent", Alert.sent_at.is_not(None))
        if self.campaign_id is not None:
            query = query.where(Alert.campaign_id == self.campaign_id)
        return query

    def start(self, *, now: datetime, after: Cursor | None) -> None:
        """Everything already sent counts as delivered: up to ``after`` when resuming, else up to now."""
        start = after or Cursor(ensure_utc(now), 0)
        self.floor = start.sent_at - self.lookback
        with self.db.session() as session:
            rows = session.execute(self._scope(select(Alert.id, Alert.sent_at)).where(
                Alert.sent_at >= self.floor)).all()
        for alert_id, sent_at in rows:
            if after is None or Cursor(ensure_utc(sent_at), alert_id) <= after:
                self.known[alert_id] = ensure_utc(sent_at)
        # a fresh stream's position is past everything already sent (whatever the clocks said)
        self.high = after or max([start, *(Cursor(at, i) for i, at in self.known.items())])

    def poll(self) -> list[tuple[str, dict]] | None:
        """New (event id, payload) pairs in send order; None when the watched campaign no longer exists."""
        with self.db.session() as session:
            if self.campaign_id is not None and session.scalar(select(Campaign.id).where(
                    Campaign.id == self.campaign_id, Campaign.workspace_id == self.workspace_id)) is None:
                return None
            rows = session.execute(self._scope(select(Alert.id, Alert.sent_at)).where(
                Alert.sent_at >= self.floor)).all()
            fresh = sorted((Cursor(ensure_utc(sent_at), alert_id) for alert_id, sent_at in rows
                            if alert_id not in self.known))
            if not fresh:
                return []
            details = {row.id: row for row in session.execute(
                select(Alert.id, Alert.kind, Alert.campaign_id, Campaign.name, Alert.message, Alert.importance)
                .join(Campaign, Campaign.id == Alert.campaign_id)
                .where(Alert.id.in_([c.alert_id for c in fresh])))}
        events = []
        for cursor in fresh:
            row = details[cursor.alert_id]
            self.known[cursor.alert_id] = cursor.sent_at
            self.high = max(self.high, cursor)
            events.append((self.high.event_id(), {
                "id": row.id, "kind": row.kind, "campaign_id": row.campaign_id, "campaign_name": row.name,
                "message": row.message, "importance": row.importance, "sent_at": format_instant(cursor.sent_at)}))
        self.floor = max(self.floor, self.high.sent_at - self.lookback)
        self.known = {i: at for i, at in self.known.items() if at >= self.floor}
        return events


def format_event(event_id: str, payload: dict) -> str:
    return f"id: {event_id}\nevent: alert\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n"


_open = 0
_open_lock = threading.Lock()


def open_streams() -> int:
    """How many alert streams this process is serving right now."""
    return _open


def _count(delta: int) -> None:
    global _open
    with _open_lock:
        _open += delta


async def _events(request: Request, feed: AlertFeed) -> AsyncIterator[str]:
    _count(+1)
    try:
        # the position goes out first (an id with no data sets the browser's last event id without an event),
        # so a reconnect after a drop resumes exactly even if no alert came on this connection
        yield f"retry: {RETRY_MS}\nid: {feed.high.event_id()}\n: connected\n\n"
        beat = time.monotonic()
        while True:
            if await request.is_disconnected():
                return
            events = await run_in_threadpool(feed.poll)
            if events is None:
                return  # the campaign was deleted: the browser's reconnect then gets 404 and stops
            for event_id, payload in events:
                yield format_event(event_id, payload)
            if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                yield ": heartbeat\n\n"
                beat = time.monotonic()
            await asyncio.sleep(POLL_SECONDS)
    finally:
        _count(-1)


STREAM_DOC = {200: {"content": {"text/event-stream": {}},
                    "description": "``event: alert`` with JSON {id, kind, campaign_id, campaign_name, message, "
                                   "importance, sent_at}; a comment every 15 s"},
              404: {"description": "no such campaign in your workspace"},
              422: {"description": "malformed Last-Event-ID"}}


async def _stream(request: Request, rt, user: Principal, campaign_id: int | None, last_event_id: str | None,
                  resume: str | None) -> StreamingResponse:
    text = last_event_id or resume
    try:
        after = Cursor.parse(text) if text else None
    except ValueError as exc:
        raise HTTPException(422, {"errors": {"Last-Event-ID": [str(exc)]}}) from None
    feed = AlertFeed(rt.db, workspace_id=user.workspace_id, campaign_id=campaign_id, lookback=lookback_for(rt.clock))

    def start() -> bool:
        if campaign_id is not None:
            with rt.db.session() as session:
                if session.scalar(select(Campaign.id).where(Campaign.id == campaign_id,
                                                            Campaign.workspace_id == user.workspace_id)) is None:
                    return False
        feed.start(now=rt.clock.now(), after=after)
        return True

    if not await run_in_threadpool(start):
        raise HTTPException(404, f"no campaign {campaign_id!r}")
    return StreamingResponse(_events(request, feed), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


LastEventId = Header(default=None, alias="Last-Event-ID", description="resume after this event id")
ResumeQuery = Query(default=None, alias="last_event_id", description="the same as the Last-Event-ID header")


async def workspace_alert_stream(request: Request, user: ApiUser, rt: RuntimeDep,
                                 last_event_id: str | None = LastEventId,
                                 resume: str | None = ResumeQuery) -> StreamingResponse:
    """Alerts of every campaign in your workspace as they are sent (Server-Sent Events)."""
    return await _stream(request, rt, user, None, last_event_id, resume)


async def campaign_alert_stream(campaign_id: int, request: Request, user: ApiUser, rt: RuntimeDep,
                                last_event_id: str | None = LastEventId,
                                resume: str | None = ResumeQuery) -> StreamingResponse:
    """Alerts of one campaign as they are sent (Server-Sent Events); the stream ends if the campaign is deleted."""
    return await _stream(request, rt, user, campaign_id, last_event_id, resume)


def register(router: APIRouter) -> None:
    """Add the two stream routes to the API router (so they share its prefix and its error answers)."""
    router.add_api_route("/alerts/stream", workspace_alert_stream, methods=["GET"],
                         response_class=StreamingResponse, responses=STREAM_DOC)
    router.add_api_route("/campaigns/{campaign_id}/alerts/stream", campaign_alert_stream, methods=["GET"],
                         response_class=StreamingResponse, responses=STREAM_DOC)
