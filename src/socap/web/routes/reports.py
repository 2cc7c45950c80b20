"""The campaign report in the dashboard and through /api/v1: the page, and downloads in every format."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from socap.auth.service import Principal
from socap.campaigns import service as campaign_service
from socap.campaigns.models import Campaign
from socap.reports import export, final
from socap.reports.final import Report
from socap.runtime import Runtime
from socap.web.deps import ApiUser, PageUser, RuntimeDep
from socap.web.security import CSP

router = APIRouter()


@contextmanager
def _campaign(rt: Runtime, user: Principal, campaign_id: int) -> Iterator[tuple[Session, Campaign]]:
    """A read session and the user's campaign (404 for another workspace's id)."""
    with rt.db.session() as session:
        try:
            yield session, campaign_service.get(session, campaign_id=campaign_id, workspace_id=user.workspace_id)
        except campaign_service.CampaignNotFound as exc:
            raise HTTPException(404, str(exc)) from exc


def _report(rt: Runtime, user: Principal, campaign_id: int) -> Report:
    with _campaign(rt, user, campaign_id) as (session, campaign):
        return final.get_report(session, campaign=campaign, now=rt.clock.now())


def _download(rt: Runtime, user: Principal, campaign_id: int, fmt: str) -> Response:
    if fmt not in export.FORMATS:
        raise HTTPException(404, f"no report format {fmt!r}; use one of {', '.join(export.FORMATS)}")
    with _campaign(rt, user, campaign_id) as (session, campaign):
        report = final.get_report(session, campaign=campaign, now=rt.clock.now())
        if fmt in ("csv", "accounts-csv"):
            rows = export.engagements_csv if fmt == "csv" else export.accounts_csv
            content: str | bytes = "".join(rows(session, campaign=campaign))
    headers = {"Content-Disposition": f'attachment; filename="{export.filename(report, fmt)}"'}
    if fmt == "json":
        content = export.to_json(report)
    elif fmt == "html":
        content = export.to_html(report)
    elif fmt == "pdf":
        try:
            content = export.to_pdf(report, chromium=rt.settings.chromium_path)
        except export.ReportError as exc:
            raise HTTPException(503, str(exc)) from exc
    return Response(content, media_type=export.MEDIA_TYPES[fmt], headers=headers)


@router.get("/campaigns/{campaign_id}/report", response_class=HTMLResponse, include_in_schema=False)
def report_page(request: Request, campaign_id: int, user: PageUser, rt: RuntimeDep) -> HTMLResponse:
    """The report in the dashboard: the same document as the HTML download, with download links."""
    report = _report(rt, user, campaign_id)
    nonce = export.new_nonce()
    base = f"/campaigns/{campaign_id}/report"
    links = {"← Dashboard": f"/campaigns/{campaign_id}", "HTML file": base + ".html", "PDF": base + ".pdf",
             "JSON": base + ".json", "Engagements CSV": base + ".csv", "Accounts CSV": base + ".accounts-csv"}
    html = export.to_html(report, nonce=nonce, links=links)
    # the report's own inline scripts run by nonce; nothing else inline can
    csp = CSP.replace("script-src 'self'", f"script-src 'self' 'nonce-{nonce}'")
    return HTMLResponse(html, headers={"Content-Security-Policy": csp})


@router.get("/campaigns/{campaign_id}/report.{fmt}", include_in_schema=False)
def report_download(campaign_id: int, fmt: str, user: PageUser, rt: RuntimeDep) -> Response:
    return _download(rt, user, campaign_id, fmt)


REPORT_NOT_FOUND = {404: {"description": "no such campaign in your workspace (or no such format)"}}


@router.get("/api/v1/campaigns/{campaign_id}/report", response_model=Report, tags=["reports"],
            responses=REPORT_NOT_FOUND)
def report_json(campaign_id: int, user: ApiUser, rt: RuntimeDep) -> JSONResponse:
    """The frozen final report of a completed campaign, else an interim one (``kind``)."""
    return JSONResponse(_report(rt, user, campaign_id).model_dump(mode="json"))


@router.get("/api/v1/campaigns/{campaign_id}/report.{fmt}", tags=["reports"],
            responses={**REPORT_NOT_FOUND, 503: {"description": "no Chromium to print the PDF with"}})
def report_file(campaign_id: int, fmt: str, user: ApiUser, rt: RuntimeDep) -> Response:
    """The report as a file: html, json, csv (engagements), accounts-csv or pdf."""
    return _download(rt, user, campaign_id, fmt)
