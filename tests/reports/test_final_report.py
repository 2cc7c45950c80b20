"""The final report (scenario 8 of the spec): stored once at completion, equal to the simulator's truth,
unchanged by later data changes, and exported as JSON, CSV, HTML and PDF that really open."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from sqlalchemy import delete, func, select, update
from typer.testing import CliRunner

from socap.alerts.models import Alert
from socap.importance.models import AccountImportance
from socap.reports import export, final
from socap.reports.models import CampaignReport
from tests.conftest import REPO_ROOT
from tests.reports.conftest import captured

ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium")


def stored_report(played) -> final.Report:
    with played.rt.db.session() as s:
        row = s.get(CampaignReport, played.campaign_id)
        assert row is not None, "no report was stored at completion"
        return final.Report.model_validate(row.data)


def test_the_stored_final_report_equals_the_truth(played):
    report = stored_report(played)
    truth = played.truth()
    rows = captured(truth)
    assert report.kind == "final" and report.campaign.status == "completed"
    t = report.totals
    # scenario 1's final report: 120 engagements (85 retweets, 12 quotes, 23 replies) by 95 accounts, 1,500 likes
    accounts = {r["account_id"] for r in rows}
    assert (t.engagements.value, t.unique_accounts.value) == (120, 95) == (len(rows), len(accounts))
    x = {k: sum(p["public_metrics"][k] for p in truth["posts"]) for k in ("like_count", "retweet_count",
                                                                          "quote_count", "reply_count")}
    assert (t.likes.value, t.retweet_count.value, t.quote_count.value, t.reply_count.value) == \
        (x["like_count"], x["retweet_count"], x["quote_count"], x["reply_count"]) == (1500, 85, 12, 23)
    importance = {r["account_id"]: r["importance"] for r in rows}
    threshold = report.campaign.alert_threshold
    assert report.high_importance_accounts == sum(1 for v in importance.values() if v >= threshold)
    # category breakdown: per post category, with percentages that add up
    by_category = {c.category: c.engagements for c in report.post_categories}
    for category in by_category:
        assert by_category[category] == sum(1 for r in rows if r["category"] == category)
    assert abs(sum(c.share_of_engagements for c in report.post_categories) - 1) < 1e-9
    assert sum(s.count for s in report.account_categories) == 95
    assert abs(sum(s.percent for s in report.account_categories) - 100) < 0.5
    # every post with first and final metrics; final equals X's
    final_metrics = {p["id"]: p["public_metrics"] for p in truth["posts"]}
    assert len(report.posts) == 3
    for row in report.posts:
        assert row.first is not None and row.first.at <= row.post.metrics_at
        assert row.post.likes == final_metrics[row.post.tweet_id]["like_count"]
        assert row.first.likes <= row.post.likes
    # top 20 engagers, most important first, each with all of their engagements
    assert len(report.top_engagers) == 20
    scores = [e.importance for e in report.top_engagers]
    assert scores == sorted(scores, reverse=True) and scores[0] == max(importance.values())
    for e in report.top_engagers:
        assert len(e.engagements) == sum(1 for r in rows if r["account_id"] == e.account_id)
    # the whole window's timeline, its peak hour, cost
    assert sum(b.retweets + b.replies + b.quotes for b in report.charts.timeline) == 120
    peak = report.peak_hour
    assert peak is not None and peak.retweets + peak.replies + peak.quotes == max(
        b.retweets + b.replies + b.quotes for b in report.charts.timeline)
    assert report.charts.metrics[-1].likes == 1500
    assert report.cost.calls > 0 and report.cost.billable_posts > 0
    assert report.coverage is not None and report.coverage.ratio == 1.0


def test_the_report_does_not_change_after_completion(played):
    before = stored_report(played).model_dump()
    rt = played.rt
    with rt.db.write() as s:
        # later data changes: the seed list changes (every score drops), an alert is cleaned up
        s.execute(update(AccountImportance).values(score=0))
        s.execute(delete(Alert).where(Alert.campaign_id == played.campaign_id, Alert.kind == "engagement"))
    try:
        with rt.db.session() as s:
            campaign = played.campaign(s)
            assert final.get_report(s, campaign=campaign, now=rt.clock.now()).model_dump() == before
            recomputed = final.build(s, campaign=campaign, now=rt.clock.now())
        assert recomputed.high_importance_accounts == 0 != before["high_importance_accounts"]
        # completing again (a replayed hook) keeps the first report
        with rt.db.write() as s:
            final.freeze(s, played.campaign(s), rt.clock.now())
            assert s.scalar(select(func.count()).select_from(CampaignReport)) == 1
        assert stored_report(played).model_dump() == before
    finally:
        with rt.db.write() as s:  # put the scores back for the other tests of the module
            from socap.importance import scoring
            from socap.monitoring.models import Engagement

            ids = s.scalars(select(Engagement.account_id).where(Engagement.campaign_id == played.campaign_id)).all()
            scoring.store_scores(s, workspace_id=played.workspace_id, account_ids=ids, now=rt.clock.now())


def test_json_and_csv_exports_parse_and_agree(played):
    report = stored_report(played)
    assert json.loads(export.to_json(report))["totals"]["engagements"]["value"] == 120
    with played.rt.db.session() as s:
        campaign = played.campaign(s)
        engagements = list(csv.DictReader(io.StringIO("".join(export.engagements_csv(s, campaign=campaign)))))
        accounts = list(csv.DictReader(io.StringIO("".join(export.accounts_csv(s, campaign=campaign)))))
    assert len(engagements) == 120 and len({e["engagement_id"] for e in engagements}) == 120
    assert {e["action"] for e in engagements} == {"retweet", "reply", "quote"}
    assert {e["post"] for e in engagements} == {"main", "influencer1", "investor1"}
    assert len(accounts) == 95 and sum(int(a["engagements"]) for a in accounts) == 120
    assert [int(a["importance"]) for a in accounts] == sorted((int(a["importance"]) for a in accounts), reverse=True)


def test_csv_cells_cannot_become_spreadsheet_formulas():
    rows = list(csv.reader(io.StringIO("".join(export._csv(["text"], [["=HYPERLINK(\"x\")"], ["@cmd"], ["ok"]])))))
    assert rows[1:] == [["'=HYPERLINK(\"x\")"], ["'@cmd"], ["ok"]]


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")
def test_html_opens_offline_in_chromium_and_the_pdf_has_pages(played, tmp_path):
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    report = stored_report(played)
    html = export.to_html(report)
    assert '<script src="http' not in html and '<link rel="stylesheet" href="http' not in html
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:")
                   else route.continue_())  # offline: nothing but the file itself may load
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-charts=ready]", timeout=30_000)
        assert page.locator(".js-plotly-plot").count() == 4
        assert "Product Launch Q1 2025" in page.title()
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()
    assert errors == []
    pdf = export.to_pdf(report)
    (ARTIFACTS / "report.pdf").write_bytes(pdf)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert 2 <= pages <= 12


def test_pdf_without_chromium_says_what_to_do(played):
    with pytest.raises(export.ReportError, match="apt-get install chromium"):
        export.to_pdf(stored_report(played), chromium="/nonexistent/chromium")


def test_report_command_writes_every_format(played, tmp_path):
    from socap.cli import app
    from socap.console import set_runtime

    set_runtime(played.rt)
    try:
        runner = CliRunner()
        for fmt in ("json", "csv", "accounts-csv", "html"):
            target = tmp_path / f"out.{fmt}"
            r = runner.invoke(app, ["report", str(played.campaign_id), "--format", fmt, "-o", str(target)])
            assert r.exit_code == 0, r.output
            assert target.stat().st_size > 100
        assert json.loads((tmp_path / "out.json").read_text())["kind"] == "final"
        r = runner.invoke(app, ["report", str(played.campaign_id), "--format", "docx"])
        assert r.exit_code == 2 and "unknown format" in r.output
        r = runner.invoke(app, ["report", "999", "--format", "json"])
        assert r.exit_code == 2 and "no campaign" in r.output
    finally:
        set_runtime(None)


def test_an_interim_report_is_labelled_and_not_stored(played):
    with played.rt.db.session() as s:
        campaign = played.campaign(s)
        campaign.status = "active"  # as it was during the window (not flushed: read-only session)
        interim = final.build(s, campaign=campaign, now=played.rt.clock.now())
        s.rollback()
    assert interim.kind == "interim"
    assert "Interim report" in export.to_html(interim)
    assert "figures will still change" in export.to_html(interim)


def test_the_summary_alert_is_queued_at_completion(played):
    with played.rt.db.session() as s:
        summaries = s.scalars(select(Alert).where(Alert.campaign_id == played.campaign_id,
                                                  Alert.kind == "summary")).all()
    assert len(summaries) == 1
    text = summaries[0].message
    assert text.startswith('Campaign "Product Launch Q1 2025" completed.')
    assert "120 engagements by 95 accounts" in text and "1,500 likes" in text
    assert text.count("@") >= 5 and f"/campaigns/{played.campaign_id}/report" in text
