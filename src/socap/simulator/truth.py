"""Ground truth as of an instant: what a perfect SOCAP would have recorded by then."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from socap.simulator.world import Tweet, World, x_time

# The spec's category mix counts VCs as investors.
MIX_CATEGORY = {"vc": "investor"}


def _engagement(world: World, event: Tweet) -> dict:
    account = world.accounts[event.author_id]
    return {
        "post_id": event.root_id,
        "action": event.kind,
        "source_tweet_id": event.id,
        "target_tweet_id": event.target_id,
        "account_id": account.id,
        "username": account.username,
        "engaged_at": x_time(event.created_at),
        "text": event.text,
        "direct": event.direct,
        "visible": event.visible,
    }


def truth(world: World, now: datetime) -> dict:
    posts = []
    for post in world.campaign_posts():
        author = world.accounts[post.author_id]
        posts.append(
            {
                "id": post.id,
                "category": post.category,
                "author_id": author.id,
                "author": author.username,
                "url": world.url(post),
                "text": post.text,
                "created_at": x_time(post.created_at),
                "public_metrics": world.public_metrics(post, now),
                "state": world.tweet_state(post, now) if post.created_at <= now else "not_yet_posted",
            }
        )
    events = [e for e in world.all_events(now) if e.root_id is not None]
    engagements = [_engagement(world, e) for e in events]
    counted = [e for e in events if e.direct]
    engaged_ids = list(dict.fromkeys(e.author_id for e in counted))
    per_account = Counter(e.author_id for e in counted)
    # Every author of an engagement row, thread repliers included (their counted engagements may be 0).
    authors = list(dict.fromkeys(e.author_id for e in events))

    def account_row(account_id: str) -> dict:
        a = world.accounts[account_id]
        return {
            "id": a.id,
            "username": a.username,
            "name": a.name,
            "description": a.description,
            "category": a.category,
            "state": a.state,
            "importance": world.importance(a.id),
            "declared_importance": a.declared_importance,
            "is_seed": a.is_seed,
            "engagements": per_account.get(a.id, 0),
        }

    by_action = Counter(e.kind for e in counted)
    mix = Counter(
        MIX_CATEGORY.get(world.accounts[i].category, world.accounts[i].category) for i in engaged_ids
    )
    return {
        "scenario": world.key,
        "seed": world.seed,
        "now": x_time(now),
        "campaign": {
            "name": world.campaign_name,
            "starts_at": x_time(world.start),
            "ends_at": x_time(world.end),
            "threshold": world.threshold,
            "spacing_minutes": world.spacing_minutes,
        },
        "posts": posts,
        "engagements": engagements,
        "accounts": [account_row(i) for i in authors],
        "seeds": [
            {
                "id": s.id,
                "username": s.username,
                "category": s.seed_category,
                "weight": s.seed_weight,
                "following": list(world.following(s.id)),
            }
            for s in world.seeds()
        ],
        "summary": {
            "engagements": len(counted),
            "engagements_by_action": {a: by_action.get(a, 0) for a in ("retweet", "reply", "quote")},
            "visible_engagements": sum(1 for e in counted if e.visible),
            "hidden_engagements": sum(1 for e in counted if not e.visible),
            "thread_replies": sum(1 for e in events if not e.direct),
            "unique_accounts": len(engaged_ids),
            "category_mix": dict(sorted(mix.items())),
            "likes": sum(p["public_metrics"]["like_count"] for p in posts),
            "important_accounts": sorted(
                (
                    {"username": world.accounts[i].username, "importance": world.importance(i)}
                    for i in engaged_ids
                    if world.importance(i) >= world.threshold
                ),
                key=lambda row: (-row["importance"], row["username"]),
            ),
        },
    }
