"""Scenario 5's dashboard line: "Top engager: @topinvestor engaged with all 3 posts" — and no such line when
the most important account engaged with one post only (scenario 1)."""

from __future__ import annotations

from datetime import timedelta

from socap.monitoring.engine import drive
from socap.simulator import load_scenario
from tests.alerts.conftest import import_and_sync_seeds
from tests.monitoring.support import create_campaign, memory_queue
from tests.web.support import make_user, sign_in


def _dashboard(start_simulator, make_runtime, serve_web, key: str, until: timedelta) -> str:
    scenario = load_scenario(key)
    server = start_simulator(scenario)
    rt = make_runtime(server)
    import_and_sync_seeds(rt, scenario)
    make_user(rt, "ana@example.com")
    campaign_id = create_campaign(rt, scenario)
    drive(rt, memory_queue(rt), until=scenario.start + until)
    return sign_in(serve_web(rt), "ana@example.com").get(f"/campaigns/{campaign_id}").text


def test_scenario5_dashboard_names_the_top_engager(start_simulator, make_runtime, serve_web):
    html = _dashboard(start_simulator, make_runtime, serve_web, "5", timedelta(hours=1, minutes=30))
    assert "Top engager: @topinvestor engaged with all 3 posts" in html


def test_no_top_engager_line_when_the_top_account_engaged_once(start_simulator, make_runtime, serve_web):
    # at the end of scenario 1 the most important engager, @techfounder (22), quoted one post only
    html = _dashboard(start_simulator, make_runtime, serve_web, "1", timedelta(days=3, hours=1))
    assert "@techfounder" in html and 'id="top-engager"' not in html
