"""Validate real simulator responses against X's official OpenAPI spec (200 schemas, $refs resolved)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

SPEC_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "x-api" / "openapi-v2.164.json"
BASE = "urn:x-openapi-v2"
FULL_TWEET = (
    "created_at,author_id,conversation_id,public_metrics,referenced_tweets,in_reply_to_user_id,lang,"
    "possibly_sensitive,reply_settings,edit_controls"
)
FULL_USER = (
    "created_at,description,public_metrics,profile_image_url,protected,verified,verified_type,url,location"
)


@pytest.fixture(scope="module")
def spec() -> dict:
    if not SPEC_PATH.exists():
        pytest.skip(f"X's OpenAPI spec not found at {SPEC_PATH} (it lives outside the repo)")
    return json.loads(SPEC_PATH.read_text())


@pytest.fixture(scope="module")
def registry(spec) -> Registry:
    return Registry().with_resource(BASE, DRAFT7.create_resource(spec))


def validator_for(spec: dict, registry: Registry, path: str) -> Draft7Validator:
    ref = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    return Draft7Validator({"$ref": BASE + ref}, registry=registry)


def properties(spec: dict, name: str) -> set[str]:
    return set(spec["components"]["schemas"][name]["properties"])


def assert_valid(spec, registry, path: str, body: dict) -> None:
    errors = sorted(validator_for(spec, registry, path).iter_errors(body), key=lambda e: e.path)
    assert not errors, f"{path}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    # Stricter than the spec (which allows extra keys): every key we send must be one the spec declares.
    tweet_keys, user_keys = properties(spec, "Tweet"), properties(spec, "User")
    data = body.get("data")
    items = [data] if isinstance(data, dict) else data or []
    is_user = path.startswith("/2/users") or path.endswith(("retweeted_by", "liking_users"))
    for item in items:
        assert set(item) <= (user_keys if is_user else tweet_keys), set(item) - (user_keys | tweet_keys)
    for tweet in body.get("includes", {}).get("tweets", []) + ([] if is_user else items):
        metrics = spec["components"]["schemas"]["Tweet"]["properties"]["public_metrics"]["properties"]
        assert set(tweet.get("public_metrics", {})) <= set(metrics)
    for user in body.get("includes", {}).get("users", []) + (items if is_user else []):
        assert set(user) <= user_keys


def test_responses_conform(serve, world1, spec, registry):
    api = serve(world1, at=world1.start + timedelta(hours=40))
    main, influencer, investor = (p.id for p in world1.campaign_posts())
    tweet_params = {"tweet.fields": FULL_TWEET, "user.fields": FULL_USER}
    seed = world1.seeds()[0]
    cases = [
        (
            "/2/tweets",
            "/2/tweets",
            dict(ids=f"{main},{influencer},123", expansions="author_id", **tweet_params),
        ),
        ("/2/tweets/{id}", f"/2/tweets/{main}", dict(expansions="author_id", **tweet_params)),
        ("/2/tweets/{id}", "/2/tweets/123", {}),
        (
            "/2/tweets/{id}/retweets",
            f"/2/tweets/{influencer}/retweets",
            dict(expansions="author_id,referenced_tweets.id", **tweet_params),
        ),
        ("/2/tweets/{id}/retweeted_by", f"/2/tweets/{influencer}/retweeted_by", {"user.fields": FULL_USER}),
        (
            "/2/tweets/{id}/quote_tweets",
            f"/2/tweets/{influencer}/quote_tweets",
            dict(expansions="author_id", max_results=100, **tweet_params),
        ),
        ("/2/tweets/{id}/quote_tweets", f"/2/tweets/{investor}/quote_tweets", dict(exclude="retweets")),
        ("/2/tweets/{id}/liking_users", f"/2/tweets/{main}/liking_users", {"user.fields": FULL_USER}),
        (
            "/2/tweets/search/recent",
            "/2/tweets/search/recent",
            dict(
                query=f"conversation_id:{main} OR conversation_id:{influencer}",
                max_results=100,
                expansions="author_id,referenced_tweets.id,in_reply_to_user_id",
                **tweet_params,
            ),
        ),
        ("/2/tweets/search/recent", "/2/tweets/search/recent", dict(query="conversation_id:1")),
        ("/2/users", "/2/users", dict(ids=f"{seed.id},42", **{"user.fields": FULL_USER})),
        (
            "/2/users/by",
            "/2/users/by",
            dict(usernames="johnvc,techfounder,nobody_x", **{"user.fields": FULL_USER}),
        ),
        ("/2/users/{id}/following", f"/2/users/{seed.id}/following", {"user.fields": FULL_USER}),
    ]
    # The validator does bite: an empty data list and a numeric id are both wrong for X.
    tweets = validator_for(spec, registry, "/2/tweets")
    assert list(tweets.iter_errors({"data": []}))
    assert list(tweets.iter_errors({"data": [{"id": 1, "text": "x"}]}))
    for spec_path, url, params in cases:
        body = api.ok(url, **params)
        assert_valid(spec, registry, spec_path, body)


def test_error_bodies_are_problems(serve, world1, spec, registry):
    api = serve(world1)
    problem = Draft7Validator({"$ref": BASE + "#/components/schemas/Problem"}, registry=registry)
    invalid = Draft7Validator(
        {"$ref": BASE + "#/components/schemas/InvalidRequestProblem"}, registry=registry
    )
    bad = api.get("/2/tweets", ids="abc").json()
    assert not list(invalid.iter_errors(bad)) and not list(problem.iter_errors(bad))
    api.sim.add_fault({"endpoint": "GET /2/tweets", "status": 429})
    api.sim.add_fault({"endpoint": "GET /2/tweets", "status": 503})
    for _ in range(2):
        assert not list(problem.iter_errors(api.get("/2/tweets", ids="1").json()))
    api.sim.set_faults({"usage_cap": True})
    capped = api.get("/2/tweets", ids="1").json()
    usage_capped = Draft7Validator(
        {"$ref": BASE + "#/components/schemas/UsageCapExceededProblem"}, registry=registry
    )
    assert not list(usage_capped.iter_errors(capped))
    api.sim.set_faults({})
    partial = api.ok("/2/tweets", ids="123")["errors"][0]
    not_found = Draft7Validator(
        {"$ref": BASE + "#/components/schemas/ResourceNotFoundProblem"}, registry=registry
    )
    assert not list(not_found.iter_errors(partial))
