"""GET /metrics (issue 9): Prometheus figures read from the database at scrape time, behind a token.

The figures are checked against what the simulator counted (calls by endpoint and status, cost), against
the stored data (metrics passes = snapshots, alert deliveries = what the receiver got), and against the
budget-aware scheduler's state mid-backfill (blocked jobs, due jobs and their lag, calls needed vs budget).
A second, fresh web app on the same database answers the same numbers: nothing is counted in a process.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from socap.monitoring.engine import drive
from socap.monitoring.models import MetricSnapshot, PollJob
from socap.simulator import Scenario, ScriptedFault, hours, minutes
from socap.simulator.builder import ScenarioBuilder
from socap.x import ENDPOINT_TWEETS
from socap.x.budget import RateBudgetStore
from tests.alerts.conftest import Receiver
from tests.monitoring.calllog import RETWEETS
from tests.monitoring.support import create_campaign, memory_queue, usage
from tests.web.support import api_token, make_user, sign_in

METRICS_TOKEN = "metrics-token-for-tests-0123456789"
LIMIT = 2


def _small(b: ScenarioBuilder) -> None:
    b.campaign("Metrics", start="2025-03-03T12:00:00Z", days=0.1, threshold=10)
    b.rate_limit(RETWEETS, LIMIT)
    authors = b.accounts(3, "founder")
    for i in range(8):
        post = b.post(("main", "influencer", "investor")[i % 3], author=authors[i % 3], text=f"Post {i}",
                      created=-hours(5) + minutes(i), likes={hours(0): 3 + i, hours(3): 30 + i})
        b.retweets(post, 2 + i, between=(-hours(4), hours(2)))
        b.replies(post, 1, between=(-hours(4), hours(2)))
        b.quotes(post, 1, between=(-hours(4), hours(2)))


SMALL = Scenario.from_function("t_web_metrics", _small)


def _scrape(server, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(server.url + "/metrics", headers=headers, timeout=30)


def _samples(response: httpx.Response) -> dict[str, list[tuple[dict, float]]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    found: dict[str, list[tuple[dict, float]]] = defaultdict(list)
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[sample.name].append((sample.labels, sample.value))
    return found


def _value(samples, name: str, **labels) -> float:
    return sum(v for found, v in samples[name] if all(found.get(k) == str(w) for k, w in labels.items()))


@pytest.fixture
def metrics_setup(start_simulator, make_runtime, serve_web):
    world = SMALL.build_world()
    server = start_simulator(world)
    receiver = Receiver(server.clock)
    rt = make_runtime(server, metrics_token=METRICS_TOKEN)
    make_user(rt, "ops@example.com")
    campaign_id = create_campaign(rt, SMALL, notify_urls=[receiver.url, "json://127.0.0.1:9/nobody-listens"])
    httpx.post(server.url + "/_sim/usage/reset", timeout=10)  # count only what the engine does
    yield world, server, rt, campaign_id, serve_web(rt), receiver
    receiver.close()


def test_metrics_need_a_token_and_an_api_token_sees_only_its_workspace(metrics_setup, make_runtime):
    world, server, rt, campaign_id, web, _ = metrics_setup
    drive(rt, memory_queue(rt), until=world.start + minutes(1))
    for token in (None, "wrong", "socap_" + "x" * 40):
        response = _scrape(web, token)
        assert response.status_code == 401 and "socap_" not in response.text
        assert response.headers["www-authenticate"] == "Bearer"
    browser = sign_in(web, "ops@example.com")  # a signed-in browser session is not enough
    assert browser.get("/metrics").status_code == 401

    operator = _samples(_scrape(web, METRICS_TOKEN))
    assert [labels["campaign_id"] for labels, _ in operator["socap_campaign_info"]] == [str(campaign_id)]
    own = _samples(_scrape(web, api_token(rt, "ops@example.com")))
    assert own["socap_campaign_info"] == operator["socap_campaign_info"]
    make_user(rt, "rival@example.com", workspace="rival")
    rival = _samples(_scrape(web, api_token(rt, "rival@example.com")))
    per_campaign = [name for name, rows in rival.items() if any("campaign_id" in labels for labels, _ in rows)]
    assert per_campaign == []  # no other workspace's campaign in any series
    assert rival["socap_x_rate_limit_remaining"] == operator["socap_x_rate_limit_remaining"]  # app-wide


def test_metrics_figures_equal_the_simulator_and_the_database_and_survive_a_fresh_process(metrics_setup,
                                                                                          serve_web):
    world, server, rt, campaign_id, web, receiver = metrics_setup
    start = world.start
    # the first window: X's headers say 2 retweets calls per 15 minutes, so 6 of the 8 backfills are blocked
    server.sim.add_fault(ScriptedFault(endpoint=ENDPOINT_TWEETS, status=503, times=1))
    drive(rt, memory_queue(rt), until=start + minutes(1))
    early = _samples(_scrape(web, METRICS_TOKEN))
    with rt.db.session() as s:
        blocked = s.scalar(select(func.count()).select_from(PollJob).where(PollJob.blocked_until > rt.clock.now()))
    assert blocked == 6 and _value(early, "socap_blocked_jobs", kind="retweets") == 6
    assert _value(early, "socap_campaign_calls_needed", endpoint=RETWEETS) == 6
    assert _value(early, "socap_campaign_calls_budget", endpoint=RETWEETS) == 2 * LIMIT  # two windows a cycle
    assert _value(early, "socap_x_rate_limit_remaining", endpoint=RETWEETS) == 0
    assert _value(early, "socap_x_rate_limit_limit", endpoint=RETWEETS) == LIMIT
    assert _value(early, "socap_campaign_cycles_to_clear") == 2
    # the dashboard says the same: 1 metrics call + 6 retweets calls needed, 1 + 4 a cycle's budget gives
    assert _value(early, "socap_campaign_calls_needed") == 7 and _value(early, "socap_campaign_calls_budget") == 5
    page = sign_in(web, "ops@example.com").get(f"/campaigns/{campaign_id}").text
    assert "X API: needs 7 calls/cycle, budget 5 — over budget, about 2 cycles to catch up" in page
    # after the reset: two are claimed, the other four stay due (not blocked), waiting since the start
    drive(rt, memory_queue(rt), until=start + minutes(16))
    later = _samples(_scrape(web, METRICS_TOKEN))
    assert _value(later, "socap_jobs_due", kind="retweets") == 4
    assert _value(later, "socap_queue_lag_seconds", kind="retweets") == 16 * 60
    assert _value(later, "socap_blocked_jobs") == 0

    drive(rt, memory_queue(rt), until=world.end + hours(4))
    final = _samples(_scrape(web, METRICS_TOKEN))
    sim = usage(server)
    calls = {(labels["endpoint"], labels["status"]): v for labels, v in final["socap_x_api_calls_total"]}
    assert calls == {(e, status): n for e, v in sim["endpoints"].items() for status, n in v["by_status"].items()}
    assert calls[(ENDPOINT_TWEETS, "503")] == 1
    assert Decimal(str(_value(final, "socap_cost_usd_total"))) == Decimal(str(sim["cost_usd"]))
    with rt.db.session() as s:
        snapshots = s.scalar(select(func.count()).select_from(MetricSnapshot))
    assert _value(final, "socap_poll_job_runs_total", kind="metrics") == snapshots
    assert _value(final, "socap_poll_job_failures_total", kind="metrics") == 0  # the 503 was retried
    assert _value(final, "socap_poll_job_failures_total", kind="retweets") == 6  # blocked in the first window
    # the completion summary went to the console, the receiver and a dead address (gave up after its retries)
    assert len(receiver.messages) == 1
    assert _value(final, "socap_alert_deliveries", status="sent") == 2
    assert _value(final, "socap_alert_deliveries", status="failed") == 1
    assert _value(final, "socap_alerts", status="failed") == 1
    assert _value(final, "socap_campaign_info", status="completed") == 1
    assert _value(final, "socap_polling_paused") == 0
    budget = {row["endpoint"]: row["remaining"] for row in RateBudgetStore(rt.db, rt.clock).snapshot()}
    assert {labels["endpoint"]: v for labels, v in final["socap_x_rate_limit_remaining"]} == budget

    # a second web process would see exactly the same: the figures live in the database
    assert _samples(_scrape(serve_web(rt), METRICS_TOKEN)) == final
