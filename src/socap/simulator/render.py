"""X API v2 shapes: field selection, tweet/user objects, ``includes``, and error bodies."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from socap.simulator.world import Account, Tweet, World, x_time

PROBLEMS = "https://api.twitter.com/2/problems/"
NOT_FOUND = PROBLEMS + "resource-not-found"
NOT_AUTHORIZED = PROBLEMS + "not-authorized-for-resource"
INVALID_REQUEST = PROBLEMS + "invalid-request"
ID_PATTERN = re.compile(r"^[0-9]{1,19}$")
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,15}$")

TWEET_FIELDS = frozenset(
    "article attachments author_id card_uri community_id context_annotations conversation_id created_at "
    "display_text_range edit_controls edit_history_tweet_ids entities geo id in_reply_to_user_id lang "
    "matched_media_notes media_metadata non_public_metrics note_request_suggestions note_tweet "
    "organic_metrics possibly_sensitive promoted_metrics public_metrics referenced_tweets reply_settings "
    "scopes source "
    "suggested_source_links suggested_source_links_with_counts text withheld".split()
)
USER_FIELDS = frozenset(
    "affiliation confirmed_email connection_status created_at description entities id is_identity_verified "
    "location most_recent_tweet_id name parody pinned_tweet_id profile_banner_url profile_image_url "
    "protected public_metrics receives_your_dm subscription subscription_type url username verified "
    "verified_followers_count verified_type withheld".split()
)
TWEET_EXPANSIONS = frozenset(
    "article.cover_media article.media_entities attachments.media_keys attachments.media_source_tweet "
    "attachments.poll_ids author_id edit_history_tweet_ids entities.mentions.username geo.place_id "
    "in_reply_to_user_id entities.note.mentions.username referenced_tweets.id "
    "referenced_tweets.id.attachments.media_keys referenced_tweets.id.author_id".split()
)
USER_EXPANSIONS = frozenset("affiliation.user_id most_recent_tweet_id pinned_tweet_id".split())
OTHER_FIELD_PARAMS = ("media.fields", "poll.fields", "place.fields")


class ApiError(Exception):
    """An error answered as a whole response (400, 401, 404…)."""

    def __init__(self, status: int, body: dict):
        super().__init__(body.get("detail") or body.get("title"))
        self.status, self.body = status, body


def invalid_request(parameter: str, values: list[str], message: str) -> ApiError:
    return ApiError(
        400,
        {
            "errors": [{"parameters": {parameter: values}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": INVALID_REQUEST,
        },
    )


def problem(status: int, title: str, detail: str | None = None, type_: str = "about:blank", **extra) -> dict:
    return {"title": title, "detail": detail or title, "type": type_, "status": status, **extra}


def csv_param(query, name: str) -> list[str]:
    raw = query.get(name)
    if raw is None:
        return []
    return [part.strip() for part in raw.split(",") if part.strip()]


def parse_choice(query, name: str, allowed: frozenset[str]) -> set[str]:
    values = csv_param(query, name)
    if name in query and not values:
        raise invalid_request(name, [""], f"The `{name}` query parameter can not be empty")
    for value in values:
        if value not in allowed:
            raise invalid_request(
                name,
                [value],
                f"The `{name}` query parameter value [{value}] is not one of [{','.join(sorted(allowed))}]",
            )
    return set(values)


def parse_ids(query, name: str, *, max_items: int = 100, pattern: re.Pattern = ID_PATTERN) -> list[str]:
    values = csv_param(query, name)
    if not values:
        raise invalid_request(name, [query.get(name, "")], f"The `{name}` query parameter can not be empty")
    if len(values) > max_items:
        raise invalid_request(
            name,
            [query.get(name)],
            f"The number of values in the `{name}` query parameter "
            f"list [{len(values)}] is not between 1 and {max_items}",
        )
    for value in values:
        if not pattern.match(value):
            raise invalid_request(
                name,
                [value],
                f"The `{name}` query parameter value [{value}] does not match {pattern.pattern}",
            )
    return list(dict.fromkeys(values))


def parse_int(query, name: str, *, low: int, high: int, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise invalid_request(
            name, [raw], f"The `{name}` query parameter value [{raw}] is not between {low} and {high}"
        )
    return value


class Fields:
    """The fields and expansions asked for in one request."""

    def __init__(self, query, *, tweet_expansions: bool = True):
        self.tweet = parse_choice(query, "tweet.fields", TWEET_FIELDS)
        self.user = parse_choice(query, "user.fields", USER_FIELDS)
        self.expansions = parse_choice(
            query, "expansions", TWEET_EXPANSIONS if tweet_expansions else USER_EXPANSIONS
        )
        for name in OTHER_FIELD_PARAMS:  # accepted, nothing in this world has media, polls or places
            csv_param(query, name)
        # X adds the field an expansion hangs on to the primary objects even when not asked for.
        implied = {
            "author_id": "author_id",
            "in_reply_to_user_id": "in_reply_to_user_id",
            "referenced_tweets.id": "referenced_tweets",
            "referenced_tweets.id.author_id": "referenced_tweets",
        }
        if tweet_expansions:
            self.tweet |= {implied[e] for e in self.expansions if e in implied}


def render_tweet(world: World, tweet: Tweet, now: datetime, fields: set[str]) -> dict:
    out: dict = {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}
    if "author_id" in fields:
        out["author_id"] = tweet.author_id
    if "created_at" in fields:
        out["created_at"] = x_time(tweet.created_at)
    if "conversation_id" in fields:
        out["conversation_id"] = tweet.conversation_id or tweet.id
    if "public_metrics" in fields:
        out["public_metrics"] = world.public_metrics(tweet, now)
    if "referenced_tweets" in fields and tweet.referenced_tweets():
        out["referenced_tweets"] = tweet.referenced_tweets()
    if "in_reply_to_user_id" in fields and tweet.in_reply_to_user_id:
        out["in_reply_to_user_id"] = tweet.in_reply_to_user_id
    if "lang" in fields:
        out["lang"] = "en"
    if "possibly_sensitive" in fields:
        out["possibly_sensitive"] = False
    if "reply_settings" in fields:
        out["reply_settings"] = "everyone"
    if "edit_controls" in fields:
        out["edit_controls"] = {
            "edits_remaining": 5 if tweet.kind != "retweet" else 0,
            "is_edit_eligible": tweet.kind != "retweet",
            "editable_until": x_time(tweet.created_at + timedelta(hours=1)),
        }
    return out


def render_user(account: Account, fields: set[str]) -> dict:
    out: dict = {"id": account.id, "name": account.name, "username": account.username}
    if "created_at" in fields:
        out["created_at"] = x_time(account.created_at)
    if "description" in fields:
        out["description"] = account.description
    if "public_metrics" in fields:
        out["public_metrics"] = {
            "followers_count": account.followers_count,
            "following_count": account.following_count,
            "tweet_count": account.tweet_count,
            "listed_count": account.listed_count,
            "like_count": account.like_count,
        }
    if "profile_image_url" in fields:
        out["profile_image_url"] = account.profile_image_url
    if "protected" in fields:
        out["protected"] = account.state == "protected"
    if "verified" in fields:
        out["verified"] = account.verified_type != "none"
    if "verified_type" in fields:
        out["verified_type"] = account.verified_type
    if "location" in fields and account.location:
        out["location"] = account.location
    if "url" in fields:
        out["url"] = account.url
    return out


def tweet_includes(world: World, tweets: Iterable[Tweet], now: datetime, f: Fields) -> dict:
    """``includes`` for a list of posts: authors, referenced posts and their authors, as expanded."""
    tweets = list(tweets)
    user_ids: list[str] = []
    included: dict[str, Tweet] = {}
    if "referenced_tweets.id" in f.expansions or "referenced_tweets.id.author_id" in f.expansions:
        for tweet in tweets:
            ref = world.tweet(tweet.target_id, now) if tweet.target_id else None
            if ref is not None and world.tweet_state(ref, now) == "active":
                included.setdefault(ref.id, ref)
    for tweet in tweets:
        if "author_id" in f.expansions:
            user_ids.append(tweet.author_id)
        if "in_reply_to_user_id" in f.expansions and tweet.in_reply_to_user_id:
            user_ids.append(tweet.in_reply_to_user_id)
    if "referenced_tweets.id.author_id" in f.expansions:
        user_ids += [t.author_id for t in included.values()]
    out: dict = {}
    users = [world.accounts[i] for i in dict.fromkeys(user_ids)]
    users = [u for u in users if u.state != "suspended"]
    if users:
        out["users"] = [render_user(u, f.user) for u in users]
    if included and "referenced_tweets.id" in f.expansions:
        out["tweets"] = [render_tweet(world, t, now, f.tweet) for t in included.values()]
    return out


def tweet_error(tweet_id: str, state: str, parameter: str) -> dict:
    noun = "ids" if parameter == "ids" else "id"
    if state == "protected":
        return {
            "value": tweet_id,
            "detail": f"Sorry, you are not authorized to see the Tweet with {noun}: [{tweet_id}].",
            "title": "Authorization Error",
            "resource_type": "tweet",
            "parameter": parameter,
            "resource_id": tweet_id,
            "section": "data",
            "type": NOT_AUTHORIZED,
        }
    return {
        "value": tweet_id,
        "detail": f"Could not find tweet with {noun}: [{tweet_id}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": parameter,
        "resource_id": tweet_id,
        "type": NOT_FOUND,
    }


def user_error(value: str, state: str, parameter: str) -> dict:
    if state == "suspended":
        return {
            "value": value,
            "detail": f"User has been suspended: [{value}].",
            "title": "Forbidden",
            "resource_type": "user",
            "parameter": parameter,
            "resource_id": value,
            "type": NOT_FOUND,
        }
    if state == "protected":
        return {
            "value": value,
            "detail": f"Sorry, you are not authorized to see the User with {parameter}: [{value}].",
            "title": "Authorization Error",
            "resource_type": "user",
            "parameter": parameter,
            "resource_id": value,
            "section": "data",
            "type": NOT_AUTHORIZED,
        }
    return {
        "value": value,
        "detail": f"Could not find user with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": "user",
        "parameter": parameter,
        "resource_id": value,
        "type": NOT_FOUND,
    }
