"""JSON API under /api/v1 (bearer token or session cookie; see socap.web.deps).

Every campaign is read through the caller's workspace: an id of another workspace answers 404 exactly like
an id that does not exist. Errors the caller can fix answer 422 with ``{"detail": {"errors": {field:
[messages]}}}`` (for posts X cannot find, also ``"missing"``); a refused state change (a completed campaign)
answers 409. Numbers come from socap.reports through the 60 s cache keyed by the campaign's data version;
changes go through socap.campaigns.service.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from socap.alerts import service as alert_service
from socap.auth.service import Principal
from socap.campaigns import service as campaign_service
from socap.campaigns.models import Campaign
from socap.campaigns.schemas import CampaignInput, CampaignOut, PostsInput, SettingsInput
from socap.campaigns.service import CampaignError, CampaignNotFound, CampaignValidationError, PostsUnavailable
from socap.reports import service as reports
from socap.reports.schemas import (
    AccountDetail,
    CategoryComparison,
    Charts,
    EngagementPage,
    Filters,
    PostDetail,
    Summary,
)
from socap.runtime import MissingCredentials, Runtime
from socap.web.cache import cached
from socap.web.deps import ApiUser, RuntimeDep, SessionDep
from socap.web.filters import RANGES, FilterError, filters_from_query
from socap.web.routes import stream
from socap.x import XAPIError


def error_body(errors: dict[str, list[str]], **extra: Any) -> dict:
    return {"detail": {"errors": errors, **extra}}


def _request_errors(exc: RequestValidationError) -> dict[str, list[str]]:
    """FastAPI's list of problems as {field: [messages]}: ("body", "threshold") → "threshold"."""
    errors: dict[str, list[str]] = {}
    for problem in exc.errors():
        loc = [str(part) for part in problem.get("loc", ())]
        field = loc[1] if len(loc) > 1 else (loc[0] if loc else "request")
        where = " ".join(loc[2:])
        errors.setdefault(field, []).append(f"{where}: {problem['msg']}" if where else problem["msg"])
    return errors


class ApiRoute(APIRoute):
    """Turns the domain's refusals into the API's answers, in one place, for every route of this router."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return JSONResponse(error_body(_request_errors(exc)), status_code=422)
            except FilterError as exc:
                return JSONResponse(error_body(exc.errors), status_code=422)
            except CampaignNotFound as exc:
                return JSONResponse({"detail": str(exc)}, status_code=404)
            except CampaignValidationError as exc:
                return JSONResponse(error_body(exc.errors), status_code=422)
            except PostsUnavailable as exc:
                errors: dict[str, list[str]] = {}
                for m in exc.missing:
                    errors.setdefault(m.category, []).append(f"{m.url}: {m.reason}")
                missing = [{"tweet_id": m.tweet_id, "category": m.category, "url": m.url, "reason": m.reason}
                           for m in exc.missing]
                return JSONResponse(error_body(errors, missing=missing), status_code=422)
            except CampaignError as exc:
                return JSONResponse({"detail": str(exc)}, status_code=409)
            except MissingCredentials as exc:
                return JSONResponse({"detail": str(exc)}, status_code=503)
            except XAPIError as exc:
                return JSONResponse({"detail": f"X API: {exc}"}, status_code=502)

        return route


# ---------------------------------------------------------------- shapes of errors (for /docs)

class MissingPostOut(BaseModel):
    tweet_id: str
    category: str
    url: str
    reason: str


class FieldErrors(BaseModel):
    errors: dict[str, list[str]] = Field(description="field → messages, every problem at once")
    missing: list[MissingPostOut] | None = Field(default=None, description="posts X could not find")


class ValidationErrorOut(BaseModel):
    detail: FieldErrors


class MessageOut(BaseModel):
    detail: str


# every route answers a bad parameter or body with ValidationErrorOut (ApiRoute above), not FastAPI's default
router = APIRouter(prefix="/api/v1", tags=["api"], route_class=ApiRoute, responses={
    400: {"model": MessageOut, "description": "the body is not readable JSON"},
    422: {"model": ValidationErrorOut, "description": "invalid input; nothing was changed"}})

NOT_FOUND = {404: {"model": MessageOut, "description": "no such campaign in your workspace"}}
INVALID = {422: {"model": ValidationErrorOut, "description": "invalid input; nothing was changed"}}
REFUSED = {409: {"model": MessageOut, "description": "the campaign is completed"}}
X_ERRORS = {502: {"model": MessageOut, "description": "X refused or failed"},
            503: {"model": MessageOut, "description": "no X credentials configured"}}


# ---------------------------------------------------------------- shared pieces

INSTANT_DOC = "ISO 8601 date or time (UTC if naive); implies range=custom"


def query_filters(
    request: Request,
    category: Annotated[list[str] | None, Query(
        description="post category: main, influencer, investor (repeatable or comma-separated)")] = None,
    action: Annotated[list[str] | None, Query(
        description="retweet, reply, quote (repeatable or comma-separated)")] = None,
    min_importance: Annotated[str | None, Query(description="importance at least this (whole number ≥ 0)")] = None,
    range: Annotated[str | None, Query(description=" | ".join(RANGES) + "; default all, today is the UTC day")] = None,
    since: Annotated[str | None, Query(description=INSTANT_DOC)] = None,
    until: Annotated[str | None, Query(description=INSTANT_DOC)] = None,
) -> Filters:
    """The view's filters, parsed by socap.web.filters (the parameters are declared here for /docs)."""
    return filters_from_query(request)


FiltersDep = Annotated[Filters, Depends(query_filters)]
Page = Annotated[int, Query(ge=1, le=reports.MAX_PAGE, description="page number, 50 rows a page")]


def user_campaign(session: Session, user: Principal, campaign_id: int) -> Campaign:
    """The caller's campaign; CampaignNotFound (→ 404) for an id of another workspace, as for a missing one."""
    return campaign_service.get(session, campaign_id=campaign_id, workspace_id=user.workspace_id)


def _cached(request: Request, rt: Runtime, campaign: Campaign, view: str, filters: Filters, model: type,
            compute: Callable[[datetime], Any], extra: str = "") -> Any:
    now = rt.clock.now()
    # (the key holds the workspace and creation time: a reused campaign id never reads another's entry)
    return cached(request.app.state.cache, campaign=campaign, view=view, filters=filters, now=now,
                  extra=extra, model=model, compute=lambda: compute(now))


def _out(session: Session, campaign: Campaign, warnings: list[str] | tuple = ()) -> CampaignOut:
    return campaign_service.to_out(session, campaign, warnings=warnings)


# ---------------------------------------------------------------- who am I

@router.get("/me")
def me(user: ApiUser) -> dict:
    """Who the token or session belongs to."""
    return {"user_id": user.user_id, "email": user.email, "workspace": user.workspace_name}


# ---------------------------------------------------------------- campaigns

@router.get("/campaigns", response_model=list[CampaignOut])
def list_campaigns(user: ApiUser, session: SessionDep) -> list[CampaignOut]:
    """The campaigns of your workspace, oldest first."""
    return [_out(session, c) for c in campaign_service.list_campaigns(session, workspace_id=user.workspace_id)]


@router.post("/campaigns", response_model=CampaignOut, status_code=201, responses={**INVALID, **X_ERRORS})
def create_campaign(data: CampaignInput, user: ApiUser, rt: RuntimeDep) -> CampaignOut:
    """Create a campaign: every field is checked first (all problems at once, no X call), then every post is
    resolved on X (100 ids a call); posts X cannot find fail the request unless ``allow_missing``."""
    campaign_service.validate_input(data, now=rt.clock.now())
    with rt.x_client() as client:
        campaign_id, plan = campaign_service.create(rt.db, client, rt.clock, data, workspace_id=user.workspace_id)
    with rt.db.session() as session:
        return _out(session, user_campaign(session, user, campaign_id), plan.warnings)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut, responses=NOT_FOUND)
def get_campaign(campaign_id: int, user: ApiUser, session: SessionDep) -> CampaignOut:
    """One campaign with its posts (notification URLs masked)."""
    return _out(session, user_campaign(session, user, campaign_id))


@router.patch("/campaigns/{campaign_id}", response_model=CampaignOut, responses={**NOT_FOUND, **INVALID})
def update_campaign(campaign_id: int, data: SettingsInput, user: ApiUser, rt: RuntimeDep) -> CampaignOut:
    """Change the name, alert threshold, spacing or notification URLs (fields left out stay). A new threshold
    applies to engagements found from now on. Notification URLs sent back masked keep their stored value."""
    with rt.db.write() as session:
        campaign = user_campaign(session, user, campaign_id)
        campaign_service.update_settings(session, campaign=campaign, clock=rt.clock, name=data.name,
                                         threshold=data.threshold, spacing_minutes=data.spacing_minutes,
                                         notify_urls=data.notify_urls)
        return _out(session, campaign)


@router.delete("/campaigns/{campaign_id}", status_code=204, responses=NOT_FOUND)
def delete_campaign(campaign_id: int, user: ApiUser, rt: RuntimeDep) -> Response:
    """Delete the campaign and everything recorded for it (posts, jobs, runs, engagements, metrics, alerts)."""
    with rt.db.write() as session:
        campaign_service.delete(session, campaign=user_campaign(session, user, campaign_id))
    return Response(status_code=204)


@router.post("/campaigns/{campaign_id}/posts", response_model=CampaignOut,
             responses={**NOT_FOUND, **INVALID, **REFUSED, **X_ERRORS})
def add_posts(campaign_id: int, data: PostsInput, user: ApiUser, rt: RuntimeDep) -> CampaignOut:
    """Add posts by URL or id; posts already tracked are skipped with a warning."""
    with rt.x_client() as client:
        result = campaign_service.add_posts_by_url(rt.db, client, rt.clock, campaign_id=campaign_id, data=data,
                                                   workspace_id=user.workspace_id)
    with rt.db.session() as session:
        return _out(session, user_campaign(session, user, campaign_id), result.warnings)


@router.post("/campaigns/{campaign_id}/pause", response_model=CampaignOut, responses={**NOT_FOUND, **REFUSED})
def pause_campaign(campaign_id: int, user: ApiUser, rt: RuntimeDep) -> CampaignOut:
    """Stop polling and alerts; everything recorded is kept."""
    with rt.db.write() as session:
        campaign = user_campaign(session, user, campaign_id)
        campaign_service.pause(session, campaign=campaign, clock=rt.clock)
        return _out(session, campaign)


@router.post("/campaigns/{campaign_id}/resume", response_model=CampaignOut, responses={**NOT_FOUND, **REFUSED})
def resume_campaign(campaign_id: int, user: ApiUser, rt: RuntimeDep) -> CampaignOut:
    """Resume a paused campaign; jobs that fell due meanwhile run at the next tick, once."""
    with rt.db.write() as session:
        campaign = user_campaign(session, user, campaign_id)
        campaign_service.resume(session, campaign=campaign, clock=rt.clock)
        return _out(session, campaign)


# ---------------------------------------------------------------- statistics (filters apply to all of it)

READ_ERRORS = {**NOT_FOUND, 422: {"model": ValidationErrorOut, "description": "bad filter or page"}}


@router.get("/campaigns/{campaign_id}/summary", response_model=Summary, responses=READ_ERRORS)
def summary(campaign_id: int, request: Request, filters: FiltersDep, user: ApiUser, session: SessionDep,
            rt: RuntimeDep) -> Summary:
    """Totals with their change since the last run, per-category cards, every post with its metrics and
    coverage, calls and cost."""
    campaign = user_campaign(session, user, campaign_id)
    return _cached(request, rt, campaign, "summary", filters, Summary, lambda now: reports.summary(
        session, campaign=campaign, filters=filters, now=now, concurrent=True))


@router.get("/campaigns/{campaign_id}/charts", response_model=Charts, responses=READ_ERRORS)
def charts(campaign_id: int, request: Request, filters: FiltersDep, user: ApiUser, session: SessionDep,
           rt: RuntimeDep) -> Charts:
    """Cumulative metrics over time, engagements per hour, engaging accounts by category."""
    campaign = user_campaign(session, user, campaign_id)
    return _cached(request, rt, campaign, "charts", filters, Charts, lambda now: reports.charts(
        session, campaign=campaign, filters=filters, now=now))


@router.get("/campaigns/{campaign_id}/engagements", response_model=EngagementPage, responses=READ_ERRORS)
def engagements(campaign_id: int, request: Request, filters: FiltersDep, user: ApiUser, session: SessionDep,
                rt: RuntimeDep, page: Page = 1) -> EngagementPage:
    """Engagements sorted by importance (highest first), 50 a page."""
    campaign = user_campaign(session, user, campaign_id)
    return _cached(request, rt, campaign, "engagements", filters, EngagementPage, lambda now: reports.engagements(
        session, campaign=campaign, filters=filters, now=now, page=page), extra=f"page={page}")


@router.get("/campaigns/{campaign_id}/posts/{post_id}", response_model=PostDetail, responses=READ_ERRORS)
def post_detail(campaign_id: int, post_id: int, request: Request, filters: FiltersDep, user: ApiUser,
                session: SessionDep, rt: RuntimeDep, page: Page = 1) -> PostDetail:
    """One post (``post_id`` is the campaign post's ``id``): metrics over time, timeline, its engagers."""
    campaign = user_campaign(session, user, campaign_id)
    try:
        return _cached(request, rt, campaign, "post", filters, PostDetail, lambda now: reports.post_detail(
            session, campaign=campaign, post_id=post_id, filters=filters, now=now, page=page),
            extra=f"post={post_id}&page={page}")
    except LookupError:
        raise HTTPException(404, f"no post {post_id} in this campaign") from None


@router.get("/campaigns/{campaign_id}/accounts/{account_id}", response_model=AccountDetail, responses=NOT_FOUND)
def account_detail(campaign_id: int, account_id: int, request: Request, user: ApiUser, session: SessionDep,
                   rt: RuntimeDep) -> AccountDetail:
    """An engaging account (``account_id`` is its X user id): profile, importance with the seeds behind it,
    every engagement in this campaign."""
    campaign = user_campaign(session, user, campaign_id)
    try:
        return _cached(request, rt, campaign, "account", Filters(), AccountDetail,
                       lambda now: reports.account_detail(session, campaign=campaign, account_id=account_id),
                       extra=f"account={account_id}")
    except LookupError:
        raise HTTPException(404, f"account {account_id} has not engaged with this campaign") from None


@router.get("/campaigns/{campaign_id}/categories", response_model=CategoryComparison, responses=READ_ERRORS)
def categories(campaign_id: int, request: Request, filters: FiltersDep, user: ApiUser, session: SessionDep,
               rt: RuntimeDep) -> CategoryComparison:
    """main vs influencer vs investor side by side."""
    campaign = user_campaign(session, user, campaign_id)
    return _cached(request, rt, campaign, "categories", filters, CategoryComparison,
                   lambda now: reports.category_comparison(session, campaign=campaign, filters=filters, now=now))


# ---------------------------------------------------------------- alerts

class DeliveryOut(BaseModel):
    channel: str  # masked
    status: str
    attempts: int
    sent_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None
    idempotency_key: str


class AlertOut(BaseModel):
    id: int
    kind: str  # engagement | summary (the completion summary)
    status: str  # queued | sent | failed | cancelled
    importance: int
    message: str
    run_id: int | None
    scheduled_send_at: datetime | None
    sent_at: datetime | None
    created_at: datetime
    deliveries: list[DeliveryOut]


@router.get("/campaigns/{campaign_id}/alerts", response_model=list[AlertOut], responses=NOT_FOUND)
def alerts(campaign_id: int, user: ApiUser, session: SessionDep) -> list[dict]:
    """The campaign's alerts in send order, with each channel's delivery (URLs masked).

    Not cached: delivery progress does not change the campaign's data version."""
    campaign = user_campaign(session, user, campaign_id)
    return alert_service.list_alerts(session, campaign_id=campaign.id)


stream.register(router)
