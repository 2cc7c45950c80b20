"""Detection, inside the ingest transaction: a new engagement whose account's importance is at or above
the campaign's threshold, on an active campaign, becomes one alert (unique per engagement) with one
delivery per channel. Its send slot is set later, when the run's alerts are spaced out together."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from socap.alerts.models import Alert, AlertDelivery
from socap.alerts.text import alert_message
from socap.campaigns.models import Campaign, CampaignTweet
from socap.db import upsert
from socap.importance import scoring
from socap.importance import service as importance_service

CONSOLE = "console://"


def channels_for(campaign: Campaign, default_urls: Sequence[str]) -> list[str]:
    """The campaign's notify URLs, else the app-wide default ones; always the console (printed by
    `socap run`) — the browser reads alerts from the database (SSE) and needs no delivery row."""
    urls = list(dict.fromkeys(campaign.notify_urls or default_urls))
    return urls + [CONSOLE]


def idempotency_key(alert_id: int, channel: str, *, identity: str | None = None) -> str:
    """Stable per alert and channel: a receiver seeing it twice (after a crash) drops the duplicate.

    ``identity`` names what the alert is about without any database id (see :func:`alert_identity`): an
    alert made again after a restore from backup — under whatever id the restored sequences hand out next —
    then keeps the key its first copy went out with. Without it the key follows the alert's id."""
    what = identity if identity is not None else str(alert_id)
    return hashlib.sha256(f"socap-alert:{what}:{channel}".encode()).hexdigest()[:32]


def alert_identity(campaign: Campaign, *, what: str) -> str:
    """The campaign by id and creation instant (a reused id is another campaign), and what in it."""
    return f"{campaign.id}@{campaign.created_at.isoformat()}:{what}"


def queue_summary(session: Session, campaign: Campaign, message: str, now: datetime, *,
                  default_urls: Sequence[str] = ()) -> int:
    """The completion summary: one alert of kind "summary", sent at once (not spaced) on every channel."""
    alert = Alert(campaign_id=campaign.id, kind="summary", engagement_id=None, run_id=None, importance=0,
                  message=message, scheduled_send_at=now, status="queued", created_at=now)
    session.add(alert)
    session.flush()
    identity = alert_identity(campaign, what="summary")
    session.add_all([AlertDelivery(alert_id=alert.id, channel=c, status="queued", attempts=0, next_attempt_at=now,
                                   idempotency_key=idempotency_key(alert.id, c, identity=identity))
                     for c in channels_for(campaign, default_urls)])
    return alert.id


def detect(session: Session, campaign: Campaign, engagements: Sequence, now: datetime, *,
           default_urls: Sequence[str] = (), scores: Mapping[int, int] | None = None) -> list[int]:
    """Queue an alert for each engagement whose account scores at least the campaign's threshold. ``scores``:
    the engagers' scores if the caller has them already (the ingest's scoring hook), else read here."""
    if campaign.status != "active" or not engagements:
        return []
    # the scores alone say which engagements fire (few do); the full profiles (evidence, category, the
    # account row) only for those: reading them for every new engager cost more than the rest of the ingest
    if scores is None:
        scores = scoring.scores_of(session, workspace_id=campaign.workspace_id,
                                   account_ids={e.account_id for e in engagements})
    firing = [e for e in engagements if scores[e.account_id] >= campaign.alert_threshold]
    if not firing:
        return []
    profiles = importance_service.profiles(session, workspace_id=campaign.workspace_id,
                                           account_ids={e.account_id for e in firing})
    posts = {t.id: t for t in session.query(CampaignTweet).filter(
        CampaignTweet.id.in_({e.campaign_tweet_id for e in firing}))}
    rows, identities = [], {}
    for e in firing:
        identities[e.id] = alert_identity(
            campaign, what=f"{posts[e.campaign_tweet_id].tweet_id}:{e.action}:{e.source_tweet_id}")
        profile = profiles[e.account_id]
        rows.append({"campaign_id": campaign.id, "engagement_id": e.id, "run_id": e.run_id,
                     "importance": profile.score, "status": "queued", "created_at": now,
                     "message": alert_message(category=profile.category, username=profile.username or str(e.account_id),
                                              importance=profile.score, action=e.action,
                                              post_category=posts[e.campaign_tweet_id].category, text=e.text)})
    created = upsert(session, Alert, rows, index_elements=["engagement_id"], returning=[Alert.id, Alert.engagement_id])
    channels = channels_for(campaign, default_urls)
    deliveries = [{"alert_id": r.id, "channel": c, "status": "queued", "attempts": 0,
                   "idempotency_key": idempotency_key(r.id, c, identity=identities[r.engagement_id])}
                  for r in created for c in channels]
    if deliveries:
        upsert(session, AlertDelivery, deliveries, index_elements=["alert_id", "channel"])
    return [r.id for r in created]
