"""The report in the dashboard and /api/v1: the page (its scripts allowed by nonce only), every download,
and nobody else's campaign."""

from __future__ import annotations

import csv
import io
import re
import shutil
from datetime import timedelta

import httpx
import pytest

from socap.monitoring.engine import drive
from socap.simulator import load_scenario
from tests.monitoring.support import create_campaign, memory_queue
from tests.web.support import api_token, make_user, sign_in


@pytest.fixture
def completed(start_simulator, make_runtime, serve_web):
    scenario = load_scenario("5")
    server = start_simulator(scenario)
    rt = make_runtime(server)
    make_user(rt, "owner@example.com")
    make_user(rt, "other@example.com", workspace="other")
    campaign_id = create_campaign(rt, scenario)
    drive(rt, memory_queue(rt), until=scenario.build_world().end + timedelta(hours=1))
    return rt, serve_web(rt), campaign_id


def test_report_page_and_downloads(completed):
    rt, web, campaign_id = completed
    client = sign_in(web, "owner@example.com")
    page = client.get(f"/campaigns/{campaign_id}/report")
    assert page.status_code == 200 and "Final report" in page.text
    nonce = re.search(r"'nonce-([^']+)'", page.headers["content-security-policy"]).group(1)
    scripts = re.findall(r"<script([^>]*)>", page.text)
    assert scripts and all('type="application/json"' in s or f'nonce="{nonce}"' in s for s in scripts)
    second = client.get(f"/campaigns/{campaign_id}/report")
    assert re.search(r"'nonce-([^']+)'", second.headers["content-security-policy"]).group(1) != nonce
    data = client.get(f"/campaigns/{campaign_id}/report.json").json()
    assert data["kind"] == "final" and data["campaign"]["id"] == campaign_id
    rows = list(csv.DictReader(io.StringIO(client.get(f"/campaigns/{campaign_id}/report.csv").text)))
    assert len(rows) == data["totals"]["engagements"]["value"]
    accounts = client.get(f"/campaigns/{campaign_id}/report.accounts-csv")
    assert accounts.headers["content-disposition"].endswith('-final-report.accounts.csv"')
    html = client.get(f"/campaigns/{campaign_id}/report.html")
    assert html.headers["content-disposition"].startswith("attachment") and "Plotly" in html.text
    assert client.get(f"/campaigns/{campaign_id}/report.docx").status_code == 404
    if shutil.which("chromium"):
        pdf = client.get(f"/campaigns/{campaign_id}/report.pdf", timeout=180)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_report_api_with_a_token(completed):
    rt, web, campaign_id = completed
    headers = {"Authorization": f"Bearer {api_token(rt, 'owner@example.com')}"}
    r = httpx.get(f"{web.url}/api/v1/campaigns/{campaign_id}/report", headers=headers)
    assert r.status_code == 200 and r.json()["top_engager_line"] == "Top engager: @topinvestor engaged with all 3 posts"
    r = httpx.get(f"{web.url}/api/v1/campaigns/{campaign_id}/report.csv", headers=headers)
    assert r.status_code == 200 and r.text.startswith("engagement_id,")
    assert httpx.get(f"{web.url}/api/v1/campaigns/{campaign_id}/report").status_code == 401


def test_other_workspaces_get_404(completed):
    rt, web, campaign_id = completed
    client = sign_in(web, "other@example.com")
    for path in ("report", "report.json", "report.csv", "report.accounts-csv", "report.html", "report.pdf"):
        assert client.get(f"/campaigns/{campaign_id}/{path}").status_code == 404, path
    headers = {"Authorization": f"Bearer {api_token(rt, 'other@example.com')}"}
    for path in ("report", "report.json", "report.csv"):
        assert httpx.get(f"{web.url}/api/v1/campaigns/{campaign_id}/{path}", headers=headers).status_code == 404
    anon = httpx.get(f"{web.url}/campaigns/{campaign_id}/report", follow_redirects=False)
    assert anon.status_code == 303 and anon.headers["location"].startswith("/login")
