"""HTML pages (Jinja2). Thin: every number comes from socap.reports, every change from a domain service.

Every campaign is read through the signed-in user's workspace (``campaign_service.get(…, workspace_id=…)``);
an id from another workspace answers 404 exactly like an id that does not exist. Forms post with the
session's CSRF token and redirect after a successful post (303), so a reload never repeats a change.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socap.alerts import service as alert_service
from socap.alerts.masking import mask_url
from socap.alerts.models import Alert
from socap.auth.service import Principal
from socap.campaigns import service as campaign_service
from socap.campaigns.models import TWEET_CATEGORIES, Campaign
from socap.campaigns.schemas import CampaignInput, PostsInput
from socap.campaigns.service import CampaignError, CampaignNotFound, CampaignValidationError, PostsUnavailable
from socap.clock import ensure_utc
from socap.monitoring.models import Engagement
from socap.reports.schemas import ACTIONS, POST_CATEGORIES, Filters
from socap.web.deps import PageUser, RuntimeDep, SessionDep, verify_csrf
from socap.web.filters import FilterError, filters_from_query, filters_to_query
from socap.web.templating import templates

router = APIRouter(include_in_schema=False)
CSRF = [Depends(verify_csrf)]
URL_SPLIT = re.compile(r"[\s,]+")
RANGE_LABELS = {"all": "All time", "24h": "Last 24 h", "today": "Today (UTC)", "custom": "Custom"}
# form fields of the create page, in the order they are shown; errors for other keys go to the top
CREATE_FIELDS = ("name", "main", "influencer", "investor", "days", "starts_at", "ends_at", "threshold",
                 "spacing_minutes", "notify_urls")


# ---------------------------------------------------------------- helpers

def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render a page; a message left by the previous post ("flash") is shown once."""
    flash = request.session.pop("flash", None)
    return templates.TemplateResponse(request, name, {"flash": flash, **context}, status_code=status_code)


def flash(request: Request, text: str, kind: str = "ok") -> None:
    request.session["flash"] = {"text": text, "kind": kind}


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def load_campaign(session: Session, user: Principal, campaign_id: int) -> Campaign:
    """The user's campaign, or 404 (never 403: ids of other workspaces are not revealed)."""
    try:
        return campaign_service.get(session, campaign_id=campaign_id, workspace_id=user.workspace_id)
    except CampaignNotFound:
        raise HTTPException(404, "There is no such campaign in your workspace.") from None


def split_urls(text: str) -> list[str]:
    """One URL per line or comma-separated (blank lines ignored)."""
    return [part for part in URL_SPLIT.split(text or "") if part]


def parse_when(text: str) -> datetime:
    """A datetime-local value (or ISO 8601 instant); naive values are UTC."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    return ensure_utc(datetime.fromisoformat(value))


def page_filters(request: Request) -> tuple[Filters, dict[str, list[str]]]:
    """The URL's filters; bad ones are reported next to the filter form and the view falls back to all."""
    try:
        return filters_from_query(request), {}
    except FilterError as exc:
        return Filters(), exc.errors


def page_number(request: Request) -> int:
    try:
        return max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1


def cached_view(request: Request, campaign: Campaign, view: str, filters: Filters, now: datetime,
                model: type, compute: Callable[[], Any], extra: str = "") -> Any:
    """A reports result through the app's cache (the key includes the campaign's data version)."""
    from socap.web.cache import cached

    return cached(request.app.state.cache, campaign=campaign, view=view, filters=filters, now=now, extra=extra,
                  model=model, compute=compute)


def campaign_counts(session: Session, campaign_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Engagements and sent alerts per campaign, for the campaigns list (two grouped counts)."""
    if not campaign_ids:
        return {}, {}
    engagements = dict(session.execute(
        select(Engagement.campaign_id, func.count()).where(Engagement.campaign_id.in_(campaign_ids))
        .group_by(Engagement.campaign_id)).all())
    alerts = dict(session.execute(
        select(Alert.campaign_id, func.count()).where(Alert.campaign_id.in_(campaign_ids), Alert.status == "sent")
        .group_by(Alert.campaign_id)).all())
    return engagements, alerts


def alert_count(session: Session, campaign_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Alert)
                          .where(Alert.campaign_id == campaign_id, Alert.status == "sent")) or 0


def filter_context(request: Request, filters: Filters, errors: dict[str, list[str]]) -> dict[str, Any]:
    query = filters_to_query(filters)
    return {
        "filters": filters, "filter_errors": errors, "query": query, "qs": ("?" + query) if query else "",
        "amp": ("&" + query) if query else "", "filtered": bool(query),
        "categories_all": POST_CATEGORIES, "actions_all": ACTIONS, "range_labels": RANGE_LABELS,
        "describe_filters": describe_filters(filters),
    }


def describe_filters(filters: Filters) -> str:
    """"retweets on influencer posts, importance ≥ 21, today (UTC)": the filtered view in words."""
    names = {"retweet": "retweets", "reply": "replies", "quote": "quotes"}
    what = " and ".join(names[a] for a in filters.actions) if filters.actions else "all engagements"
    if filters.categories:
        what += " on " + " and ".join(filters.categories) + " posts"
    parts = [what]
    if filters.min_importance is not None:
        parts.append(f"importance ≥ {filters.min_importance}")
    if filters.range == "custom":
        since = filters.since.strftime("%Y-%m-%d %H:%M") if filters.since else "the start"
        until = filters.until.strftime("%Y-%m-%d %H:%M") if filters.until else "now"
        parts.append(f"{since} – {until} UTC")
    elif filters.range != "all":
        parts.append({"24h": "last 24 h", "today": "today (UTC)"}[filters.range])
    return ", ".join(parts)


def campaign_context(session: Session, campaign: Campaign) -> dict[str, Any]:
    return {"campaign": campaign, "alerts_sent": alert_count(session, campaign.id)}


# ---------------------------------------------------------------- campaigns list

@router.get("/", response_class=HTMLResponse)
def campaigns(request: Request, user: PageUser, session: SessionDep, rt: RuntimeDep) -> HTMLResponse:
    rows = campaign_service.list_campaigns(session, workspace_id=user.workspace_id)
    engagements, alerts = campaign_counts(session, [c.id for c in rows])
    items = [{
        "campaign": c,
        "posts": {cat: sum(1 for t in c.tweets if t.category == cat) for cat in TWEET_CATEGORIES},
        "unavailable": sum(1 for t in c.tweets if t.unavailable_reason),
        "engagements": engagements.get(c.id, 0),
        "alerts": alerts.get(c.id, 0),
    } for c in reversed(rows)]
    return render(request, "campaigns.html", {"user": user, "items": items, "now": rt.clock.now()})


# ---------------------------------------------------------------- create

def blank_form() -> dict[str, str]:
    return {"name": "", "main": "", "influencer": "", "investor": "", "window": "days", "days": "3",
            "starts_at": "", "ends_at": "", "threshold": "10", "spacing_minutes": "20", "notify_urls": "",
            "allow_missing": ""}


@router.get("/campaigns/new", response_class=HTMLResponse)
def new_campaign(request: Request, user: PageUser) -> HTMLResponse:
    return render(request, "campaign_new.html", {"user": user, "form": blank_form(), "errors": {},
                                                 "missing": [], "other_errors": []})


def form_to_input(form: dict[str, str]) -> tuple[CampaignInput, dict[str, list[str]]]:
    """The form's text fields as a CampaignInput plus the errors found while reading numbers and times;
    unreadable values fall back to defaults so the service can still report everything else at once."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"name": form["name"], "notify_urls": split_urls(form["notify_urls"]),
                              "allow_missing": bool(form["allow_missing"])}
    for category in TWEET_CATEGORIES:
        values[category] = split_urls(form[category])

    def number(field: str, kind: type, label: str) -> None:
        text = form[field].strip()
        if not text:
            errors.setdefault(field, []).append(f"enter the {label}")
            return
        try:
            values[field] = kind(text)
        except ValueError:
            errors.setdefault(field, []).append(f"the {label} must be a {'number' if kind is float else 'whole number'}"
                                                f" (got {text!r})")

    def instant(field: str, label: str, required: bool) -> None:
        text = form[field].strip()
        if not text:
            if required:
                errors.setdefault(field, []).append(f"enter the {label}")
            return
        try:
            values[field] = parse_when(text)
        except ValueError:
            errors.setdefault(field, []).append(f"not a date and time: {text!r} (e.g. 2025-01-15 09:00)")

    if form["window"] == "dates":
        instant("starts_at", "start", required=False)
        instant("ends_at", "end", required=True)
    else:
        number("days", float, "number of days")
        instant("starts_at", "start", required=False)
    number("threshold", int, "alert threshold")
    number("spacing_minutes", int, "alert spacing")
    return CampaignInput(**values), errors


@router.post("/campaigns/new", response_class=HTMLResponse, dependencies=CSRF)
def create_campaign(
    request: Request, user: PageUser, rt: RuntimeDep,
    name: Annotated[str, Form()] = "", main: Annotated[str, Form()] = "",
    influencer: Annotated[str, Form()] = "", investor: Annotated[str, Form()] = "",
    window: Annotated[str, Form()] = "days", days: Annotated[str, Form()] = "",
    starts_at: Annotated[str, Form()] = "", ends_at: Annotated[str, Form()] = "",
    threshold: Annotated[str, Form()] = "", spacing_minutes: Annotated[str, Form()] = "",
    notify_urls: Annotated[str, Form()] = "", allow_missing: Annotated[str, Form()] = "",
):
    form = {"name": name, "main": main, "influencer": influencer, "investor": investor,
            "window": "dates" if window == "dates" else "days", "days": days, "starts_at": starts_at,
            "ends_at": ends_at, "threshold": threshold, "spacing_minutes": spacing_minutes,
            "notify_urls": notify_urls, "allow_missing": allow_missing}
    data, errors = form_to_input(form)
    try:
        campaign_service.validate_input(data, now=rt.clock.now())
    except CampaignValidationError as exc:
        for field, messages in exc.errors.items():
            errors.setdefault(field, []).extend(messages)
    missing = []
    if not errors:  # nothing reaches X (and nothing is written) while the form has errors
        try:
            with rt.x_client() as client:
                campaign_id, plan = campaign_service.create(rt.db, client, rt.clock, data,
                                                            workspace_id=user.workspace_id)
        except CampaignValidationError as exc:
            errors = exc.errors
        except PostsUnavailable as exc:
            missing = exc.missing
        else:
            text = f"Campaign “{data.name.strip()}” created with {len(plan.posts)} posts."
            if plan.warnings:
                text += " " + " ".join(plan.warnings)
            flash(request, text, "warn" if plan.warnings else "ok")
            return redirect(f"/campaigns/{campaign_id}")
    other = [f"{k}: {m}" for k, msgs in errors.items() if k not in CREATE_FIELDS for m in msgs]
    return render(request, "campaign_new.html", {"user": user, "form": form, "errors": errors, "missing": missing,
                                                 "other_errors": other}, status_code=400)


# ---------------------------------------------------------------- dashboard

@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def dashboard(request: Request, campaign_id: int, user: PageUser, session: SessionDep, rt: RuntimeDep):
    from socap.reports import service as reports
    from socap.reports.schemas import Charts, EngagementPage, Summary

    campaign = load_campaign(session, user, campaign_id)
    filters, filter_errors = page_filters(request)
    now = rt.clock.now()
    page = page_number(request)
    summary = cached_view(request, campaign, "summary", filters, now, Summary,
                          lambda: reports.summary(session, campaign=campaign, filters=filters, now=now,
                                                  concurrent=True))
    charts = cached_view(request, campaign, "charts", filters, now, Charts,
                         lambda: reports.charts(session, campaign=campaign, filters=filters, now=now))
    engagements = cached_view(
        request, campaign, "engagements", filters, now, EngagementPage,
        lambda: reports.engagements(session, campaign=campaign, filters=filters, now=now, page=page),
        extra=f"page={page}")
    labels = reports.post_labels(session, campaign_id=campaign.id)
    from socap.reports import final

    head = cached_view(request, campaign, "headline", Filters(), now, final.Headline,
                       lambda: final.headline(session, campaign=campaign))
    return render(request, "dashboard.html", {
        "top_engager": head.top_engager, "api_budget": api_budget(session, rt, campaign, now),
        "user": user, **campaign_context(session, campaign), **filter_context(request, filters, filter_errors),
        "summary": summary, "charts": charts.model_dump(mode="json"), "engagements": engagements,
        "labels": labels, "now": now, "page": page, "base_path": f"/campaigns/{campaign.id}",
    })


def api_budget(session: Session, rt, campaign: Campaign, now: datetime) -> dict | None:
    """An active campaign's calls needed per cycle vs the rate-limit budget it gets (socap status shows it too)."""
    from socap.monitoring import service as monitoring_service

    if campaign.status != "active":
        return None
    return monitoring_service.api_budget(session, now=now, limits=rt.settings.x_rate_limits,
                                         cycle=timedelta(minutes=rt.settings.poll_interval_minutes)).get(campaign.id)


# ---------------------------------------------------------------- drill-downs

@router.get("/campaigns/{campaign_id}/posts/{post_id}", response_class=HTMLResponse)
def post_page(request: Request, campaign_id: int, post_id: int, user: PageUser, session: SessionDep,
              rt: RuntimeDep):
    from socap.reports import service as reports
    from socap.reports.schemas import PostDetail

    campaign = load_campaign(session, user, campaign_id)
    filters, filter_errors = page_filters(request)
    now = rt.clock.now()
    page = page_number(request)
    try:
        detail = cached_view(
            request, campaign, "post", filters, now, PostDetail,
            lambda: reports.post_detail(session, campaign=campaign, post_id=post_id, filters=filters, now=now,
                                        page=page),
            extra=f"post={post_id}:page={page}")
    except LookupError:
        raise HTTPException(404, "This campaign has no such post.") from None
    labels = reports.post_labels(session, campaign_id=campaign.id)
    return render(request, "post.html", {
        "user": user, **campaign_context(session, campaign), **filter_context(request, filters, filter_errors),
        "detail": detail, "post": detail.post, "label": labels.get(post_id, detail.post.category),
        "engagements": detail.engagers, "page": page, "now": now,
        "charts": {"metrics": [p.model_dump(mode="json") for p in detail.metrics],
                   "timeline": [b.model_dump(mode="json") for b in detail.timeline]},
        "base_path": f"/campaigns/{campaign.id}/posts/{post_id}", "hide_post_column": True,
    })


@router.get("/campaigns/{campaign_id}/accounts/{account_id}", response_class=HTMLResponse)
def account_page(request: Request, campaign_id: int, account_id: int, user: PageUser, session: SessionDep,
                 rt: RuntimeDep):
    from socap.reports import service as reports
    from socap.reports.schemas import AccountDetail

    campaign = load_campaign(session, user, campaign_id)
    now = rt.clock.now()
    try:
        detail = cached_view(request, campaign, "account", Filters(), now, AccountDetail,
                             lambda: reports.account_detail(session, campaign=campaign, account_id=account_id),
                             extra=f"account={account_id}")
    except LookupError:
        raise HTTPException(404, "This account has not engaged with this campaign.") from None
    posts = {p for e in detail.engagements for p in [e.post_id]}
    return render(request, "account.html", {
        "user": user, **campaign_context(session, campaign), "account": detail, "posts_engaged": len(posts),
        "high": detail.importance >= campaign.alert_threshold, "now": now,
    })


@router.get("/campaigns/{campaign_id}/categories", response_class=HTMLResponse)
def categories_page(request: Request, campaign_id: int, user: PageUser, session: SessionDep, rt: RuntimeDep):
    from socap.reports import service as reports
    from socap.reports.schemas import CategoryComparison

    campaign = load_campaign(session, user, campaign_id)
    filters, filter_errors = page_filters(request)
    now = rt.clock.now()
    comparison = cached_view(request, campaign, "categories", filters, now, CategoryComparison,
                             lambda: reports.category_comparison(session, campaign=campaign, filters=filters,
                                                                 now=now))
    return render(request, "categories.html", {
        "user": user, **campaign_context(session, campaign), **filter_context(request, filters, filter_errors),
        "comparison": comparison, "cards": {c.category: c for c in comparison.cards},
        "timelines": {k: [b.model_dump(mode="json") for b in v] for k, v in comparison.timelines.items()},
        "base_path": f"/campaigns/{campaign.id}/categories", "now": now,
    })


@router.get("/campaigns/{campaign_id}/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, campaign_id: int, user: PageUser, session: SessionDep, rt: RuntimeDep):
    campaign = load_campaign(session, user, campaign_id)
    alerts = alert_service.list_alerts(session, campaign_id=campaign.id)
    alerts.sort(key=lambda a: (a["sent_at"] or a["scheduled_send_at"] or a["created_at"], a["id"]), reverse=True)
    counts = {status: sum(1 for a in alerts if a["status"] == status)
              for status in ("sent", "queued", "failed", "cancelled")}
    return render(request, "alerts.html", {
        "user": user, **campaign_context(session, campaign), "alerts": alerts, "counts": counts,
        "channels": [mask_url(u) for u in campaign.notify_urls or []],
        # what the alerts go to when the campaign names no channel (as socap.alerts.detection.channels_for)
        "default_channels": [] if campaign.notify_urls else [mask_url(u) for u in rt.settings.notify_default_urls],
        "now": rt.clock.now(),
    })


# ---------------------------------------------------------------- edit, add posts, pause / resume, delete

def edit_context(session: Session, user: Principal, campaign: Campaign, **overrides) -> dict[str, Any]:
    form = {"name": campaign.name, "threshold": str(campaign.alert_threshold),
            "spacing_minutes": str(campaign.alert_spacing_minutes), "notify_urls": ""}
    posts_form = {"main": "", "influencer": "", "investor": "", "allow_missing": ""}
    return {"user": user, **campaign_context(session, campaign), "form": form, "errors": {},
            "posts_form": posts_form, "posts_errors": {}, "missing": [],
            "channels": list(enumerate(mask_url(u) for u in campaign.notify_urls or [])), **overrides}


@router.get("/campaigns/{campaign_id}/edit", response_class=HTMLResponse)
def edit_campaign(request: Request, campaign_id: int, user: PageUser, session: SessionDep) -> HTMLResponse:
    campaign = load_campaign(session, user, campaign_id)
    return render(request, "campaign_edit.html", edit_context(session, user, campaign))


@router.post("/campaigns/{campaign_id}/edit", response_class=HTMLResponse, dependencies=CSRF)
def save_campaign(
    request: Request, campaign_id: int, user: PageUser, rt: RuntimeDep,
    name: Annotated[str, Form()] = "", threshold: Annotated[str, Form()] = "",
    spacing_minutes: Annotated[str, Form()] = "", notify_urls: Annotated[str, Form()] = "",
    remove_channel: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI copies defaults
):
    form = {"name": name, "threshold": threshold, "spacing_minutes": spacing_minutes, "notify_urls": notify_urls}
    errors: dict[str, list[str]] = {}
    numbers: dict[str, int] = {}
    for field, label in (("threshold", "alert threshold"), ("spacing_minutes", "alert spacing")):
        try:
            numbers[field] = int(form[field].strip())
        except ValueError:
            errors.setdefault(field, []).append(f"the {label} must be a whole number (got {form[field]!r})")
    with rt.db.write() as session:
        campaign = load_campaign(session, user, campaign_id)
        kept = [u for i, u in enumerate(campaign.notify_urls or []) if i not in set(remove_channel)]
        channels = kept + [u for u in split_urls(notify_urls) if u not in kept]
        if not errors:
            try:
                campaign_service.update_settings(session, campaign=campaign, clock=rt.clock, name=name,
                                                 threshold=numbers["threshold"],
                                                 spacing_minutes=numbers["spacing_minutes"],
                                                 notify_urls=channels)
            except CampaignValidationError as exc:
                errors = exc.errors
        if errors:
            session.rollback()
            context = edit_context(session, user, load_campaign(session, user, campaign_id), form=form,
                                   errors=errors, removed=set(remove_channel))
            return render(request, "campaign_edit.html", context, status_code=400)
    flash(request, "Settings saved.")
    return redirect(f"/campaigns/{campaign_id}")


@router.post("/campaigns/{campaign_id}/posts", response_class=HTMLResponse, dependencies=CSRF)
def add_posts(
    request: Request, campaign_id: int, user: PageUser, rt: RuntimeDep,
    main: Annotated[str, Form()] = "", influencer: Annotated[str, Form()] = "",
    investor: Annotated[str, Form()] = "", allow_missing: Annotated[str, Form()] = "",
):
    with rt.db.session() as session:
        load_campaign(session, user, campaign_id)  # 404 before anything else for other workspaces' ids
    posts_form = {"main": main, "influencer": influencer, "investor": investor, "allow_missing": allow_missing}
    data = PostsInput(main=split_urls(main), influencer=split_urls(influencer), investor=split_urls(investor),
                      allow_missing=bool(allow_missing))
    errors: dict[str, list[str]] = {}
    missing = []
    try:
        with rt.x_client() as client:
            added = campaign_service.add_posts_by_url(rt.db, client, rt.clock, campaign_id=campaign_id, data=data,
                                                      workspace_id=user.workspace_id)
    except CampaignValidationError as exc:
        errors = exc.errors
    except PostsUnavailable as exc:
        missing = exc.missing
    except CampaignNotFound:
        raise HTTPException(404, "There is no such campaign in your workspace.") from None
    except CampaignError as exc:
        errors = {"main": [str(exc)]}
    else:
        n = len(added.added)
        text = f"Added {n} post{'s' if n != 1 else ''}; they are backfilled at the next run."
        if added.warnings:
            text += " " + " ".join(added.warnings)
        flash(request, text, "warn" if added.warnings else "ok")
        return redirect(f"/campaigns/{campaign_id}")
    with rt.db.session() as session:
        campaign = load_campaign(session, user, campaign_id)
        context = edit_context(session, user, campaign, posts_form=posts_form, posts_errors=errors, missing=missing)
        return render(request, "campaign_edit.html", context, status_code=400)


@router.post("/campaigns/{campaign_id}/pause", dependencies=CSRF)
def pause_campaign(request: Request, campaign_id: int, user: PageUser, rt: RuntimeDep) -> RedirectResponse:
    return _change_state(request, campaign_id, user, rt, campaign_service.pause, "Paused: no polling until resumed.")


@router.post("/campaigns/{campaign_id}/resume", dependencies=CSRF)
def resume_campaign(request: Request, campaign_id: int, user: PageUser, rt: RuntimeDep) -> RedirectResponse:
    return _change_state(request, campaign_id, user, rt, campaign_service.resume,
                         "Resumed: polling restarts at the next tick.")


def _change_state(request: Request, campaign_id: int, user: Principal, rt, change, done: str) -> RedirectResponse:
    with rt.db.write() as session:
        campaign = load_campaign(session, user, campaign_id)
        try:
            change(session, campaign=campaign, clock=rt.clock)
        except CampaignError as exc:
            flash(request, str(exc), "error")
            return redirect(f"/campaigns/{campaign_id}")
    flash(request, done)
    return redirect(f"/campaigns/{campaign_id}")


@router.get("/campaigns/{campaign_id}/delete", response_class=HTMLResponse)
def confirm_delete(request: Request, campaign_id: int, user: PageUser, session: SessionDep) -> HTMLResponse:
    campaign = load_campaign(session, user, campaign_id)
    engagements, _ = campaign_counts(session, [campaign.id])
    return render(request, "campaign_delete.html", {
        "user": user, **campaign_context(session, campaign), "engagements": engagements.get(campaign.id, 0),
        "error": None, "typed": ""})


@router.post("/campaigns/{campaign_id}/delete", response_class=HTMLResponse, dependencies=CSRF)
def delete_campaign(request: Request, campaign_id: int, user: PageUser, rt: RuntimeDep,
                    confirm_name: Annotated[str, Form()] = ""):
    with rt.db.write() as session:
        campaign = load_campaign(session, user, campaign_id)
        name = campaign.name
        if confirm_name.strip() != name.strip():
            engagements, _ = campaign_counts(session, [campaign.id])
            return render(request, "campaign_delete.html", {
                "user": user, **campaign_context(session, campaign), "engagements": engagements.get(campaign.id, 0),
                "error": "The name you typed does not match; nothing was deleted.", "typed": confirm_name},
                status_code=400)
        campaign_service.delete(session, campaign=campaign)
    flash(request, f"Deleted campaign “{name}” and everything recorded for it.")
    return redirect("/")
