"""Scenario 3 (spec: "Large campaign"): 50 posts, 3 days, threshold 20 — see
src/socap/simulator/scenarios/s03_large_campaign.py (run 1 finds 500; the runs of D1 H2-H6 find 100-115;
the viral run at D2 H14 finds 515, 500 of them one post's retweets; 3,500 engagements by 2,800 accounts,
85 important, 89 alerts).

Two tests. ``test_large_campaign_run_by_run`` steps the engine on a ManualClock (every run happens at its
instant), so it can assert what each run brings: counts, alert batches and their slots, X's counters at
D1 H2/H4/H6, the viral run's delta.

``test_large_campaign_on_four_worker_threads`` runs the real threaded ``Engine(workers=4)``. The spec has
"10 workers"; four worker threads plus the scheduler and the outbox threads on a 2-core CI machine already
make workers race for jobs, leases and the database (what "several workers" must survive), while ten would
only add GIL and SQLite lock waits. It runs on a VirtualClock where real work takes virtual time (speed ×
real seconds): a busy run on this machine lasts longer than its 30-minute cycle at these speeds, so a run's
jobs see engagement from later cycles and per-run figures shift. That test therefore asserts what must hold
whatever the timing: the end state equals the truth exactly with nothing stored twice, the final figures,
every important engagement alerted exactly once, the viral burst fetched as a delta. The clock runs at
8,000× except 1,500× from D2 H13 to D2 H14 M30, so the viral half hour falls in one or two poll cycles as
it would in real time on a quiet machine, and 2,000× after the window's end, so a lagging engine has time to
finish the final run's passes (the whole campaign takes about 35-50 s).
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from socap.clock import parse_instant
from socap.monitoring.models import Engagement, PollJob
from socap.simulator.pagination import largest_cut
from tests.e2e.harness import pages
from tests.monitoring.calllog import RETWEETS, asked_for

TOPVC = [("main1", "retweet"), ("influencer3", "quote"), ("investor2", "reply"), ("influencer7", "retweet"),
         ("investor5", "quote")]
EARLY = ["D1 H0 M30", "D1 H1", "D1 H1 M30", "D1 H2"]
RUSH = ["D1 H2 M30", "D1 H3", "D1 H3 M30", "D1 H4", "D1 H4 M30", "D1 H5", "D1 H5 M30", "D1 H6"]
RUSH_NEW = [100] * 4 + [115] * 4
RUSH_ALERTS = [3, 5, 4, 8, 6, 3, 7, 6]
IMPORTANCE = re.compile(r"\(importance: (\d+)\)")


def importance(message: dict) -> int:
    return int(IMPORTANCE.search(message["body"]["message"]).group(1))


def batch(s, run: str) -> list[dict]:
    return [m for m in s.alerts() if s.at(run) <= m["at"] < s.at(run) + timedelta(minutes=30)]


def final_figures(s) -> dict:
    """The final report's figures, checked against the spec and the truth (both tests)."""
    stored = s.stored()
    assert len(stored) == len(set(stored)), "an engagement was stored twice"
    assert set(stored) == s.capturable(s.end)
    truth = s.truth(s.end)
    report = s.get("report")
    t = {k: v["value"] for k, v in report["totals"].items()}
    assert report["kind"] == "final"
    assert (t["engagements"], t["unique_accounts"], report["high_importance_accounts"]) == (3500, 2800, 85)
    assert (t["likes"], t["retweets"], t["quotes"], t["replies"]) == (45_000, 3200, 180, 120)
    assert (t["retweet_count"], t["quote_count"], t["reply_count"]) == (3200, 180, 120)
    assert report["high_importance_accounts"] == len(truth["summary"]["important_accounts"])
    mix = Counter()
    for share in report["account_categories"]:
        mix["investor" if share["name"] == "vc" else share["name"]] += share["count"]
    assert mix == {"investor": 25, "founder": 15, "developer": 200, "media": 30, "other": 2530}

    # 89 alerts, each once: exactly the important accounts' engagements (@topvc's five)
    sent = s.alerts()
    keys = [m["headers"]["X-Idempotency-Key"] for m in sent]
    assert len(sent) == 89 and len(set(keys)) == 89 and report["alerts"]["sent"] == 89
    scores = {a["username"]: a["importance"] for a in truth["accounts"] if a["importance"] >= 20 and a["engagements"]}
    alerted = Counter(m["body"]["message"].split("@")[1].split(" ")[0] for m in sent)
    assert set(alerted) == set(scores) and alerted["topvc"] == 5
    assert all(importance(m) == scores[m["body"]["message"].split("@")[1].split(" ")[0]] for m in sent)

    # @topvc engaged with 5 tweets
    row = next(r for r in s.get("engagements", min_importance=72)["rows"] if r["username"] == "topvc")
    assert row["posts_engaged"] == 5 and sorted(map(tuple, row["other_posts"])) == sorted(TOPVC)
    detail = s.get(f"accounts/{row['account_id']}")
    assert [(e["post_label"], e["action"]) for e in detail["engagements"]] == TOPVC

    # the timeline peaks in the viral hour; day 2 is busier than day 1
    assert parse_instant(report["peak_hour"]["hour"]) == s.at("D2 H13")
    per_day = Counter()
    for bucket in report["charts"]["timeline"]:
        day = (parse_instant(bucket["hour"]) - s.start).days + 1  # day 0: the backfill's 4 hours before the start
        per_day[day] += bucket["retweets"] + bucket["replies"] + bucket["quotes"]
    assert per_day[2] > per_day[1] > per_day[3]
    return {"engagements": t["engagements"], "unique_accounts": t["unique_accounts"],
            "high_importance": report["high_importance_accounts"], "likes": t["likes"], "retweets": t["retweets"],
            "quotes": t["quotes"], "replies": t["replies"], "categories": dict(mix), "alerts": len(sent),
            "peak_hour": report["peak_hour"]["hour"], "per_day": dict(sorted(per_day.items())),
            "calls": report["cost"]["calls"], "cost_usd": report["cost"]["cost_usd"]}


def burst_fetched_at(s, post_id: int) -> datetime:
    """When the last of the viral post's burst retweets (engaged in the viral half hour) was stored."""
    with s.rt.db.session() as session:
        detected = session.scalar(
            select(func.max(Engagement.detected_at)).where(
                Engagement.campaign_tweet_id == post_id, Engagement.action == "retweet",
                Engagement.engaged_at >= s.at("D2 H13 M30"), Engagement.engaged_at < s.at("D2 H14")))
    assert detected is not None, "no burst retweet was stored"
    return detected


def starts_pass(call: dict) -> bool:
    """A list call without a pagination token starts a pass."""
    return "pagination_token=" not in call["url"]


def passes_in(calls: list[dict]) -> int:
    """How many passes ``calls`` (one job's, in time order) belong to: each call that starts one, and the pass
    the first call continues if it does not."""
    return sum(map(starts_pass, calls)) + (bool(calls) and not starts_pass(calls[0]))


def passes_over(s, post: dict, start: datetime, until: datetime) -> tuple[list[dict], tuple[datetime, datetime]]:
    """The post's retweet-list calls from ``start`` to the end of the pass in progress at ``until``, and the
    window [start, when the next pass began) they cover."""
    calls = sorted((c for c in s.calllog.calls if c["endpoint"] == RETWEETS and post["tweet_id"] in c["url"]
                    and c["at"] >= start), key=lambda c: c["at"])
    taken = [c for c in calls if c["at"] <= until]
    rest = calls[len(taken):]
    while rest and not starts_pass(rest[0]):
        taken.append(rest.pop(0))
    return taken, (start, rest[0]["at"] if rest else s.end + timedelta(days=30))


def delta_calls_at_most(calls: list[dict], brought: int, lost: int) -> int:
    """The most retweet-list calls that delta passes bringing ``brought`` new retweets may make. A pass ends
    with the call whose page reaches its watermark; every call before that brings new retweets only. The
    simulator, like X, cuts pages short, to no fewer than 75 of 100 items when more follow, so the calls asking
    for 100 bring 75 or more each: at most brought // 75 of them. A pass's first call asks only for the
    counter's growth plus a margin (pollers.delta_page_size): such a call, one per pass at most, is counted
    apart, as is each pass's last call. A pass whose lease was lost fetched pages that the pass taking over
    fetches again: one more walk each."""
    floor = 100 - largest_cut(100)
    sized_down = sum(starts_pass(c) and asked_for(c) < 100 for c in calls)
    return brought // floor + sized_down + passes_in(calls) + lost * (brought // floor + 2)


def stored_between(s, post_id: int, action: str, start: datetime, end: datetime) -> int:
    """How many of a post's engagements of ``action`` were stored in [start, end)."""
    with s.rt.db.session() as session:
        return session.scalar(select(func.count()).select_from(Engagement).where(
            Engagement.campaign_tweet_id == post_id, Engagement.action == action,
            Engagement.detected_at >= start, Engagement.detected_at < end))


def job_id(s, post_id: int, kind: str) -> int:
    with s.rt.db.session() as session:
        return session.scalar(select(PollJob.id).where(PollJob.campaign_tweet_id == post_id, PollJob.kind == kind))


def leases_lost(caplog, job: int) -> int:
    """How many times a worker found its lease on ``job`` taken over (socap.worker logs each)."""
    return sum(f"lease on jobs [{job}] was lost" in r.getMessage() for r in caplog.records)


def test_large_campaign_run_by_run(system):
    s = system("3")
    assert s.created["job_count"] == 200 and len(s.created["posts"]) == 50

    # run 1: 500 engagements, 10 pages of 50; main 50, influencer 350, investor 100; 12 alerts 100 s apart
    s.run_until(s.at("D1 H0 M20"))
    listed = s.get("engagements")
    assert (listed["total"], listed["pages"]) == (500, 10)
    by_category = {c: s.get("summary", category=c)["totals"]["engagements"]["value"]
                   for c in ("main", "influencer", "investor")}
    assert by_category == {"main": 50, "influencer": 350, "investor": 100}
    first = s.alerts()
    assert [m["at"] for m in first] == [s.start + i * timedelta(seconds=100) for i in range(12)]
    assert [importance(m) for m in first] == sorted((importance(m) for m in first), reverse=True)

    # D1 H0 M30 … H2 about 20 a run; D1 H2 M30 … H6 100 or 115 a run with 3-8 alerts; X's counters
    new, cumulative = [], {}
    for run in EARLY + RUSH:
        s.run_until(s.at(run) + timedelta(minutes=1))
        summary = s.get("summary")
        delta = summary["totals"]["engagements"]
        assert delta["value"] == len(s.capturable(s.at(run)))
        new.append(delta["change"])
        if run in ("D1 H2", "D1 H4", "D1 H6"):
            cumulative[run] = (summary["totals"]["likes"]["value"], summary["totals"]["retweet_count"]["value"])
    s.run_until(s.at("D1 H6 M29"))
    alerts_per_run = [len(batch(s, run)) for run in RUSH]
    assert sum(new[:4]) == 80 and all(15 <= n <= 25 for n in new[:4]), new
    assert new[4:] == RUSH_NEW
    assert alerts_per_run == RUSH_ALERTS
    assert cumulative == {"D1 H2": (5000, 500), "D1 H4": (8000, 800), "D1 H6": (12000, 1200)}
    # drill down into one post: its own metrics over time
    post = s.get("summary")["posts"][0]
    detail = s.get(f"posts/{post['id']}")
    assert detail["post"]["likes"] == detail["metrics"][-1]["likes"] and len(detail["metrics"]) == 13

    # D2 H14: the viral run finds 515 (500 retweets of influencer12, fetched as a delta); 25 alerts 48 s apart
    s.run_until(s.at("D2 H14 M1"))
    delta = s.get("summary")["totals"]["engagements"]
    assert delta["change"] == 515
    viral = next(p for p in s.get("summary")["posts"] if p["label"] == "influencer12")
    cycle = [c for c in s.calllog.between(s.at("D2 H14"), s.at("D2 H14 M30"), RETWEETS)
             if viral["tweet_id"] in c["url"]]
    assert len(cycle) <= pages(500)
    s.run_until(s.at("D2 H14 M29"))
    burst = batch(s, "D2 H14")
    assert [m["at"] for m in burst] == [s.at("D2 H14") + i * timedelta(seconds=48) for i in range(25)]
    assert [importance(m) for m in burst] == sorted((importance(m) for m in burst), reverse=True)

    s.finish()
    figures = final_figures(s)
    series = {parse_instant(p["at"]): p["likes"] for p in s.get(f"posts/{viral['id']}")["metrics"]}
    jump = series[s.at("D2 H14 M30")] - series[s.at("D2 H13 M30")]
    assert jump >= 4000, jump
    s.headline("run_by_run", first_run=listed["total"], first_run_by_category=by_category,
               first_run_alerts=len(first), new_per_run=new, rush_alerts=alerts_per_run,
               cumulative_likes_retweets=cumulative, viral_run_new=delta["change"],
               viral_retweet_calls=len(cycle), viral_alerts=len(burst), viral_likes_jump=jump, **figures)


@pytest.mark.serial  # the threaded engine on a virtual clock: it wants the machine to itself
def test_large_campaign_on_four_worker_threads(system, caplog):
    s = system("3", workers=4, speed=8000)
    started = time.monotonic()
    s.run_until(s.at("D2 H13"))
    s.set_speed(1500)
    s.run_until(s.at("D2 H14 M30"))
    s.set_speed(8000)
    # the campaign completes once its final run's work is done, or after FINAL_MAX_WAIT (24 h) of the clock:
    # at 8,000x that is 11 real seconds, less than a loaded machine's engine can lag behind the clock (the
    # remaining passes would then be dropped); at 2,000x it is 43
    s.run_until(s.end)
    s.set_speed(2000)
    s.finish(timeout=180)
    engine_seconds = time.monotonic() - started
    figures = final_figures(s)

    # the dashboard's numbers load in well under the spec's "2-3 seconds"
    loaded = time.monotonic()
    summary = s.get("summary")
    summary_seconds = time.monotonic() - loaded
    assert summary["totals"]["engagements"]["value"] == 3500 and summary_seconds < 3

    # the burst is fetched as a delta. On a quiet machine its 500 new retweeters cost ceil(500/100) + 1 calls in
    # one cycle when no page is cut short (tests/monitoring/test_delta.py asserts that exactly, and the run-by-run
    # test above on its exact clock). Here the engine can run hours of virtual time behind the clock on a loaded
    # machine, so the burst may be split over more passes, mixed with later retweets, and which pages come back
    # short depends on where each page starts: what holds whatever the timing is that each pass fetches only the
    # pages of what it brings plus the one page that reaches its watermark (see delta_calls_at_most).
    viral = next(p for p in summary["posts"] if p["label"] == "influencer12")
    burst, window = passes_over(s, viral, s.at("D2 H13 M30"), burst_fetched_at(s, viral["id"]))
    brought = stored_between(s, viral["id"], "retweet", *window)
    lost = leases_lost(caplog, job_id(s, viral["id"], "retweets"))
    assert brought >= 500 and 5 <= len(burst) <= delta_calls_at_most(burst, brought, lost), (
        brought, lost, [(c["at"].isoformat(), starts_pass(c), asked_for(c), c["billed_posts"]) for c in burst])
    per_run = defaultdict(list)
    for a in s.get("alerts"):
        if a["kind"] == "engagement":
            per_run[a["run_id"]].append(a)
    s.headline("four_worker_threads", engine_seconds=round(engine_seconds, 1),
               viral_burst_retweet_calls=len(burst), viral_burst_passes=passes_in(burst),
               viral_burst_first_pages_asked=[asked_for(c) for c in burst if starts_pass(c)],
               viral_burst_brought=brought,
               viral_burst_call_times=[c["at"] for c in burst],
               alerts_per_run=[len(v) for _, v in sorted(per_run.items())],
               summary_api_seconds=round(summary_seconds, 3), **figures)
