"""Idempotent ingestion: accounts upserted, engagements inserted ON CONFLICT DO NOTHING … RETURNING.

Only the rows actually inserted count as new; they go on — in the same transaction — to the hooks that
later issues hang here (importance scoring, alert detection). Running the same page twice inserts nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from socap.campaigns.models import Campaign, CampaignTweet
from socap.db import upsert
from socap.importance.accounts import account_row, placeholder_account, upsert_accounts
from socap.monitoring.models import Engagement
from socap.x import Tweet, User


@dataclass(frozen=True)
class NewEngagement:
    id: int
    campaign_id: int
    campaign_tweet_id: int
    account_id: int
    action: str
    source_tweet_id: int
    text: str
    engaged_at: datetime
    run_id: int | None


# hooks(session, campaign, new engagements, now) run inside the ingest transaction
NewEngagementHook = Callable[[Session, Campaign, Sequence[NewEngagement], datetime], None]
NEW_ENGAGEMENT_HOOKS: list[NewEngagementHook] = []


def ingest_engagements(
    session: Session,
    *,
    campaign: Campaign,
    tweet: CampaignTweet,
    action: str,
    posts: Sequence[Tweet],
    users: dict[str, User],
    run_id: int | None,
    now: datetime,
) -> list[NewEngagement]:
    """Store the engagements carried by ``posts`` (retweet, reply or quote posts); return the new ones.

    Posts after the campaign's window are left out: the window is what the report covers.
    """
    profiles: dict[int, dict] = {}
    placeholders: dict[int, dict] = {}
    rows: list[dict] = []
    for post in posts:
        if not post.author_id:
            continue
        engaged_at = post.created_at or post.created_at_from_id
        if engaged_at > campaign.ends_at:
            continue
        user = users.get(post.author_id)
        if user is not None:
            profiles[int(user.id)] = account_row(user, now)
        else:
            placeholders[int(post.author_id)] = placeholder_account(post.author_id, now)
        rows.append({"campaign_id": campaign.id, "campaign_tweet_id": tweet.id, "account_id": int(post.author_id),
                     "action": action, "source_tweet_id": int(post.id),
                     "text": "" if action == "retweet" else post.text, "engaged_at": engaged_at,
                     "detected_at": now, "run_id": run_id})
    if not rows:
        return []
    upsert_accounts(session, profiles.values(), (p for k, p in placeholders.items() if k not in profiles))
    inserted = upsert(session, Engagement, rows, index_elements=["campaign_tweet_id", "action", "source_tweet_id"],
                      returning=[Engagement.id, Engagement.account_id, Engagement.source_tweet_id,
                                 Engagement.text, Engagement.engaged_at])
    if not inserted:
        return []
    session.execute(update(Campaign).where(Campaign.id == campaign.id)
                    .values(data_version=Campaign.data_version + 1))
    new = [NewEngagement(id=r.id, campaign_id=campaign.id, campaign_tweet_id=tweet.id, account_id=r.account_id,
                         action=action, source_tweet_id=r.source_tweet_id, text=r.text, engaged_at=r.engaged_at,
                         run_id=run_id)
           for r in inserted]
    new.sort(key=lambda e: e.source_tweet_id)
    for hook in NEW_ENGAGEMENT_HOOKS:
        hook(session, campaign, new, now)
    return new
