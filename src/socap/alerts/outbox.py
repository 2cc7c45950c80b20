"""The delivery outbox: a tick (every 15 s; on the virtual clock in simulations) claims due deliveries
with a lease, sends them outside any transaction, then marks them sent. A failure is retried with
backoff and stays visible with its last error. A crash between sending and marking costs at most one
duplicate, carrying the same idempotency key; nothing is lost (the lease expires, the delivery is
claimed again). On PostgreSQL the outbox's write transactions run one at a time (see ``_one_at_a_time``)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from socap.alerts import channels
from socap.alerts.models import Alert, AlertDelivery
from socap.alerts.spacing import slot_pending
from socap.campaigns.models import Campaign
from socap.clock import Clock
from socap.db import Database

log = logging.getLogger("socap.alerts")

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
TITLE = "SOCAP alert"
OUTBOX_LOCK = 0x50CA9A1E  # the advisory lock the outbox's write transactions share on PostgreSQL


def _one_at_a_time(session: Session) -> None:
    """Slotting locks alerts, then their deliveries; marking a delivery sent locks it, then its alert; so two
    outboxes (two `socap scheduler` processes) could deadlock, and a marking that loses sends its message
    again once the lease expires. On PostgreSQL each such transaction first takes one transaction-scoped
    advisory lock (they are short: sends happen outside them); SQLite's write transactions are serial anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": OUTBOX_LOCK})


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** (attempts - 1)))


@dataclass(frozen=True)
class Claimed:
    id: int
    alert_id: int
    channel: str
    key: str
    message: str
    campaign: str


def _claim(session: Session, now: datetime, owner: str, limit: int, lease: timedelta) -> list[Claimed]:
    query = (select(AlertDelivery, Alert.message, Campaign.name)
             .join(Alert, Alert.id == AlertDelivery.alert_id).join(Campaign, Campaign.id == Alert.campaign_id)
             .where(AlertDelivery.status == "queued", AlertDelivery.next_attempt_at <= now,
                    Alert.status == "queued", Alert.scheduled_send_at <= now,
                    (AlertDelivery.lease_expires_at.is_(None)) | (AlertDelivery.lease_expires_at <= now))
             .order_by(Alert.scheduled_send_at, Alert.id, AlertDelivery.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=AlertDelivery)
    claimed = []
    for delivery, message, campaign in session.execute(query):
        delivery.lease_owner = owner
        delivery.lease_expires_at = now + lease
        claimed.append(Claimed(delivery.id, delivery.alert_id, delivery.channel, delivery.idempotency_key, message,
                               campaign))
    return claimed


def _settle_alert(session: Session, alert_id: int, now: datetime) -> None:
    """An alert is sent when every delivery is; failed when any failed for good."""
    statuses = dict(session.execute(select(AlertDelivery.status, func.count()).where(
        AlertDelivery.alert_id == alert_id).group_by(AlertDelivery.status)).all())
    alert = session.get(Alert, alert_id)
    if statuses.get("queued"):
        return
    alert.status = "failed" if statuses.get("failed") else "sent"
    alert.sent_at = now


def deliver_due(db: Database, clock: Clock, *, send: Callable[..., None] = channels.send, limit: int = 200,
                lease: timedelta = LEASE) -> int:
    """One outbox tick: slot settled runs' alerts, then send what is due. Returns deliveries sent.

    ``lease`` must outlast the tick's sends on ``clock``: another outbox may claim a delivery once it expires
    (on a fast virtual clock, pass a lease scaled like the job lease)."""
    owner = f"outbox-{uuid.uuid4().hex[:12]}"
    with db.write() as session:
        _one_at_a_time(session)
        now = clock.now()  # read once the lock is ours: another outbox may have sent what was due meanwhile
        slot_pending(session, now=now)
        claimed = _claim(session, now, owner, limit, lease)
    sent = 0
    for item in claimed:
        error = None
        try:
            send(item.channel, title=f"{TITLE} — {item.campaign}", body=item.message,
                 idempotency_key=item.key)
        except Exception as exc:  # noqa: BLE001 - recorded on the delivery, retried with backoff
            error = str(exc)[:1000] if isinstance(exc, channels.DeliveryError) else f"{type(exc).__name__}: {exc}"
            log.warning("alert delivery %s failed: %s", item.id, error)
        done = clock.now()
        with db.write() as session:
            _one_at_a_time(session)
            delivery = session.get(AlertDelivery, item.id)
            if delivery is None or delivery.lease_owner != owner:
                continue  # our lease ran out and someone else has it now
            delivery.lease_owner = None
            delivery.lease_expires_at = None
            delivery.attempts += 1
            if error is None:
                delivery.status = "sent"
                delivery.sent_at = done
                delivery.last_error = None
                sent += 1
            else:
                delivery.last_error = error
                if delivery.attempts >= MAX_ATTEMPTS:
                    delivery.status = "failed"
                else:
                    delivery.next_attempt_at = done + backoff(delivery.attempts)
            _settle_alert(session, item.alert_id, done)
    return sent


def cancel_pending(session: Session, campaign: Campaign, now: datetime) -> int:
    """No alert after a campaign completes: pending ones are cancelled and shown as such."""
    _one_at_a_time(session)
    pending = select(Alert.id).where(Alert.campaign_id == campaign.id, Alert.status == "queued")
    session.execute(update(AlertDelivery).where(AlertDelivery.alert_id.in_(pending), AlertDelivery.status == "queued")
                    .values(status="cancelled", last_error="campaign completed before it was sent",
                            lease_owner=None, lease_expires_at=None))
    result = session.execute(update(Alert).where(Alert.campaign_id == campaign.id, Alert.status == "queued")
                             .values(status="cancelled"))
    return result.rowcount or 0


def next_due(db: Database) -> datetime | None:
    """When the outbox next has something to send (simulation drivers wake then)."""
    with db.session() as session:
        return session.scalar(select(func.min(AlertDelivery.next_attempt_at)).where(
            AlertDelivery.status == "queued", AlertDelivery.next_attempt_at.is_not(None)))
