"""The four job kinds: metrics (batched), retweets, quotes, replies.

Shape of every poller: call X outside any transaction, then write one page's results, the job's cursor
or watermark and the run's accounting together in one short write transaction that first re-checks the
lease. A crash between pages loses nothing: the next lease holder resumes from the saved cursor, and
re-ingesting a page inserts nothing twice.

Delta runs page newest-first until a page reaches the watermark (the newest id a finished pass stored) or
``next_token`` is absent — never because a page was short. Ids are snowflakes, so "at or below the
watermark" means "already seen".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from socap.campaigns.models import Campaign, CampaignTweet
from socap.clock import Clock
from socap.db import Database
from socap.monitoring import gating, jobs
from socap.monitoring.accounting import CallStats
from socap.monitoring.ingest import AuthorRows, author_rows, ingest_engagements, store_accounts
from socap.monitoring.models import MetricSnapshot, PollJob
from socap.x import MAX_QUERY_CHARS, BadRequest, MalformedResponse, Page, RateLimited, Tweet, TweetMetrics, XClient

log = logging.getLogger("socap.monitoring")

ACTION_FOR = {"retweets": "retweet", "quotes": "quote", "replies": "reply"}
SEARCH_WINDOW = timedelta(days=7)  # recent search only reaches back 7 days
SEARCH_MARGIN = timedelta(minutes=5)  # posts show up in search a little late
TWEPOCH_MS = 1288834974657


WATERMARK_BAND_MS = 60 * 60 * 1000  # delta reply searches share a query only within an hour of watermarks


def snowflake_ms(post_id: int) -> int:
    return (post_id >> 22) + TWEPOCH_MS if post_id else 0


def snowflake_at(instant: datetime) -> int:
    """The smallest post id X could assign at ``instant``."""
    return (int(instant.timestamp() * 1000) - TWEPOCH_MS) << 22


@dataclass
class Work:
    """What a task needs: database, clock, an X client wired to the budget and to ``stats``."""

    db: Database
    clock: Clock
    client: XClient
    stats: CallStats
    owner: str
    run_id: int | None
    lease: timedelta
    reconcile_interval: timedelta

    def lease_until(self) -> datetime:
        return self.clock.now() + self.lease


def _context(session: Session, job: PollJob) -> tuple[Campaign, CampaignTweet]:
    tweet = session.get(CampaignTweet, job.campaign_tweet_id)
    return session.get(Campaign, tweet.campaign_id), tweet


def _interval(campaign: Campaign) -> timedelta:
    return timedelta(minutes=campaign.poll_interval_minutes)


# ---------------------------------------------------------------- metrics

def metrics_next_run(job: PollJob, campaign: Campaign, *, asked_at: datetime, now: datetime) -> datetime | None:
    """When a metrics job that just succeeded runs next: None once X was asked after the window's end (that
    was the final poll); at once when X was asked before the end but answered after it (a slow or queued
    call: its counters are from before the end, and the final run's "poll now" set meanwhile must not be
    lost); else the next cycle."""
    if asked_at >= campaign.ends_at:
        return None
    if now >= campaign.ends_at:
        return now
    return jobs.next_cycle(job, now=now, interval=_interval(campaign), origin=campaign.starts_at)


def poll_metrics(work: Work, job_ids: list[int]) -> None:
    """One GET /2/tweets call for up to 100 posts; one snapshot per post; then count gating."""
    with work.db.session() as session:
        targets = {job_id: str(tweet_id) for job_id, tweet_id in session.execute(
            select(PollJob.id, CampaignTweet.tweet_id)
            .join(CampaignTweet, CampaignTweet.id == PollJob.campaign_tweet_id)
            .where(PollJob.id.in_(job_ids), PollJob.lease_owner == work.owner).order_by(PollJob.id))}
    if not targets:
        return
    asked_at = work.clock.now()  # X's counters in the answer are those of about this instant
    try:
        page = work.client.get_tweets(list(dict.fromkeys(targets.values())))
    except RateLimited as exc:
        if len(targets) > 1 and exc.rate_limit is not None and exc.rate_limit.remaining > 0:
            # X refused this request but the endpoint has budget left: the 429 is about one of these posts.
            # Split the batch so only the job(s) concerned are blocked; the others poll normally.
            half = len(job_ids) // 2
            refused: RateLimited | None = None
            for part in (job_ids[:half], job_ids[half:]):
                try:
                    poll_metrics(work, part)
                except RateLimited as refusal:  # finish the other half first: its posts are not concerned
                    refused = refused or refusal
            if refused is not None:
                raise refused from None  # the caller blocks the jobs still leased: only those X refused
            return
        raise
    work.stats.bill(page)
    now = work.clock.now()
    tweets = {t.id: t for t in page.data}
    problems = {p.resource_id or p.value: p for p in page.errors}
    with work.db.write() as session:
        jobs.extend_lease(session, list(targets), owner=work.owner, until=work.lease_until())
        owned = jobs.owned_jobs(session, list(targets), owner=work.owner)
        # the batch's posts in one query (the identity map then answers _context's gets)
        rows = session.scalars(select(CampaignTweet).where(
            CampaignTweet.id.in_({job.campaign_tweet_id for job in owned}))).all()
        campaign_ids = sorted({row.campaign_id for row in rows})
        measured: dict[int, TweetMetrics] = {}
        for job in owned:
            campaign, row = _context(session, job)
            tweet = tweets.get(str(row.tweet_id))
            if tweet is None:
                problem = problems.get(str(row.tweet_id))
                if problem is not None and (problem.is_not_found or problem.is_not_authorized or problem.is_suspended):
                    jobs.mark_unavailable(session, row.id, reason=problem.reason, now=now)
                    jobs.release(job)
                else:
                    work.stats.errors.append(f"metrics: post {row.tweet_id} missing from the answer")
                    jobs.fail(session, [job], RuntimeError("post missing from X's answer"), now=now,
                              interval=_interval(campaign))
                continue
            m = tweet.public_metrics
            if m is None:
                jobs.fail(session, [job], RuntimeError("X returned no public_metrics"), now=now,
                          interval=_interval(campaign))
                continue
            session.add(MetricSnapshot(
                campaign_id=campaign.id, campaign_tweet_id=row.id, run_id=work.run_id, taken_at=now,
                like_count=m.like_count, retweet_count=m.retweet_count, reply_count=m.reply_count,
                quote_count=m.quote_count, impression_count=m.impression_count, bookmark_count=m.bookmark_count))
            measured[row.id] = m
            jobs.succeed(job, now=now, next_run_at=metrics_next_run(job, campaign, asked_at=asked_at, now=now))
        gating.schedule_engagement_jobs(session, measured, now=now, reconcile_interval=work.reconcile_interval)
        session.execute(Campaign.__table__.update().where(Campaign.id.in_(campaign_ids))
                        .values(data_version=Campaign.data_version + 1))
        work.stats.flush(session, run_id=work.run_id, now=now)


# ---------------------------------------------------------------- retweets and quotes

def delta_page_size(kind: str, *, growth: int | None) -> int:
    """How many items the first page of a delta pass asks for. X bills every item of an answer once per UTC
    day, so a full page of 100 re-bills the old ones on a new day when a handful are new: the page asks for
    the counter's growth plus a margin (X's minimum is 1 for retweets, 10 for quotes). A counter that lags
    the list only costs a further page: the pass pages on until it reaches its watermark."""
    if growth is None:
        return 100
    return min(100, max(10 if kind == "quotes" else 1, growth + growth // 4 + 5))


def _fetch_list(client: XClient, kind: str, tweet_id: str, token: str | None, max_results: int = 100) -> Page:
    if kind == "retweets":
        return client.get_retweets(tweet_id, max_results=max_results, pagination_token=token)
    return client.get_quote_tweets(tweet_id, max_results=max_results, pagination_token=token,
                                   exclude_retweets=True)


def _refuse_loop(page: Page, followed: set[str]) -> None:
    """A next_token this pass already followed would page forever (and pay for every page): refuse the page
    before anything of it is stored, so the cursor stays where it was."""
    token = page.meta.next_token
    if token is not None and token in followed:
        raise MalformedResponse(f"{page.endpoint}: pagination token repeated (X's paging loops back to a page "
                                f"this pass already read)", endpoint=page.endpoint, status_code=page.status_code,
                                rate_limit=page.rate_limit)


def _engagement_posts(kind: str, tweet_id: str, page: Page) -> list[Tweet]:
    """Only posts that really engage with our post (quotes of it, retweets of it)."""
    if kind == "retweets":
        return [t for t in page.data if t.retweeted_id in (None, tweet_id)]
    return [t for t in page.data if t.quoted_id in (None, tweet_id) and t.retweeted_id is None]


def _store_page(work: Work, session: Session, job: PollJob, posts: list[Tweet], page: Page, now: datetime,
                authors: AuthorRows, accounts_stored: bool = False) -> None:
    campaign, row = _context(session, job)
    new = ingest_engagements(session, campaign=campaign, tweet=row, action=ACTION_FOR[job.kind], posts=posts,
                             users=page.includes.users_by_id, run_id=work.run_id, now=now, authors=authors,
                             accounts_stored=accounts_stored)
    work.stats.new_engagements += len(new)


def poll_list(work: Work, job_id: int) -> None:
    """Retweets or quotes of one post: a resumable backfill, or a delta down to the watermark."""
    with work.db.session() as session:
        owned = jobs.owned_jobs(session, [job_id], owner=work.owner)
        if not owned:
            return
        job = owned[0]
        tweet_id = str(session.get(CampaignTweet, job.campaign_tweet_id).tweet_id)
        kind, backfill, cursor = job.kind, not job.backfill_done, job.backfill_cursor
        watermark, newest, observed = job.watermark, job.backfill_newest, job.observed_count
        growth = (observed - job.last_count if not backfill and watermark is not None and observed is not None
                  and job.last_count is not None and observed >= job.last_count else None)

    seen_max = newest or 0
    # anything created after this pass started has a larger id than the floor; a resumed backfill's own
    # start is earlier (its first page's newest id, backfill_newest, covers it) so it gets no floor
    resumed = bool(backfill and cursor)
    floor = 0 if resumed else snowflake_at(work.clock.now() - SEARCH_MARGIN)
    followed = {cursor} if cursor else set()
    while True:
        try:
            # the first page of a delta is sized to the counter's growth; any further page is a full one
            size = delta_page_size(kind, growth=growth) if cursor is None and not backfill else 100
            page = _fetch_list(work.client, kind, tweet_id, cursor, size)
        except BadRequest as exc:
            if not (resumed and cursor in followed and len(followed) == 1):
                raise
            # X refuses the saved cursor (expired, or no longer valid): start the backfill over from the top
            _drop_saved_cursor(work, [job_id], exc)
            cursor, resumed, followed, seen_max = None, False, set(), 0
            floor = snowflake_at(work.clock.now() - SEARCH_MARGIN)
            continue
        work.stats.bill(page)
        _refuse_loop(page, followed)
        posts = _engagement_posts(kind, tweet_id, page)
        if not backfill and watermark is not None:
            posts = [t for t in posts if int(t.id) > watermark]  # already stored: skip the re-upsert
        ids = [int(t.id) for t in page.data]
        if ids:
            seen_max = max(seen_max, max(ids))
        reached = watermark is not None and not backfill and any(i <= watermark for i in ids)
        token = page.meta.next_token
        done = token is None or reached
        now = work.clock.now()
        authors = author_rows(posts, page.includes.users_by_id, now)  # before the write lock, not under it
        with work.db.write() as session:
            jobs.extend_lease(session, [job_id], owner=work.owner, until=work.lease_until())
            job = session.get(PollJob, job_id)
            _store_page(work, session, job, posts, page, now, authors)
            if backfill:
                # the cursor moves with the page it follows, in one transaction
                job.backfill_cursor = None if done else token
                job.backfill_newest = seen_max or None
            if done:
                _finish_pass(session, job, backfill=backfill, seen_max=max(seen_max, floor), observed=observed,
                             now=now, work=work, resumed=resumed)
            work.stats.flush(session, run_id=work.run_id, now=now)
        if done:
            return
        cursor = token
        followed.add(token)


def _drop_saved_cursor(work: Work, job_ids: list[int], exc: BadRequest) -> None:
    """A backfill's saved cursor that X refuses (400: a pagination token expires) would fail the job at every
    run and its backfill would never end: forget it, so the pass starts over from the top of the list (what
    is stored already is skipped by ingestion; only the pages are paid again)."""
    log.warning("jobs %s: X refused the saved backfill cursor (%s); the backfill starts over", job_ids, exc)
    with work.db.write() as session:
        for job in jobs.owned_jobs(session, job_ids, owner=work.owner):
            job.backfill_cursor = None
            job.backfill_newest = None


def _finish_pass(session: Session, job: PollJob, *, backfill: bool, seen_max: int, observed: int | None,
                 now: datetime, work: Work, resumed: bool = False) -> None:
    """``resumed``: a backfill continued from a saved cursor. It covers the list as it stood when it began (up
    to its watermark), not X's counter when it resumed: it records no count and leaves the job due, so a delta
    pass fetches what came in between (count gating would otherwise take the list for complete)."""
    campaign, row = _context(session, job)
    if seen_max:
        job.watermark = max(job.watermark or 0, seen_max)
    if backfill:
        job.backfill_done = True
        job.backfill_cursor = None
        job.backfill_newest = None
        job.next_reconcile_at = gating.advance_reconcile(
            job.next_reconcile_at, now=now, reconcile_interval=work.reconcile_interval) \
            if job.next_reconcile_at else gating.first_reconcile_at(
                tweet_row_id=row.id, campaign_start=campaign.starts_at, done_at=now,
                poll_interval=_interval(campaign), reconcile_interval=work.reconcile_interval)
    if observed is not None and not resumed:
        job.last_count = observed
    # a metrics poll that committed while this pass ran may have seen the counter grow past what the pass
    # started from, and made the job due: finishing must not undo that (what it saw would wait for the next
    # metrics poll — for ever, after the campaign's final one)
    grew_meanwhile = job.observed_count is not None and job.last_count is not None \
        and job.observed_count > job.last_count
    jobs.succeed(job, now=now, next_run_at=now if grew_meanwhile or resumed else None)


# ---------------------------------------------------------------- replies (recent search)

def conversation_query(conversation_ids: list[int]) -> str:
    return " OR ".join(f"conversation_id:{c}" for c in conversation_ids)


def group_for_query(conversations: list[tuple[int, int]], *, limit: int = MAX_QUERY_CHARS) -> list[list[int]]:
    """Split (job id, conversation id) pairs into groups whose OR-query fits X's 512 characters."""
    groups: list[list[int]] = []
    current: list[int] = []
    length = 0
    for job_id, conversation in conversations:
        clause = len(f"conversation_id:{conversation}")
        extra = clause if not current else clause + len(" OR ")
        if current and length + extra > limit:
            groups.append(current)
            current, length, extra = [], 0, clause
        current.append(job_id)
        length += extra
    if current:
        groups.append(current)
    return groups


def poll_replies(work: Work, job_ids: list[int]) -> None:
    """Direct replies to a group of posts through one OR-query.

    A backfill group saves its cursor (with the member list, so a resume rebuilds the same query) on every
    member after each page. A delta group uses ``since_id`` = the lowest watermark of the group.
    """
    with work.db.session() as session:
        owned = jobs.owned_jobs(session, job_ids, owner=work.owner)
        if not owned:
            return
        members = []
        for job in owned:
            row = session.get(CampaignTweet, job.campaign_tweet_id)
            members.append((job.id, int(row.conversation_id or row.tweet_id), int(row.tweet_id), job.watermark,
                            job.observed_count, job.backfill_newest))
        backfill = not owned[0].backfill_done
        saved = json.loads(owned[0].backfill_cursor) if owned[0].backfill_cursor else None
    ids = [m[0] for m in members]
    post_of = {m[0]: m[2] for m in members}
    query = conversation_query(sorted({m[1] for m in members}))
    token = saved["token"] if saved and saved.get("jobs") == sorted(ids) else None
    started = work.clock.now()
    since_id = None
    if not backfill and all(m[3] for m in members):
        since_id = min(m[3] for m in members)
        if since_id < snowflake_at(started - SEARCH_WINDOW + SEARCH_MARGIN):
            since_id = None  # too old for recent search: take the whole 7 days (duplicates are ignored)
    # see poll_list: only a pass that starts from the top may use its start time as a floor
    resumed = token is not None
    floor = 0 if resumed else snowflake_at(started - SEARCH_MARGIN)
    seen: dict[int, int] = {m[0]: m[5] or 0 for m in members}
    followed = {token} if token else set()
    while True:
        try:
            page = work.client.search_recent(query, since_id=str(since_id) if since_id else None,
                                             max_results=100, next_token=token)
        except BadRequest as exc:
            if not (resumed and token in followed and len(followed) == 1):
                raise
            # X refuses the saved cursor (expired, or no longer valid): start the backfill over from the top
            _drop_saved_cursor(work, ids, exc)
            token, resumed, followed = None, False, set()
            seen = dict.fromkeys(seen, 0)
            floor = snowflake_at(work.clock.now() - SEARCH_MARGIN)
            continue
        work.stats.bill(page)
        _refuse_loop(page, followed)
        by_post: dict[int, list[Tweet]] = {}
        for post in page.data:
            parent = post.replied_to_id
            if parent is not None and int(parent) in post_of.values():
                by_post.setdefault(int(parent), []).append(post)  # a direct reply (what reply_count counts)
        job_of = {post: job for job, post in post_of.items()}
        for post_id, posts in by_post.items():
            job_id = job_of[post_id]
            seen[job_id] = max([seen[job_id]] + [int(p.id) for p in posts])
        token = page.meta.next_token
        now = work.clock.now()
        # before the write lock, not under it
        authors = author_rows([p for posts in by_post.values() for p in posts], page.includes.users_by_id, now)
        with work.db.write() as session:
            jobs.extend_lease(session, ids, owner=work.owner, until=work.lease_until())
            owned = jobs.owned_jobs(session, ids, owner=work.owner)
            pages = {job.id: by_post[post_of[job.id]] for job in owned if post_of[job.id] in by_post}
            together = len(pages) > 1  # several posts' pages: their accounts locked at once, in id order
            if together:
                store_accounts(session, posts=[p for posts in pages.values() for p in posts],
                               ends_at=_context(session, owned[0])[0].ends_at, authors=authors)
            for job in owned:
                if job.id in pages:
                    _store_page(work, session, job, pages[job.id], page, now, authors, accounts_stored=together)
                if backfill:
                    job.backfill_cursor = json.dumps({"jobs": sorted(ids), "token": token}) if token else None
                    job.backfill_newest = seen[job.id] or None
            if token is None:
                for job in jobs.owned_jobs(session, ids, owner=work.owner):
                    observed = next(m[4] for m in members if m[0] == job.id)
                    _finish_pass(session, job, backfill=backfill, seen_max=max(seen[job.id], floor),
                                 observed=observed, now=now, work=work, resumed=resumed)
            work.stats.flush(session, run_id=work.run_id, now=now)
        if token is None:
            return
        followed.add(token)


def replies_groups(session: Session, jobs_: list[PollJob]) -> list[list[int]]:
    """Group claimed replies jobs: resumed backfills by their saved group, then fresh ones by query size."""
    conversation: dict[int, int] = {}
    for job in jobs_:
        row = session.get(CampaignTweet, job.campaign_tweet_id)
        conversation[job.id] = int(row.conversation_id or row.tweet_id)
    groups: list[list[int]] = []
    by_saved: dict[str, list[int]] = {}
    fresh_backfill: list[int] = []
    delta: list[int] = []
    for job in jobs_:
        if job.backfill_cursor:
            by_saved.setdefault(job.backfill_cursor, []).append(job.id)
        elif not job.backfill_done:
            fresh_backfill.append(job.id)
        else:
            delta.append(job.id)
    for saved, members in by_saved.items():
        if sorted(members) == sorted(json.loads(saved).get("jobs", [])):
            groups.append(members)
        else:  # part of the old group is not here: start those over (re-ingesting is harmless)
            fresh_backfill += members
    groups += group_for_query([(j, conversation[j]) for j in fresh_backfill])
    # a delta group searches from its lowest watermark: mixing a conversation quiet for hours with a busy
    # one would fetch the busy one's replies of all those hours again, so group by watermark age
    watermark = {job.id: job.watermark or 0 for job in jobs_}
    delta.sort(key=lambda j: watermark[j], reverse=True)
    band: list[int] = []
    for job_id in delta:
        if band and snowflake_ms(watermark[band[0]]) - snowflake_ms(watermark[job_id]) > WATERMARK_BAND_MS:
            groups += group_for_query([(j, conversation[j]) for j in band])
            band = []
        band.append(job_id)
    groups += group_for_query([(j, conversation[j]) for j in band])
    return groups
