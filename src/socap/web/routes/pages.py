"""HTML pages (Jinja2). Thin: every number comes from socap.reports, every change from a domain service."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from socap.campaigns import service as campaign_service
from socap.web.deps import PageUser, SessionDep
from socap.web.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def campaigns(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
    rows = campaign_service.list_campaigns(session, workspace_id=user.workspace_id)
    return templates.TemplateResponse(request, "campaigns.html", {"user": user, "campaigns": rows})
