"""Campaigns: validate, resolve posts on X, create with their poll jobs, pause / resume / add posts.

Network work (resolving posts) happens in :func:`plan_campaign` / :func:`resolve_posts`, outside any
database transaction; :func:`create_campaign` then writes everything in one transaction, so a failure
anywhere writes nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from socap.campaigns.models import TWEET_CATEGORIES, Campaign, CampaignTweet
from socap.campaigns.schemas import (
    CampaignInput,
    CampaignOut,
    CampaignPlan,
    MissingPost,
    PostOut,
    PostRef,
    PostsAdded,
    PostsInput,
    ResolvedPost,
)
from socap.campaigns.urls import InvalidTweetURL, parse_tweet_id, tweet_url
from socap.clock import Clock, ensure_utc
from socap.monitoring.models import JOB_KINDS, PollJob
from socap.x import XClient

LOOKUP_BATCH = 100  # GET /2/tweets takes at most 100 ids


class CampaignError(Exception):
    """Base for refusals the user can act on; ``str()`` is the message to show."""


class CampaignValidationError(CampaignError):
    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        lines = [f"{name}: {msg}" for name, msgs in errors.items() for msg in msgs]
        super().__init__("invalid campaign:\n  " + "\n  ".join(lines))


class PostsUnavailable(CampaignError):
    def __init__(self, missing: Sequence[MissingPost]):
        self.missing = list(missing)
        lines = [f"{m.url} ({m.category}): {m.reason}" for m in self.missing]
        super().__init__(
            f"{len(self.missing)} post(s) could not be resolved on X; nothing was created "
            "(pass --allow-missing to create the campaign without them):\n  " + "\n  ".join(lines))


class CampaignNotFound(CampaignError):
    def __init__(self, campaign_id: int | str):
        super().__init__(f"no campaign {campaign_id!r}")


# ---------------------------------------------------------------- validation

MAX_DAYS = 3650  # a monitoring window of ten years; longer ones only overflow date arithmetic (a 500)
MAX_COUNT = 2**31 - 1  # thresholds and minutes are INTEGER columns


def _window(data: CampaignInput, now: datetime, errors: dict[str, list[str]]) -> tuple[datetime, datetime]:
    starts_at = ensure_utc(data.starts_at) if data.starts_at else now
    if data.ends_at is not None and data.days is not None:
        errors.setdefault("days", []).append("give either days or an end time, not both")
    if data.ends_at is not None:
        ends_at = ensure_utc(data.ends_at)
    elif data.days is not None:
        if not 0 < data.days <= MAX_DAYS:  # (NaN fails this too)
            errors.setdefault("days", []).append(f"the window must be longer than 0 days and at most {MAX_DAYS} "
                                                 f"(got {data.days:g})")
            return starts_at, starts_at
        try:
            ends_at = starts_at + timedelta(days=data.days)
        except OverflowError:
            errors.setdefault("starts_at", []).append("the window would end after the year 9999")
            return starts_at, starts_at
    else:
        errors.setdefault("days", []).append("give a monitoring window: days, or an end time")
        return starts_at, starts_at
    if ends_at <= starts_at:
        errors.setdefault("ends_at", []).append("the window must end after it starts")
    elif ends_at - starts_at > timedelta(days=MAX_DAYS):
        errors.setdefault("ends_at", []).append(f"the window is at most {MAX_DAYS} days")
    return starts_at, ends_at


def _check_name(name: str, errors: dict[str, list[str]]) -> None:
    if not name.strip():
        errors.setdefault("name", []).append("a campaign needs a name")
    elif len(name) > 200:
        errors.setdefault("name", []).append("names are at most 200 characters")
    elif any(unicodedata.category(ch) == "Cc" for ch in name.strip()):
        # (PostgreSQL cannot store NUL at all; tabs, newlines and the like have no place in a one-line name)
        errors.setdefault("name", []).append("names cannot contain control characters (NUL, tab, newline, …)")


def _check_threshold(threshold: int, errors: dict[str, list[str]]) -> None:
    if threshold < 0:
        errors.setdefault("threshold", []).append(f"the alert threshold cannot be negative (got {threshold})")
    elif threshold > MAX_COUNT:
        errors.setdefault("threshold", []).append(f"the alert threshold is at most {MAX_COUNT}")


def _check_spacing(spacing_minutes: int, poll_interval_minutes: int, errors: dict[str, list[str]]) -> None:
    if spacing_minutes < 0:
        errors.setdefault("spacing_minutes", []).append("alert spacing cannot be negative")
    elif spacing_minutes >= poll_interval_minutes:
        errors.setdefault("spacing_minutes", []).append(
            f"alert spacing ({spacing_minutes} min) must be shorter than the poll interval "
            f"({poll_interval_minutes} min), so each batch of alerts is out before the next run")


def _check_notify_urls(urls: Sequence[str], errors: dict[str, list[str]]) -> None:
    from socap.alerts.channels import validate_url

    for url in urls:
        problem = validate_url(url.strip())
        if problem:
            errors.setdefault("notify_urls", []).append(problem)


def parse_post_refs(data: CampaignInput | PostsInput, errors: dict[str, list[str]],
                    warnings: list[str]) -> list[PostRef]:
    """Parse every URL of every category; duplicates collapse onto their first occurrence."""
    refs: list[PostRef] = []
    first_seen: dict[str, PostRef] = {}
    for category in TWEET_CATEGORIES:
        for raw in getattr(data, category):
            if not raw.strip():
                continue
            try:
                tweet_id = parse_tweet_id(raw)
            except InvalidTweetURL as exc:
                errors.setdefault(category, []).append(str(exc))
                continue
            earlier = first_seen.get(tweet_id)
            if earlier is not None:
                where = earlier.category if earlier.category == category \
                    else f"{earlier.category} and {category}"
                warnings.append(f"post {tweet_id} is listed more than once ({where}); "
                                f"tracked once, as {earlier.category}")
                continue
            ref = PostRef(tweet_id=tweet_id, category=category, url=raw.strip())
            first_seen[tweet_id] = ref
            refs.append(ref)
    return refs


def validate_input(data: CampaignInput, *, now: datetime,
                   require_posts: bool = True) -> tuple[list[PostRef], datetime, datetime, list[str]]:
    """Check everything that needs no network; raise CampaignValidationError listing every problem."""
    errors: dict[str, list[str]] = {}
    warnings: list[str] = []
    _check_name(data.name, errors)
    refs = parse_post_refs(data, errors, warnings)
    if require_posts and not refs and not any(k in errors for k in TWEET_CATEGORIES):
        errors.setdefault("main", []).append("add at least one post URL (main, influencer or investor)")
    starts_at, ends_at = _window(data, now, errors)
    _check_threshold(data.threshold, errors)
    if not 1 <= data.poll_interval_minutes <= 60 * 24 * MAX_DAYS:
        errors.setdefault("poll_interval_minutes", []).append(
            "the poll interval is at least 1 minute and at most the longest window")
    _check_spacing(data.spacing_minutes, data.poll_interval_minutes, errors)
    _check_notify_urls(data.notify_urls, errors)
    if errors:
        raise CampaignValidationError(errors)
    return refs, starts_at, ends_at, warnings


# ---------------------------------------------------------------- resolving posts on X

def resolve_posts(client: XClient, refs: Sequence[PostRef]) -> tuple[list[ResolvedPost], list[MissingPost], int]:
    """Look posts up 100 ids per call. Returns (resolved, missing, calls made)."""
    resolved: list[ResolvedPost] = []
    missing: list[MissingPost] = []
    calls = 0
    for start in range(0, len(refs), LOOKUP_BATCH):
        batch = refs[start:start + LOOKUP_BATCH]
        page = client.get_tweets([r.tweet_id for r in batch])
        calls += 1
        tweets = {t.id: t for t in page.data}
        users = {u.id: u for u in page.includes.users}
        problems = {p.resource_id or p.value: p for p in page.errors}
        for ref in batch:
            tweet = tweets.get(ref.tweet_id)
            if tweet is None:
                problem = problems.get(ref.tweet_id)
                reason = problem.reason if problem else "not returned by X"
                missing.append(MissingPost(ref.tweet_id, ref.category, ref.url, reason))
                continue
            author = users.get(tweet.author_id or "")
            username = author.username if author else None
            resolved.append(ResolvedPost(
                tweet_id=ref.tweet_id, category=ref.category, url=tweet_url(ref.tweet_id, username),
                author_id=tweet.author_id, author_username=username, text=tweet.text,
                conversation_id=tweet.conversation_id, created_at=tweet.created_at))
    return resolved, missing, calls


def plan_campaign(data: CampaignInput, *, client: XClient, clock: Clock) -> CampaignPlan:
    refs, starts_at, ends_at, warnings = validate_input(data, now=clock.now())
    resolved, missing, calls = resolve_posts(client, refs)
    if missing and not data.allow_missing:
        raise PostsUnavailable(missing)
    if not resolved:
        raise PostsUnavailable(missing)
    for m in missing:
        warnings.append(f"skipped {m.url} ({m.category}): {m.reason}")
    return CampaignPlan(input=data, starts_at=starts_at, ends_at=ends_at, posts=resolved,
                        missing=missing, warnings=warnings, lookup_calls=calls)


# ---------------------------------------------------------------- writing

def _add_posts(session: Session, campaign: Campaign, posts: Iterable[ResolvedPost], *, now: datetime) -> int:
    """Insert posts and their four poll jobs; returns the number of jobs created."""
    jobs = 0
    first_run = max(now, campaign.starts_at)
    for post in posts:
        row = CampaignTweet(
            campaign_id=campaign.id, tweet_id=int(post.tweet_id), url=post.url, category=post.category,
            author_id=int(post.author_id) if post.author_id else None, author_username=post.author_username,
            text=post.text, conversation_id=int(post.conversation_id) if post.conversation_id else None,
            tweet_created_at=post.created_at, added_at=now)
        session.add(row)
        session.flush()
        for kind in JOB_KINDS:
            session.add(PollJob(campaign_id=campaign.id, campaign_tweet_id=row.id, kind=kind,
                                next_run_at=first_run, backfill_done=(kind == "metrics")))
            jobs += 1
    session.flush()
    return jobs


def create_campaign(session: Session, plan: CampaignPlan, *, workspace_id: int, clock: Clock) -> Campaign:
    now = clock.now()
    data = plan.input
    campaign = Campaign(
        workspace_id=workspace_id, name=data.name.strip(),
        status="scheduled" if plan.starts_at > now else "active",
        starts_at=plan.starts_at, ends_at=plan.ends_at, alert_threshold=data.threshold,
        alert_spacing_minutes=data.spacing_minutes, poll_interval_minutes=data.poll_interval_minutes,
        notify_urls=list(data.notify_urls), data_version=0, created_at=now)
    session.add(campaign)
    session.flush()
    _add_posts(session, campaign, plan.posts, now=now)
    return campaign


def create(db, client: XClient, clock: Clock, data: CampaignInput, *,
           workspace_id: int | None = None) -> tuple[int, CampaignPlan]:
    """Resolve on X (no transaction open), then write the campaign in one transaction. Returns (id, plan)."""
    from socap.auth import service as auth_service

    plan = plan_campaign(data, client=client, clock=clock)
    with db.write() as session:
        if workspace_id is None:
            workspace_id = auth_service.get_or_create_workspace(session, clock=clock).id
        return create_campaign(session, plan, workspace_id=workspace_id, clock=clock).id, plan


def add_posts(session: Session, campaign: Campaign, posts: Sequence[ResolvedPost], *, clock: Clock) -> list[str]:
    """Add resolved posts to an existing campaign; posts it already tracks are skipped with a warning."""
    tracked = set(session.scalars(select(CampaignTweet.tweet_id)
                                  .where(CampaignTweet.campaign_id == campaign.id)))
    fresh, warnings = [], []
    for post in posts:
        if int(post.tweet_id) in tracked:
            warnings.append(f"post {post.tweet_id} is already tracked by this campaign; skipped")
        else:
            fresh.append(post)
    _add_posts(session, campaign, fresh, now=clock.now())
    campaign.data_version += 1
    return warnings


def add_posts_by_url(db, client: XClient, clock: Clock, *, campaign_id: int, data: PostsInput,
                     workspace_id: int | None = None) -> PostsAdded:
    """Add posts given by URL (or id) to an existing campaign: what the CLI, the API and the edit form share.

    The URLs go through the same parser as :func:`create`; posts the campaign already tracks (or listed
    twice) are skipped with a warning and not looked up; the others are resolved on X 100 per call with
    no transaction open, then written with their four poll jobs in one transaction (which bumps the
    campaign's data version). Nothing is added on error:

    - :class:`CampaignValidationError` — a bad URL, or no URL at all (before any X call);
    - :class:`CampaignNotFound` — no such campaign in ``workspace_id`` (any workspace when None);
    - :class:`CampaignError` — the campaign is completed;
    - :class:`PostsUnavailable` — X cannot find some posts and ``data.allow_missing`` is false.
    """
    errors: dict[str, list[str]] = {}
    warnings: list[str] = []
    refs = parse_post_refs(data, errors, warnings)
    if not refs and not errors:
        errors.setdefault("main", []).append("add at least one post URL (main, influencer or investor)")
    if errors:
        raise CampaignValidationError(errors)
    with db.session() as session:
        campaign = get(session, campaign_id=campaign_id, workspace_id=workspace_id)
        _refuse_if_completed(campaign, "no posts can be added")
        tracked = set(session.scalars(select(CampaignTweet.tweet_id)
                                      .where(CampaignTweet.campaign_id == campaign.id)))
    fresh = []
    for ref in refs:
        if int(ref.tweet_id) in tracked:
            warnings.append(f"post {ref.tweet_id} is already tracked by this campaign; skipped")
        else:
            fresh.append(ref)
    resolved, missing, calls = resolve_posts(client, fresh) if fresh else ([], [], 0)
    if missing and not data.allow_missing:
        raise PostsUnavailable(missing)
    warnings += [f"skipped {m.url} ({m.category}): {m.reason}" for m in missing]
    if resolved:
        with db.write() as session:
            campaign = get(session, campaign_id=campaign_id, workspace_id=workspace_id)
            _refuse_if_completed(campaign, "no posts can be added")
            warnings += add_posts(session, campaign, resolved, clock=clock)
    return PostsAdded(added=resolved, warnings=warnings, lookup_calls=calls)


def _refuse_if_completed(campaign: Campaign, what: str) -> None:
    if campaign.status == "completed":
        raise CampaignError(f"campaign {campaign.id} is completed; {what}")


# ---------------------------------------------------------------- reading and state changes

MAX_ROW_ID = 2**31 - 1  # campaign ids are INTEGER: a larger one (from a URL) cannot exist, and the database
# would refuse to compare with it (a 500 instead of a 404)


def get(session: Session, *, campaign_id: int, workspace_id: int | None = None) -> Campaign:
    if not 0 < campaign_id <= MAX_ROW_ID:
        raise CampaignNotFound(campaign_id)
    query = select(Campaign).where(Campaign.id == campaign_id).options(selectinload(Campaign.tweets))
    if workspace_id is not None:
        query = query.where(Campaign.workspace_id == workspace_id)
    campaign = session.scalar(query)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    return campaign


def list_campaigns(session: Session, *, workspace_id: int | None = None) -> list[Campaign]:
    query = select(Campaign).options(selectinload(Campaign.tweets)).order_by(Campaign.id)
    if workspace_id is not None:
        query = query.where(Campaign.workspace_id == workspace_id)
    return list(session.scalars(query))


def job_count(session: Session, *, campaign_id: int) -> int:
    return session.scalar(select(func.count()).select_from(PollJob).where(PollJob.campaign_id == campaign_id))


def pause(session: Session, *, campaign: Campaign, clock: Clock) -> None:
    if campaign.status == "completed":
        raise CampaignError(f"campaign {campaign.id} is completed; it cannot be paused")
    if campaign.status != "paused":
        campaign.status = "paused"
        campaign.paused_at = clock.now()


def resume(session: Session, *, campaign: Campaign, clock: Clock) -> None:
    if campaign.status == "completed":
        raise CampaignError(f"campaign {campaign.id} is completed; it cannot be resumed")
    if campaign.status != "paused":
        return
    now = clock.now()
    campaign.status = "scheduled" if campaign.starts_at > now else "active"
    campaign.paused_at = None
    # jobs that fell due while paused run at the next dispatcher tick (not once per missed cycle)
    for job in session.scalars(select(PollJob).where(PollJob.campaign_id == campaign.id,
                                                     PollJob.next_run_at < now)):
        job.next_run_at = now


def to_out(session: Session, campaign: Campaign, *, warnings: Sequence[str] = ()) -> CampaignOut:
    from socap.alerts.masking import mask_url

    return CampaignOut(
        id=campaign.id, name=campaign.name, status=campaign.status, starts_at=campaign.starts_at,
        ends_at=campaign.ends_at, alert_threshold=campaign.alert_threshold,
        alert_spacing_minutes=campaign.alert_spacing_minutes,
        poll_interval_minutes=campaign.poll_interval_minutes,
        notify_urls=[mask_url(u) for u in campaign.notify_urls or []],
        posts=[PostOut(id=t.id, tweet_id=str(t.tweet_id), category=t.category, url=t.url,
                       author_username=t.author_username, text=t.text,
                       unavailable_reason=t.unavailable_reason) for t in campaign.tweets],
        job_count=job_count(session, campaign_id=campaign.id), warnings=list(warnings))


def update_settings(session: Session, *, campaign: Campaign, clock: Clock, name: str | None = None,
                    threshold: int | None = None, spacing_minutes: int | None = None,
                    notify_urls: Sequence[str] | None = None) -> None:
    """Change a campaign's name and alert settings; arguments left None stay as they are.

    Validated like :func:`create` (name 1..200 characters, threshold ≥ 0, spacing 0 ≤ spacing < poll
    interval, notify URLs Apprise understands); every problem is raised at once as
    :class:`CampaignValidationError` and nothing is changed. ``notify_urls=[]`` leaves only the console
    (and the browser). A URL given in its masked form (as :func:`to_out` shows it) keeps the stored URL
    it masks, so an edit form can send the list back without knowing the secrets.

    The changes apply from now on, never retroactively: a new threshold decides alerts for engagements
    found from now on (existing alerts stay, and engagements already stored do not fire); new spacing
    applies to batches slotted from now on; new channels receive alerts created from now on (queued
    alerts keep the channels they were created with). Any change bumps the data version, so cached views
    (e.g. the count of accounts above the threshold) are recomputed.
    """
    from socap.alerts.masking import MASK, mask_url

    errors: dict[str, list[str]] = {}
    if name is not None:
        _check_name(name, errors)
    if threshold is not None:
        _check_threshold(threshold, errors)
    if spacing_minutes is not None:
        _check_spacing(spacing_minutes, campaign.poll_interval_minutes, errors)
    urls: list[str] | None = None
    if notify_urls is not None:
        stored = {mask_url(u): u for u in campaign.notify_urls or []}
        urls = list(dict.fromkeys(stored.get(u.strip(), u.strip()) if MASK in u else u.strip()
                                  for u in notify_urls if u.strip()))
        _check_notify_urls(urls, errors)
    if errors:
        raise CampaignValidationError(errors)
    changes = {"name": name.strip() if name is not None else None, "alert_threshold": threshold,
               "alert_spacing_minutes": spacing_minutes, "notify_urls": urls}
    changed = False
    for attribute, value in changes.items():
        if value is not None and getattr(campaign, attribute) != value:
            setattr(campaign, attribute, value)
            changed = True
    if changed:
        campaign.data_version += 1
    session.flush()


def delete(session: Session, *, campaign: Campaign) -> None:
    """Remove the campaign and everything of it: posts, poll jobs, runs, engagements, metric snapshots,
    alerts and their deliveries, its final report — every table with a ``campaign_id`` referring to it.
    Accounts (shared by every campaign), seeds, importance and the billing ledger stay.

    Every table is emptied explicitly, children first, rather than relying on ON DELETE CASCADE, so the
    result is the same whatever the database enforces (and a table added later is not forgotten). A poll
    task already queued for one of the deleted jobs finds no job it holds and does nothing; a worker in the
    middle of a page loses its lease and drops the page; an alert being sent is not marked (its delivery
    row is gone).
    """
    from socap.alerts.models import Alert, AlertDelivery
    from socap.models import Base  # every domain's tables

    campaign_id = campaign.id
    session.execute(AlertDelivery.__table__.delete().where(AlertDelivery.alert_id.in_(
        select(Alert.id).where(Alert.campaign_id == campaign_id))))
    for table in campaign_tables(Base.metadata):
        session.execute(table.delete().where(table.c.campaign_id == campaign_id))
    session.execute(Campaign.__table__.delete().where(Campaign.id == campaign_id))
    session.expunge(campaign)


def campaign_tables(metadata) -> list:
    """Tables with a ``campaign_id`` column referring to ``campaign``, children before parents."""
    found = []
    for table in reversed(metadata.sorted_tables):
        column = table.c.get("campaign_id")
        if column is not None and any(fk.column.table is Campaign.__table__ for fk in column.foreign_keys):
            found.append(table)
    return found
