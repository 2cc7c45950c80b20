"""Spacing: the alerts one run found go out spread over the campaign's spacing window, highest importance
first, at ``run_start + i × spacing / N``. A batch slotted after its run started (on a real clock it always
is: its engagement polls run after the metrics poll, and it waits for them) is spread from the instant it is
slotted over what is left of its window: no slot is ever in the past. Spacing is shorter than the poll
interval, so a batch is out before the next run; anything still unsent when the next run's batch is slotted
goes out at once. A run still polling after the settle time finds its alerts in waves: a later wave and its
run's unsent alerts are spread together over what is left of the run's window. Nothing is dropped."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from socap.alerts.models import Alert, AlertDelivery
from socap.campaigns.models import Campaign
from socap.monitoring.models import PollJob, Run


def campaign_busy(session: Session, campaign_id: int, now: datetime) -> bool:
    """Is a poll of this campaign running or due? Then its run may still find more alerts."""
    return session.scalar(select(PollJob.id).where(
        PollJob.campaign_id == campaign_id, PollJob.enabled.is_(True),
        or_(and_(PollJob.lease_owner.is_not(None), PollJob.lease_expires_at > now),
            and_(PollJob.next_run_at <= now, or_(PollJob.blocked_until.is_(None), PollJob.blocked_until <= now))),
    ).limit(1)) is not None


def slot_pending(session: Session, *, now: datetime, settle: timedelta = timedelta(minutes=5)) -> int:
    """Give every unslotted alert its send time, per campaign, once its run has settled."""
    pending = session.execute(select(Alert.campaign_id).where(Alert.status == "queued",
                                                              Alert.scheduled_send_at.is_(None))
                              .distinct()).scalars().all()
    slotted = 0
    for campaign_id in pending:
        alerts = session.scalars(select(Alert).where(Alert.campaign_id == campaign_id, Alert.status == "queued",
                                                     Alert.scheduled_send_at.is_(None))
                                 .order_by(Alert.importance.desc(), Alert.id)).all()
        run_ids = {a.run_id for a in alerts if a.run_id is not None}
        runs = session.scalars(select(Run).where(Run.id.in_(run_ids))).all() if run_ids else []
        run_start = max((r.started_at for r in runs), default=now)
        # wait until the run's polls are done (or long enough), so N counts the whole batch
        if campaign_busy(session, campaign_id, now) and now < run_start + settle:
            continue
        campaign = session.get(Campaign, campaign_id)
        spacing = timedelta(minutes=campaign.alert_spacing_minutes)
        # slots belong to the run's window, from the run's start; but a batch is found and slotted a while after
        # its run started (its engagement polls start at the dispatcher's next tick, a minute after the metrics
        # poll that made them due, and take their own time): it is spread from now over what is left of the
        # window, never given slots already past, which would send its first alerts at once, late and together.
        # A batch found after its window is spread from now over a whole spacing.
        end = run_start + spacing
        base = max(run_start, now)
        step = (end - base) / len(alerts) if end > now else spacing / len(alerts)
        # a run still polling after the settle time finds its alerts in waves: the unsent ones of its earlier
        # waves are spread again with the new ones, highest first, over what is left of the run's window
        # (not sent at once, nor slotted again from the run's start, which would send several at once)
        waiting = [] if not run_ids else session.scalars(select(Alert).where(
            Alert.campaign_id == campaign_id, Alert.status == "queued", Alert.run_id.in_(run_ids),
            Alert.scheduled_send_at > now)).all()
        if waiting:
            alerts = sorted([*alerts, *waiting], key=lambda a: (-a.importance, a.id))
            end = run_start + spacing if run_start + spacing > now else now + spacing
            base, step = now, (end - now) / len(alerts)
        # the previous batch's leftovers go out at once
        waiting_ids = [a.id for a in waiting]
        session.execute(update(AlertDelivery).where(
            AlertDelivery.status == "queued", AlertDelivery.next_attempt_at > now,
            AlertDelivery.alert_id.in_(select(Alert.id).where(Alert.campaign_id == campaign_id,
                                                              Alert.scheduled_send_at.is_not(None),
                                                              Alert.scheduled_send_at > now,
                                                              Alert.id.not_in(waiting_ids))))
            .values(next_attempt_at=now))
        session.execute(update(Alert).where(Alert.campaign_id == campaign_id, Alert.status == "queued",
                                            Alert.scheduled_send_at > now, Alert.id.not_in(waiting_ids))
                        .values(scheduled_send_at=now))
        count = len(alerts)
        for i, alert in enumerate(alerts):
            alert.scheduled_send_at = base + i * step
            session.execute(update(AlertDelivery).where(AlertDelivery.alert_id == alert.id,
                                                        AlertDelivery.status == "queued")
                            .values(next_attempt_at=alert.scheduled_send_at))
        slotted += count
    return slotted
