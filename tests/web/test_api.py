"""The JSON API over real HTTP: campaigns created and changed against the X simulator, statistics equal to what
socap.reports computes and to the simulator's truth, filters in the query, and the alert stream (SSE)."""

from __future__ import annotations

import json
import threading
import time
from contextlib import ExitStack
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from socap.alerts.models import Alert, AlertDelivery
from socap.campaigns.models import Campaign
from socap.campaigns.service import campaign_tables
from socap.clock import parse_instant
from socap.importance import seeds
from socap.models import Base
from socap.monitoring.engine import drive
from socap.monitoring.models import Engagement
from socap.reports import rollup
from socap.reports.schemas import Filters
from socap.simulator import load_scenario
from tests.alerts.conftest import import_and_sync_seeds
from tests.monitoring.support import capturable, memory_queue, truth, usage
from tests.web.support import api_token, make_user, sign_in

SCENARIO1 = load_scenario("1")


@pytest.fixture
def site(start_simulator, make_runtime, serve_web):
    """``site(scenario, seeds=False)`` → (runtime, simulator, web server, API client of ana@example.com)."""
    clients = []

    def start(scenario=SCENARIO1, *, seeds: bool = False):
        sim = start_simulator(scenario)
        rt = make_runtime(sim)
        if seeds:
            import_and_sync_seeds(rt, scenario)
        make_user(rt, "ana@example.com")
        server = serve_web(rt)
        client = httpx.Client(base_url=server.url + "/api/v1", timeout=30,
                              headers={"Authorization": f"Bearer {api_token(rt, 'ana@example.com')}"})
        clients.append(client)
        return rt, sim, server, client

    yield start
    for client in clients:
        client.close()


def spec_body(scenario=SCENARIO1, **changes) -> dict:
    spec = scenario.campaign_spec()
    body = {k: spec[k] for k in ("name", "main", "influencer", "investor", "days", "threshold", "spacing_minutes")}
    body["starts_at"] = scenario.build_world().start.isoformat()
    return {**body, **changes}


def create(client, scenario=SCENARIO1, **changes) -> dict:
    r = client.post("/campaigns", json=spec_body(scenario, **changes))
    assert r.status_code == 201, r.text
    return r.json()


def rows(rt, campaign_id: int) -> dict[str, int]:
    """Rows of every table with a campaign_id (found in the metadata), deliveries through their alerts."""
    with rt.db.session() as s:
        counts = {t.name: s.scalar(select(func.count()).select_from(t).where(t.c.campaign_id == campaign_id))
                  for t in campaign_tables(Base.metadata)}
        counts["alert_delivery"] = s.scalar(select(func.count()).select_from(AlertDelivery).join(
            Alert, Alert.id == AlertDelivery.alert_id).where(Alert.campaign_id == campaign_id))
        counts["campaign"] = s.scalar(select(func.count()).select_from(Campaign).where(Campaign.id == campaign_id))
    return counts


def campaign_count(rt) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(Campaign))


# ---------------------------------------------------------------- campaigns

def test_create_a_campaign_through_the_api_against_the_simulator(site):
    rt, sim, _, client = site()
    body = create(client)
    assert body["name"] == "Product Launch Q1 2025" and body["status"] == "active"
    assert body["job_count"] == 12 and body["alert_threshold"] == 10 and body["alert_spacing_minutes"] == 20
    posts = {p["category"]: p for p in body["posts"]}
    assert set(posts) == {"main", "influencer", "investor"}
    assert posts["main"]["author_username"] == "acmehq" and posts["main"]["text"]
    assert usage(sim)["endpoints"]["GET /2/tweets"]["calls"] == 1  # three posts, one batched lookup

    assert client.get(f"/campaigns/{body['id']}").json() == {**body, "warnings": []}
    assert [c["id"] for c in client.get("/campaigns").json()] == [body["id"]]
    with rt.db.session() as s:
        from socap.auth.models import User

        workspace = s.scalar(select(User.workspace_id).where(User.email == "ana@example.com"))
        assert s.get(Campaign, body["id"]).workspace_id == workspace


@pytest.mark.parametrize(("changes", "field", "fragment"), [
    ({"main": ["https://example.com/not-a-post"]}, "main", "example.com"),
    ({"main": [], "influencer": [], "investor": []}, "main", "at least one post"),
    ({"threshold": -1}, "threshold", "cannot be negative"),
    ({"threshold": "high"}, "threshold", "integer"),
    ({"spacing_minutes": 45}, "spacing_minutes", "shorter than the poll interval"),
    ({"days": 0}, "days", "longer than 0 days"),
    ({"notify_urls": ["nonsense"]}, "notify_urls", "not a notification URL"),
    ({"name": " "}, "name", "needs a name"),
    ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
])
def test_invalid_input_creates_nothing_and_makes_no_x_call(site, changes, field, fragment):
    rt, sim, _, client = site()
    r = client.post("/campaigns", json=spec_body(**changes))
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]["errors"]
    assert fragment in " ".join(errors[field]), errors
    assert campaign_count(rt) == 0
    assert usage(sim)["total_calls"] == 0


def test_every_problem_is_reported_at_once(site):
    rt, sim, _, client = site()
    r = client.post("/campaigns", json=spec_body(name="", main=["nope"], threshold=-3, spacing_minutes=-1))
    assert r.status_code == 422
    assert set(r.json()["detail"]["errors"]) == {"name", "main", "threshold", "spacing_minutes"}
    assert client.post("/campaigns", content=b"{not json", headers={"Content-Type": "application/json"}
                       ).status_code == 422
    assert campaign_count(rt) == 0 and usage(sim)["total_calls"] == 0


def test_posts_x_cannot_find_are_listed_and_nothing_is_created(site):
    rt, _, _, client = site()
    missing = "https://x.com/nobody/status/1234567890123456789"
    spec = SCENARIO1.campaign_spec()
    r = client.post("/campaigns", json=spec_body(investor=[spec["investor"][0], missing]))
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail["missing"][0]["url"] == missing and detail["missing"][0]["category"] == "investor"
    assert missing in detail["errors"]["investor"][0]
    assert campaign_count(rt) == 0
    body = create(client, investor=[spec["investor"][0], missing], allow_missing=True)
    assert body["job_count"] == 12 and any(missing in w for w in body["warnings"])


def test_patch_changes_settings_and_refuses_bad_values_without_changing_anything(site):
    rt, _, _, client = site()
    campaign = create(client, notify_urls=["json://127.0.0.1:9/hooks/s3cret"])
    cid = campaign["id"]
    r = client.patch(f"/campaigns/{cid}", json={"threshold": 25, "name": "Launch (edited)"})
    assert r.status_code == 200, r.text
    assert (r.json()["alert_threshold"], r.json()["name"], r.json()["alert_spacing_minutes"]) == (
        25, "Launch (edited)", 20)
    shown = r.json()["notify_urls"]
    assert "s3cret" not in json.dumps(r.json())

    r = client.patch(f"/campaigns/{cid}", json={"threshold": -1, "spacing_minutes": 30, "notify_urls": ["bad"],
                                                "name": ""})
    assert r.status_code == 422
    assert set(r.json()["detail"]["errors"]) == {"threshold", "spacing_minutes", "notify_urls", "name"}
    assert client.patch(f"/campaigns/{cid}", json={"days": 3}).status_code == 422  # not a setting
    after = client.get(f"/campaigns/{cid}").json()
    assert (after["alert_threshold"], after["name"], after["notify_urls"]) == (25, "Launch (edited)", shown)

    r = client.patch(f"/campaigns/{cid}", json={"notify_urls": shown + ["json://127.0.0.1:9/other"]})
    assert r.status_code == 200
    with rt.db.session() as s:
        assert s.get(Campaign, cid).notify_urls == ["json://127.0.0.1:9/hooks/s3cret", "json://127.0.0.1:9/other"]


def test_add_posts_by_url(site):
    rt, sim, _, client = site()
    spec = SCENARIO1.campaign_spec()
    campaign = create(client, influencer=[], investor=[])
    cid = campaign["id"]
    version = rows(rt, cid)
    calls = usage(sim)["total_calls"]
    assert client.post(f"/campaigns/{cid}/posts", json={"investor": ["not a url"]}).status_code == 422
    assert client.post(f"/campaigns/{cid}/posts", json={}).status_code == 422
    assert usage(sim)["total_calls"] == calls and rows(rt, cid) == version

    r = client.post(f"/campaigns/{cid}/posts", json={"influencer": spec["influencer"],
                                                     "investor": spec["investor"] + spec["main"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["job_count"] == 12 and sorted(p["category"] for p in body["posts"]) == ["influencer", "investor",
                                                                                       "main"]
    assert len(body["warnings"]) == 1 and "already tracked" in body["warnings"][0]
    assert usage(sim)["total_calls"] == calls + 1
    assert client.post("/campaigns/999/posts", json={"main": spec["main"]}).status_code == 404


def test_pause_resume_and_completed_campaigns(site):
    rt, _, _, client = site()
    cid = create(client)["id"]
    assert client.post(f"/campaigns/{cid}/pause").json()["status"] == "paused"
    assert client.post(f"/campaigns/{cid}/pause").json()["status"] == "paused"
    assert client.post(f"/campaigns/{cid}/resume").json()["status"] == "active"
    with rt.db.write() as s:
        s.get(Campaign, cid).status = "completed"
    r = client.post(f"/campaigns/{cid}/pause")
    assert r.status_code == 409 and "completed" in r.json()["detail"]
    assert client.post(f"/campaigns/{cid}/posts", json={"main": ["123"]}).status_code == 409


def test_delete_removes_everything_of_the_campaign(site):
    rt, sim, _, client = site(seeds=True)
    doomed, kept = create(client)["id"], create(client, name="Kept")["id"]
    drive(rt, memory_queue(rt), until=SCENARIO1.build_world().end + timedelta(hours=2))  # with its final report
    before_doomed, before_kept = rows(rt, doomed), rows(rt, kept)
    assert all(before_doomed.values()), before_doomed
    r = client.delete(f"/campaigns/{doomed}")
    assert r.status_code == 204 and r.content == b""
    assert rows(rt, doomed) == dict.fromkeys(before_doomed, 0)
    assert rows(rt, kept) == before_kept
    assert client.get(f"/campaigns/{doomed}").status_code == 404
    assert client.delete(f"/campaigns/{doomed}").status_code == 404
    assert [c["id"] for c in client.get("/campaigns").json()] == [kept]


def test_unknown_ids_and_bad_paths(site):
    _, _, _, client = site()
    for method, path in (("GET", "/campaigns/999"), ("PATCH", "/campaigns/999"), ("DELETE", "/campaigns/999"),
                         ("POST", "/campaigns/999/pause"), ("POST", "/campaigns/999/resume"),
                         ("GET", "/campaigns/999/summary"), ("GET", "/campaigns/999/alerts")):
        r = client.request(method, path, json={} if method == "PATCH" else None)
        assert r.status_code == 404 and r.json() == {"detail": "no campaign 999"}, (method, path)
    r = client.get("/campaigns/abc")
    assert r.status_code == 422 and "campaign_id" in r.json()["detail"]["errors"]


def test_the_openapi_document_describes_every_route(site):
    _, _, server, client = site()
    assert httpx.get(server.url + "/openapi.json").status_code == 401  # like the rest of the API
    spec = httpx.get(server.url + "/openapi.json", headers=client.headers).json()
    paths = spec["paths"]
    for path, methods in {
        "/api/v1/campaigns": {"get", "post"},
        "/api/v1/campaigns/{campaign_id}": {"get", "patch", "delete"},
        "/api/v1/campaigns/{campaign_id}/posts": {"post"},
        "/api/v1/campaigns/{campaign_id}/pause": {"post"},
        "/api/v1/campaigns/{campaign_id}/resume": {"post"},
        "/api/v1/campaigns/{campaign_id}/summary": {"get"},
        "/api/v1/campaigns/{campaign_id}/charts": {"get"},
        "/api/v1/campaigns/{campaign_id}/engagements": {"get"},
        "/api/v1/campaigns/{campaign_id}/posts/{post_id}": {"get"},
        "/api/v1/campaigns/{campaign_id}/accounts/{account_id}": {"get"},
        "/api/v1/campaigns/{campaign_id}/categories": {"get"},
        "/api/v1/campaigns/{campaign_id}/alerts": {"get"},
        "/api/v1/alerts/stream": {"get"},
        "/api/v1/campaigns/{campaign_id}/alerts/stream": {"get"},
    }.items():
        assert methods <= set(paths[path]), path
    summary = paths["/api/v1/campaigns/{campaign_id}/summary"]["get"]
    assert {"category", "action", "min_importance", "range", "since", "until"} <= {
        p["name"] for p in summary["parameters"]}
    assert summary["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Summary")
    assert "ValidationErrorOut" in json.dumps(paths["/api/v1/campaigns"]["post"]["responses"]["422"])
    assert "/api/v1/me" in paths and "post" not in paths["/api/v1/me"]
    assert sign_in(server, "ana@example.com").get("/docs").status_code == 200


# ---------------------------------------------------------------- statistics

def _visible(t: dict) -> list[dict]:
    return [e for e in t["engagements"] if e["direct"] and e["visible"]]


def test_statistics_equal_the_reports_and_the_truth_after_a_whole_campaign(site):
    from socap.reports import service as reports

    rt, sim, _, client = site(seeds=True)
    cid = create(client)["id"]
    world = SCENARIO1.build_world()
    drive(rt, memory_queue(rt), until=world.end + timedelta(hours=2))
    expected = truth(sim, at=world.end)
    now = rt.clock.now()

    summary = client.get(f"/campaigns/{cid}/summary").json()
    with rt.db.session() as s:
        campaign = s.get(Campaign, cid)
        direct = reports.summary(s, campaign=campaign, filters=Filters(), now=now)
    assert summary == direct.model_dump(mode="json")
    totals = summary["totals"]
    assert totals["engagements"]["value"] == len(_visible(expected)) == 120
    assert (totals["retweets"]["value"], totals["replies"]["value"], totals["quotes"]["value"]) == (85, 23, 12)
    assert totals["unique_accounts"]["value"] == expected["summary"]["unique_accounts"] == 95
    assert totals["likes"]["value"] == expected["summary"]["likes"]
    important = expected["summary"]["important_accounts"]
    assert totals["high_importance_accounts"]["value"] == len(important)

    # the engagement list: 50 a page, by importance
    first = client.get(f"/campaigns/{cid}/engagements").json()
    third = client.get(f"/campaigns/{cid}/engagements", params={"page": 3}).json()
    assert (first["total"], first["pages"], len(first["rows"]), len(third["rows"])) == (120, 3, 50, 20)
    scores = [row["importance"] for row in first["rows"]]
    assert scores == sorted(scores, reverse=True) and scores[0] == important[0]["importance"]
    with rt.db.session() as s:
        direct = reports.engagements(s, campaign=s.get(Campaign, cid), filters=Filters(), now=now, page=3)
    assert third == direct.model_dump(mode="json")
    assert client.get(f"/campaigns/{cid}/engagements", params={"page": 0}).status_code == 422

    # an account drill-down: @techfounder's quote
    founder = next(r for r in first["rows"] if r["username"] == "techfounder")
    account = client.get(f"/campaigns/{cid}/accounts/{founder['account_id']}").json()
    truth_account = next(a for a in expected["accounts"] if a["username"] == "techfounder")
    assert account["importance"] == truth_account["importance"] == 22
    assert len(account["engagements"]) == truth_account["engagements"]
    assert client.get(f"/campaigns/{cid}/accounts/12345").status_code == 404

    # a post drill-down
    post = next(p for p in summary["posts"] if p["category"] == "investor")
    detail = client.get(f"/campaigns/{cid}/posts/{post['id']}").json()
    truth_post = next(p for p in expected["posts"] if p["category"] == "investor")
    assert detail["post"]["likes"] == truth_post["public_metrics"]["like_count"]
    assert detail["engagers"]["total"] == sum(1 for e in _visible(expected) if e["post_id"] == truth_post["id"])
    assert client.get(f"/campaigns/{cid}/posts/999999").status_code == 404

    categories = client.get(f"/campaigns/{cid}/categories").json()
    assert sum(card["engagements"] for card in categories["cards"]) == 120
    charts = client.get(f"/campaigns/{cid}/charts").json()
    assert sum(b["retweets"] + b["replies"] + b["quotes"] for b in charts["timeline"]) == 120

    alerts = client.get(f"/campaigns/{cid}/alerts").json()
    assert [a["importance"] for a in alerts if a["status"] == "sent"][:2] == [15, 22]
    assert [a["kind"] for a in alerts].count("summary") == 1  # the completion summary
    assert all(d["channel"] == "console://" for a in alerts for d in a["deliveries"])


def test_filters_in_the_query_apply_to_totals_and_list(site):
    rt, sim, _, client = site(seeds=True)
    cid = create(client)["id"]
    world = SCENARIO1.build_world()
    drive(rt, memory_queue(rt), until=world.start + timedelta(days=1, hours=13))
    expected = truth(sim, at=rt.clock.now())
    category_of = {p["id"]: p["category"] for p in expected["posts"]}
    importance = {a["id"]: a["importance"] for a in expected["accounts"]}
    visible = _visible(expected)
    assert {e["post_id"] for e in visible} >= {p["id"] for p in expected["posts"]}
    assert len({(e["post_id"], e["action"], e["source_tweet_id"]) for e in visible}) == len(capturable(expected))

    def check(params: dict, keep) -> None:
        want = [e for e in visible if keep(e)]
        assert 0 < len(want) < len(visible), params  # the filter narrows the view
        summary = client.get(f"/campaigns/{cid}/summary", params=params)
        assert summary.status_code == 200, summary.text
        assert summary.json()["totals"]["engagements"]["value"] == len(want), params
        page = client.get(f"/campaigns/{cid}/engagements", params=params).json()
        assert page["total"] == len(want), params
        assert {r["source_tweet_id"] for r in page["rows"]} <= {e["source_tweet_id"] for e in want}
        timeline = client.get(f"/campaigns/{cid}/charts", params=params).json()["timeline"]
        assert sum(b["retweets"] + b["replies"] + b["quotes"] for b in timeline) == len(want), params

    check({"action": "retweet", "category": "influencer"},
          lambda e: e["action"] == "retweet" and category_of[e["post_id"]] == "influencer")
    check({"action": ["retweet", "quote"]}, lambda e: e["action"] in ("retweet", "quote"))
    check({"category": "main,investor", "min_importance": "12"},
          lambda e: category_of[e["post_id"]] in ("main", "investor") and importance[e["account_id"]] >= 12)
    since, until = world.start + timedelta(hours=1), world.start + timedelta(hours=12)
    check({"since": since.isoformat(), "until": until.isoformat()},
          lambda e: since <= parse_instant(e["engaged_at"]) <= until)
    check({"range": "24h"}, lambda e: parse_instant(e["engaged_at"]) >= rt.clock.now() - timedelta(hours=24))
    check({"range": "today", "action": "retweet"},
          lambda e: e["action"] == "retweet" and parse_instant(e["engaged_at"]).date() == rt.clock.now().date())


def test_reads_are_cached_under_the_data_version(site):
    rt, _, _, client = site(seeds=True)
    cid = create(client)["id"]
    drive(rt, memory_queue(rt), until=SCENARIO1.start + timedelta(minutes=1))
    first = client.get(f"/campaigns/{cid}/summary").json()
    assert first["totals"]["engagements"]["value"] == 42
    with rt.db.write() as s:  # behind the cache's back: no data version bump
        s.execute(Engagement.__table__.delete().where(Engagement.id == s.scalar(
            select(func.max(Engagement.id)).where(Engagement.campaign_id == cid))))
        rollup.rebuild(s, campaign_id=cid)  # the roll-ups follow the row written by hand
    assert client.get(f"/campaigns/{cid}/summary").json() == first
    assert client.get(f"/campaigns/{cid}/summary", params={"action": "reply"}).json()["totals"]["engagements"][
        "value"] < 42  # another filter is another entry
    # any change of the campaign bumps the version: the next read is fresh
    assert client.patch(f"/campaigns/{cid}", json={"threshold": 16}).status_code == 200
    fresh = client.get(f"/campaigns/{cid}/summary").json()
    assert fresh["totals"]["engagements"]["value"] == 41 and fresh["data_version"] == first["data_version"] + 1


@pytest.mark.parametrize(("query", "field", "fragment"), [
    ("category=vip", "category", "unknown post category 'vip'"),
    ("action=like", "action", "unknown action 'like'"),
    ("min_importance=lots", "min_importance", "whole number"),
    ("min_importance=-2", "min_importance", "0 or more"),
    ("range=week", "range", "unknown range 'week'"),
    ("since=yesterday", "since", "ISO 8601"),
    ("range=today&since=2025-01-06", "range", "only apply to range=custom"),
    ("since=2025-01-07&until=2025-01-06", "until", "before since"),
])
def test_bad_filters_answer_422_with_a_clear_message(site, query, field, fragment):
    _, _, _, client = site()
    cid = create(client)["id"]
    for view in ("summary", "charts", "engagements", "categories"):
        r = client.get(f"/campaigns/{cid}/{view}?{query}")
        assert r.status_code == 422, (view, r.text)
        assert fragment in " ".join(r.json()["detail"]["errors"][field]), r.json()


# ---------------------------------------------------------------- the alert stream (SSE)

class StreamReader(threading.Thread):
    """Reads an SSE stream in a thread until ``want`` events arrived or nothing came for ``idle`` seconds."""

    def __init__(self, url: str, headers: dict, *, want: int, idle: float = 20.0):
        super().__init__(daemon=True)
        self.url, self.headers, self.want, self.idle = url, headers, want, idle
        self.events: list[dict] = []
        self.comments: list[str] = []
        self.status: int | None = None
        self.last_id: str | None = None
        self.content_type = ""
        self.connected = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            timeout = httpx.Timeout(10.0, read=self.idle)
            with httpx.Client(timeout=timeout) as http, http.stream("GET", self.url, headers=self.headers) as r:
                self.status, self.content_type = r.status_code, r.headers.get("content-type", "")
                if r.status_code != 200:
                    return
                event: dict = {}
                for line in r.iter_lines():
                    if line.startswith(":"):
                        self.comments.append(line[1:].strip())
                        self.connected.set()
                    elif line:
                        name, _, value = line.partition(":")
                        event[name] = value[1:] if value.startswith(" ") else value
                        if name == "id":
                            self.last_id = event["id"]  # what a browser would send back as Last-Event-ID
                    else:
                        if "data" in event:
                            self.events.append({"id": event.get("id"), "event": event.get("event"),
                                                "data": json.loads(event["data"])})
                        event = {}
                        if len(self.events) >= self.want:
                            return
        except httpx.ReadTimeout:
            pass
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            self.connected.set()

    def wait(self, timeout: float = 30.0) -> StreamReader:
        self.join(timeout)
        assert not self.is_alive(), "the stream reader did not finish"
        assert self.error is None, self.error
        return self


def open_stream(url: str, headers: dict, *, want: int, idle: float = 20.0) -> StreamReader:
    reader = StreamReader(url, headers, want=want, idle=idle)
    reader.start()
    assert reader.connected.wait(10), "the stream did not start"
    return reader


SCENARIO5 = load_scenario("5")
TOP = "Investor @topinvestor (importance: 50)"


def test_the_stream_delivers_each_alert_when_it_is_sent_and_resumes_exactly(site):
    rt, _, server, client = site(SCENARIO5, seeds=True)
    campaign = create(client, SCENARIO5)
    cid = campaign["id"]
    auth = dict(client.headers)
    url = f"{server.url}/api/v1/campaigns/{cid}/alerts/stream"
    live = open_stream(url, auth, want=3)
    everything = open_stream(f"{server.url}/api/v1/alerts/stream", auth, want=3)
    assert live.status == 200 and live.content_type.startswith("text/event-stream")
    assert "connected" in live.comments
    start_id = live.last_id  # the stream's position before any alert
    assert start_id is not None

    drive(rt, memory_queue(rt), until=SCENARIO5.start + timedelta(hours=1, minutes=30))
    live.wait()
    everything.wait()
    assert [e["event"] for e in live.events] == ["alert"] * 3
    data = [e["data"] for e in live.events]
    assert [d["message"].split(" your ")[0] for d in data] == [f"{TOP} retweeted", f"{TOP} replied to",
                                                               f"{TOP} quote-tweeted"]
    assert {(d["campaign_id"], d["campaign_name"], d["importance"]) for d in data} == {
        (cid, "Series A Announcement", 50)}
    with rt.db.session() as s:
        stored = {a.id: a for a in s.scalars(select(Alert).where(Alert.campaign_id == cid))}
    assert [d["id"] for d in data] == sorted(stored, key=lambda i: (stored[i].sent_at, i))
    for d in data:
        assert d["sent_at"] == stored[d["id"]].sent_at.isoformat().replace("+00:00", "Z")
    ids = [e["id"] for e in live.events]
    assert len(set(ids)) == 3 and [e["data"] for e in everything.events] == data

    # a browser whose stream dropped before any alert comes back with the start position: all three
    dropped = open_stream(url, {**auth, "Last-Event-ID": start_id}, want=3).wait()
    assert [e["data"] for e in dropped.events] == data
    # the browser reconnects with the last id it saw: exactly the alerts after it
    resumed = open_stream(url, {**auth, "Last-Event-ID": ids[0]}, want=2).wait()
    assert [e["data"]["id"] for e in resumed.events] == [d["id"] for d in data[1:]]
    assert [e["id"] for e in resumed.events] == ids[1:]
    caught_up = open_stream(url, {**auth, "Last-Event-ID": ids[2]}, want=1, idle=3).wait()
    fresh = open_stream(url, auth, want=1, idle=3).wait()  # a new stream starts from now
    assert caught_up.events == [] and fresh.events == []
    by_query = open_stream(f"{url}?last_event_id={ids[1]}", auth, want=1).wait()
    assert [e["data"]["id"] for e in by_query.events] == [data[2]["id"]]

    bad = open_stream(url, {**auth, "Last-Event-ID": "yesterday"}, want=1).wait()
    assert bad.status == 422


def test_the_stream_stops_when_the_client_goes_away(site):
    from socap.web.routes import stream

    _, _, server, client = site()
    cid = create(client)["id"]
    before = stream.open_streams()
    with ExitStack() as opened:
        http = opened.enter_context(httpx.Client(timeout=httpx.Timeout(10.0, read=20.0), headers=dict(client.headers)))
        lines = []  # (dropping a line iterator would close its connection)
        for _ in range(2):
            r = opened.enter_context(http.stream("GET", f"{server.url}/api/v1/campaigns/{cid}/alerts/stream"))
            lines.append(r.iter_lines())
            assert r.status_code == 200 and next(lines[-1]).startswith("retry:")
        assert stream.open_streams() == before + 2
    deadline = time.monotonic() + 10
    while stream.open_streams() > before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stream.open_streams() == before


def test_the_campaign_stream_ends_when_the_campaign_is_deleted(site):
    _, _, server, client = site()
    cid = create(client)["id"]
    reader = open_stream(f"{server.url}/api/v1/campaigns/{cid}/alerts/stream", dict(client.headers), want=1)
    assert client.delete(f"/campaigns/{cid}").status_code == 204
    started = time.monotonic()
    reader.wait(10)
    assert reader.events == [] and time.monotonic() - started < 5
    again = open_stream(f"{server.url}/api/v1/campaigns/{cid}/alerts/stream", dict(client.headers), want=1).wait()
    assert again.status == 404


# ---------------------------------------------------------------- the session cookie and CSRF

def test_the_browser_session_drives_the_api_with_its_csrf_header(site):
    _, _, server, client = site()
    cid = create(client)["id"]
    browser = sign_in(server, "ana@example.com")
    assert browser.get(f"/api/v1/campaigns/{cid}").status_code == 200
    assert browser.post(f"/api/v1/campaigns/{cid}/pause").status_code == 403
    r = browser.post(f"/api/v1/campaigns/{cid}/pause", headers={"X-CSRF-Token": browser.csrf})
    assert r.status_code == 200 and r.json()["status"] == "paused"
    with browser.stream("GET", f"/api/v1/campaigns/{cid}/alerts/stream") as r:
        assert r.status_code == 200 and next(r.iter_lines()).startswith("retry:")


def test_a_changed_seed_weight_shows_at_once_despite_the_cache(site):
    """Re-scoring (a seed's weight, a seed removed, a sync) gives the workspace's campaigns a new data version,
    so cached views never show the old importance."""
    rt, _, _, client = site(seeds=True)
    cid = create(client)["id"]
    drive(rt, memory_queue(rt), until=SCENARIO1.start + timedelta(minutes=1))
    top = client.get(f"/campaigns/{cid}/engagements").json()["rows"][0]
    seed = top["seeds"][0]
    before = client.get(f"/campaigns/{cid}/summary").json()["data_version"]
    with rt.db.write() as s:
        workspace_id = s.get(Campaign, cid).workspace_id
        seeds.set_weight(s, workspace_id=workspace_id, username=seed["username"], weight=seed["weight"] + 5,
                         now=rt.clock.now())
    again = next(r for r in client.get(f"/campaigns/{cid}/engagements").json()["rows"]
                 if r["engagement_id"] == top["engagement_id"])
    assert again["importance"] == top["importance"] + 5
    assert client.get(f"/campaigns/{cid}/summary").json()["data_version"] == before + 1
