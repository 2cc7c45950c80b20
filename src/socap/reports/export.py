"""Report formats: JSON, CSV (engagements, accounts), a self-contained HTML file, and PDF printed from that
HTML by the system Chromium."""

from __future__ import annotations

import csv
import io
import json
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from socap.campaigns.models import Campaign, CampaignTweet
from socap.clock import ensure_utc, format_instant
from socap.importance.models import Account, AccountImportance
from socap.monitoring.models import Engagement
from socap.reports import final
from socap.reports.final import Report
from socap.reports.queries import labels_for

TEMPLATES = Path(__file__).parent / "templates"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_TIMEOUT_SECONDS = 120
FORMATS = ("html", "json", "csv", "accounts-csv", "pdf")
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "json": "application/json", "csv": "text/csv; charset=utf-8",
               "accounts-csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


class ReportError(RuntimeError):
    """A report format that cannot be produced here, with what to do about it."""


def filename(report: Report, fmt: str) -> str:
    ext = {"accounts-csv": "accounts.csv", "csv": "engagements.csv"}.get(fmt, fmt)
    return f"socap-campaign-{report.campaign.id}-{report.kind}-report.{ext}"


# ---------------------------------------------------------------- JSON and CSV

def to_json(report: Report) -> str:
    return report.model_dump_json(indent=2)


def _safe_cell(value) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas: a hostile tweet must stay text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header: list[str], rows) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_safe_cell(v) for v in row])
        yield buffer.getvalue()


def engagements_csv(session: Session, *, campaign: Campaign) -> Iterator[str]:
    """Every engagement of the campaign, oldest first (importance as of now), streamed row by row."""
    posts = {p.id: p for p in session.scalars(select(CampaignTweet).where(CampaignTweet.campaign_id == campaign.id))}
    labels = labels_for((p.id, p.category) for p in posts.values())
    query = (select(Engagement.id, Engagement.engaged_at, Engagement.action, Engagement.campaign_tweet_id,
                    Engagement.source_tweet_id, Engagement.text, Account.id, Account.username, Account.name,
                    Account.category, Account.followers_count, AccountImportance.score)
             .join(Account, Account.id == Engagement.account_id)
             .outerjoin(AccountImportance, (AccountImportance.account_id == Engagement.account_id)
                        & (AccountImportance.workspace_id == campaign.workspace_id))
             .where(Engagement.campaign_id == campaign.id)
             .order_by(Engagement.engaged_at, Engagement.id))

    def rows():
        for r in session.execute(query.execution_options(yield_per=2000)):
            post = posts[r[3]]
            yield (r[0], format_instant(ensure_utc(r[1])), r[2], labels[r[3]], post.category, post.url, r[6], r[7],
                   r[8], r[9], r[10], r[11] or 0, r[5] or "", f"https://x.com/{r[7]}/status/{r[4]}")

    return _csv(["engagement_id", "engaged_at_utc", "action", "post", "post_category", "post_url", "account_id",
                 "username", "name", "account_category", "followers", "importance", "text", "engagement_url"], rows())


def accounts_csv(session: Session, *, campaign: Campaign) -> Iterator[str]:
    """Every engaging account with its engagement count and importance (as of now)."""
    rows = ((r.id, r.username, r.name, r.category, r.followers_count, r.importance, r.engagements, r.posts,
             format_instant(ensure_utc(r.first_engaged_at)), format_instant(ensure_utc(r.last_engaged_at)))
            for r in final.accounts_of(session, campaign))
    return _csv(["account_id", "username", "name", "account_category", "followers", "importance", "engagements",
                 "posts_engaged", "first_engaged_at_utc", "last_engaged_at_utc"], rows)


# ---------------------------------------------------------------- HTML

@cache
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    env.filters["when"] = lambda v: ensure_utc(v).strftime("%Y-%m-%d %H:%M UTC") if v else "—"
    env.filters["number"] = lambda v: "—" if v is None else f"{v:,}"
    env.filters["signed"] = lambda v: "" if not v else f"{v:+,}"
    env.filters["pct"] = lambda v: "—" if v is None else f"{100 * v:.1f}%"
    return env


def _script_json(value) -> Markup:
    """JSON safe inside a <script type="application/json"> element (no "</script>" can close it early)."""
    text = json.dumps(value, default=str, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def chart_data(report: Report) -> dict:
    c = report.charts
    return {
        "metrics": [p.model_dump(mode="json") for p in c.metrics],
        "timeline": [b.model_dump(mode="json") for b in c.timeline],
        "peak": report.peak_hour.model_dump(mode="json") if report.peak_hour else None,
        "accountCategories": [s.model_dump() for s in report.account_categories],
        "comparison": [card.model_dump() for card in report.comparison.cards],
    }


def to_html(report: Report, *, nonce: str | None = None, links: dict[str, str] | None = None) -> str:
    """The report as one HTML file: styles, data, Plotly and the chart code inline — it opens offline and
    prints on A4. ``nonce`` marks the inline scripts for a Content-Security-Policy (dashboard view);
    ``links`` adds download links (dashboard view only)."""
    from socap.web.app import plotly_js

    return _env().get_template("report.html").render(
        r=report, data=_script_json(chart_data(report)), plotly=Markup(plotly_js().decode()),
        nonce=nonce, links=links or {})


# ---------------------------------------------------------------- PDF

def find_chromium(configured: str | None = None) -> str | None:
    if configured:
        return configured if Path(configured).exists() or shutil.which(configured) else None
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def to_pdf(report: Report, *, chromium: str | None = None) -> bytes:
    """Print the HTML report with headless Chromium (charts drawn first). ReportError when no Chromium."""
    exe = find_chromium(chromium)
    if exe is None:
        raise ReportError("PDF export needs Chromium, which was not found: install it (Debian: apt-get install "
                          "chromium) or set SOCAP_CHROMIUM_PATH; the HTML report prints to PDF from any browser too")
    with tempfile.TemporaryDirectory(prefix="socap-report-") as tmp:
        html, pdf = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        html.write_text(to_html(report), encoding="utf-8")
        command = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                   "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
                   "--virtual-time-budget=20000", f"--user-data-dir={tmp}/profile",
                   f"--print-to-pdf={pdf}", html.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PDF_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as exc:
            raise ReportError(f"Chromium did not finish printing the report within {PDF_TIMEOUT_SECONDS} s") from exc
        if not pdf.exists() or pdf.stat().st_size == 0:
            tail = (done.stderr or "").strip().splitlines()[-3:]
            raise ReportError(f"Chromium could not print the report (exit {done.returncode}): {' | '.join(tail)}")
        return pdf.read_bytes()


def new_nonce() -> str:
    return secrets.token_urlsafe(16)
