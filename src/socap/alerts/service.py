"""Reading alerts (with their deliveries, secrets masked) and sending a test message."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from socap.alerts import channels
from socap.alerts.masking import mask_url
from socap.alerts.models import Alert, AlertDelivery


def list_alerts(session: Session, *, campaign_id: int) -> list[dict]:
    alerts = session.scalars(select(Alert).where(Alert.campaign_id == campaign_id)
                             .order_by(Alert.scheduled_send_at.is_(None), Alert.scheduled_send_at, Alert.id)).all()
    deliveries: dict[int, list[AlertDelivery]] = {}
    if alerts:
        for d in session.scalars(select(AlertDelivery).where(AlertDelivery.alert_id.in_([a.id for a in alerts]))
                                 .order_by(AlertDelivery.id)):
            deliveries.setdefault(d.alert_id, []).append(d)
    return [{
        "id": a.id, "kind": a.kind, "status": a.status, "importance": a.importance, "message": a.message,
        "run_id": a.run_id,
        "scheduled_send_at": a.scheduled_send_at, "sent_at": a.sent_at, "created_at": a.created_at,
        "deliveries": [{"channel": mask_url(d.channel), "status": d.status, "attempts": d.attempts,
                        "sent_at": d.sent_at, "next_attempt_at": d.next_attempt_at,
                        "last_error": d.last_error, "idempotency_key": d.idempotency_key}
                       for d in deliveries.get(a.id, [])],
    } for a in alerts]


def send_test(url: str) -> None:
    """Raises channels.DeliveryError (or ValueError for an unusable URL) when it does not go out."""
    problem = channels.validate_url(url)
    if problem:
        raise ValueError(problem)
    channels.send(url, title="SOCAP test", body="SOCAP test message: this channel will receive campaign alerts.",
                  idempotency_key="socap-test")
