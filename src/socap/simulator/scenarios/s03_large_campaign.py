"""Scenario 3 of the spec: a large campaign (50 posts, 3 days, threshold 20).

"Major Product Launch": Nimbus launches its edge platform with 5 main posts, 30 creators' posts (influencer)
and 15 investors' posts (investor), watched for 3 days from Monday 2025-03-17 13:00 UTC; runs every 30
minutes (145 with the final one); alerts spread over 20 minutes; only importance > 20 alerts.

Day 1, first run (D1 H0, the backfill): **500 engagements by 500 accounts** from the 4 hours before the start
(440 retweets, 30 replies, 30 quotes): 50 on the main posts, 350 on the influencer posts, 100 on the
investor posts. 12 of the accounts score above 20: 12 alerts, 100 seconds apart from D1 H0, highest first.
The engagement list has 10 pages of 50.

Day 1, hours 0-6: runs at H0 M30 … H2 bring about 20 new engagements each (80 in all); the runs at H2 M30 …
H4 bring exactly 100 each and those at H4 M30 … H6 exactly 115 each, and these 8 runs bring 3, 5, 4, 8, 6,
3, 7 and 6 high-importance engagers (alerts). Campaign totals (X's counters, the 50 posts summed):

  - likes 5,000 at D1 H2 → 8,000 at D1 H4 → 12,000 at D1 H6 (4,000 at the start)
  - retweets 500 at D1 H2 → 800 at D1 H4 → 1,200 at D1 H6 (440 at the start)

Day 2, the peak: between D2 H13 M30 and D2 H14 influencer post 12 (@creator12) goes viral, 500 new
retweeters (10 of them high-importance), and 15 more high-importance accounts engage other posts: the run at
D2 H14 finds 515 new engagements and sends 25 alerts over 20 minutes (48 s apart). The viral retweeters are
fetched as a delta (5 full pages and the one that reaches the watermark). Its likes jump by 4,000.
@topvc (VC, importance 72) engages five posts, in five different runs: main1 (retweet, D1 H8 M10),
influencer3 (quote, D1 H14 M10), investor2 (reply, D1 H20 M10), influencer7 (retweet, D2 H8 M10), investor5
(quote, D2 H22 M10) — "VC @topvc engaged with 5 tweets". Five other high-importance accounts engage once
(D1 H10, D2 H3, D2 H18, D3 H4, D3 H12). Day 2 has more engagements (1,419) than day 1 (1,244 after the
start), and its viral hour (D2 H13) is the peak hour of the timeline.

Final report (D3 H24):

  - Total engagements 3,500; unique accounts 2,800 (600 accounts engage two posts, 48 three, @topvc five)
  - High-importance accounts 85 (importance 21-79; nobody scores exactly 20)
  - Total likes 45,000; total retweets 3,200; total quotes 180; total replies 120 (these are also what SOCAP
    captured: 3,200 + 180 + 120 = 3,500)
  - Accounts by category: 25 investors (14 investors + 11 VCs), 15 founders, 200 developers, 30 media,
    2,530 others
  - 89 alerts (12 + 42 + 25 + @topvc's 5 + 5)

Interpretations:

- "With 10 workers processing 5 jobs each: all jobs complete in ~25 minutes" is about SOCAP's throughput,
  not the world: the end-to-end test runs this scenario with several worker threads.
- "Cumulative metrics: Total likes 5,000 → 8,000 → 12,000, Total retweets 500 → 800 → 1,200" during
  "Day 1 - Hour 2-6" are X's counters summed over the 50 posts at D1 H2, H4 and H6.
- "Each 30-minute run processes ~100-150 new engagements" holds for the 8 runs from D1 H2 M30 to D1 H6
  (100 or 115 each); "3-8 alerts per run" holds for the same 8 runs.
- "25 high-importance accounts engage across various tweets" in the viral run: 10 among the viral post's 500
  new retweeters, 15 on other posts, so the run finds 515 new engagements (500 of them the viral retweets).
- "High-importance accounts: 85 (importance > 20)" with a threshold of 20: no engager scores exactly 20, so
  "> 20" and SOCAP's "≥ threshold" select the same 85 accounts.
- The category breakdown counts unique accounts (25 + 15 + 200 + 30 + 2,530 = 2,800); VCs count as
  investors, as in scenario 1 (SOCAP shows them as "vc": 11 and "investor": 14).
- "Some tweets have no new engagements (workers skip quickly); some tweets have many new engagements
  (workers process delta)": from D1 H0 on, each run's engagement lands on the few posts being reshared at
  that moment (6 posts a run until D1 H2, 10 until D1 H6, then 3), not on all 50. The volumes are the
  spec's; this is what keeps a full engine run of the scenario under a minute on SQLite (about 870 calls
  to X instead of about 2,000 when every post gets a little in every run).
"""

from __future__ import annotations

from socap.simulator.builder import ScenarioBuilder
from socap.simulator.scenario import at, hours, minutes
from socap.simulator.world import Keyframes

NAME = "Large campaign (50 posts, 3 days)"
DESCRIPTION = """
"Major Product Launch": 5 main, 30 influencer and 15 investor posts for 3 days, threshold 20. Run 1 finds 500
engagements (12 alerts); the runs of D1 H2-H6 find 100-115 each; at D2 H14 influencer post 12 gets 500 new
retweeters and 25 alerts go out. 3,500 engagements by 2,800 accounts, 85 important; 45,000 likes.
"""

START = at("D1 H0")
END = at("D3 H24")
VIRAL = "influencer12"
VIRAL_WINDOW = (at("D2 H13 M30"), at("D2 H14"))

MAIN = [f"main{i}" for i in range(1, 6)]
INFLUENCER = [f"influencer{i}" for i in range(1, 31)]
INVESTOR = [f"investor{i}" for i in range(1, 16)]
LABELS = MAIN + INFLUENCER + INVESTOR
# Each post's share of the ordinary engagement and of the likes: main posts draw most, creators vary
WEIGHT = {**{k: 30 for k in MAIN}, **{k: 4 + (7 * i) % 23 for i, k in enumerate(INFLUENCER)},
          **{k: 3 + i % 5 for i, k in enumerate(INVESTOR)}}

# Run 1: the backfill, per post category: (retweets, replies, quotes)
BACKFILL = {"main": (42, 4, 4), "influencer": (310, 20, 20), "investor": (88, 6, 6)}
# The runs from D1 H2 M30 to D1 H6: new engagements per run by action, and how many are high-importance
RUSH = [({"retweet": 75, "reply": 10, "quote": 15}, important) for important in (3, 5, 4, 8)]
RUSH += [({"retweet": 100, "reply": 5, "quote": 10}, important) for important in (6, 3, 7, 6)]
# After D1 H6, per campaign day: ordinary engagements by action (the viral run and the important accounts
# below come on top)
LATER = {1: {"retweet": 290, "reply": 3, "quote": 7}, 2: {"retweet": 878, "reply": 7, "quote": 15},
         3: {"retweet": 318, "reply": 5, "quote": 12}}

# Total likes over the 50 posts (without the viral post's jump) at these instants
LIKES = {at("D1 H0"): 4_000, at("D1 H2"): 5_000, at("D1 H4"): 8_000, at("D1 H6"): 12_000, at("D2 H0"): 22_000,
         at("D3 H0"): 31_000, END: 39_000}
VIRAL_EXTRA_LIKES = {at("D2 H13 M30"): 0, at("D2 H14 M30"): 4_000, at("D3 H0"): 5_000, END: 6_000}

# The 85 high-importance accounts by where they appear: (category, how many)
IMPORTANT_IN_BACKFILL = {"vc": 3, "investor": 3, "founder": 2, "media": 2, "developer": 2}  # 12
IMPORTANT_IN_RUSH = {"vc": 4, "investor": 5, "founder": 6, "media": 11, "developer": 12, "other": 4}  # 42
IMPORTANT_IN_VIRAL_RUN = {"vc": 2, "investor": 5, "founder": 5, "media": 6, "developer": 6, "other": 1}  # 25
VIRAL_RUN_ELSEWHERE = {"retweet": 9, "quote": 3, "reply": 3}  # 15 of those 25 engage other posts
TOPVC = [("retweet", "main1", at("D1 H8 M10")), ("quote", "influencer3", at("D1 H14 M10")),
         ("reply", "investor2", at("D1 H20 M10")), ("retweet", "influencer7", at("D2 H8 M10")),
         ("quote", "investor5", at("D2 H22 M10"))]
SINGLES = [("vc", "retweet", "main3", at("D1 H10 M20")), ("investor", "retweet", "influencer20", at("D2 H3 M40")),
           ("founder", "quote", "investor9", at("D2 H18 M25")), ("founder", "reply", "main5", at("D3 H4 M15")),
           ("media", "retweet", "influencer1", at("D3 H12 M50"))]

# Everyone else (2,715 accounts, importance < 10): 600 engage two posts, 48 three, the rest one
ORDINARY_MIX = {"media": 10, "developer": 180, "other": 2_525}
TWICE, THRICE = 600, 48


def split(total: int, weights: list[float]) -> list[int]:
    """``total`` cut into whole parts proportional to ``weights`` (largest remainders), summing to ``total``."""
    raw = [total * w / sum(weights) for w in weights]
    parts = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: parts[i] - raw[i])[: total - sum(parts)]:
        parts[i] += 1
    return parts


def build(b: ScenarioBuilder) -> None:
    b.campaign("Major Product Launch", start="2025-03-17T13:00:00Z", days=3, threshold=20, spacing_minutes=20)

    # --- curated important accounts (the seed list) and people who never engage ----------------------
    b.seeds({"investor": 25, "vc": 20, "founder": 15, "media": 10, "developer": 10})  # 80 seeds of weight 1
    b.bystanders(150)

    # --- the campaign's 50 posts ---------------------------------------------------------------------
    nimbus = b.account("nimbusedge", name="Nimbus", bio="Nimbus: run your backend at the edge.",
                       followers=180_000, verified_type="business")
    authors = {label: nimbus for label in MAIN}
    for i, label in enumerate(INFLUENCER, 1):
        authors[label] = b.account(f"creator{i}", name=f"Creator {i}", bio="Cloud and web dev videos.",
                                   followers=10_000 + 9_000 * i)
    for i, label in enumerate(INVESTOR, 1):
        authors[label] = b.account(f"backer{i}", name=f"Backer {i}", category="investor",
                                   bio="Angel investor in cloud infrastructure.", followers=5_000 + 2_000 * i)
    viral_extra = Keyframes([(b.when(t), v) for t, v in VIRAL_EXTRA_LIKES.items()])  # 0 before D2 H13 M30
    per_post = {t: split(total, [WEIGHT[k] for k in LABELS]) for t, total in LIKES.items()}
    posts = {}
    for n, label in enumerate(LABELS):
        likes = {t: values[n] for t, values in per_post.items()}
        if label == VIRAL:  # its share of LIKES plus the jump of day 2
            share = Keyframes([(b.when(t), v) for t, v in likes.items()])
            likes = {t: share.at(b.when(t)) + viral_extra.at(b.when(t)) for t in [*likes, *VIRAL_EXTRA_LIKES]}
        kind = label.rstrip("0123456789")
        posts[label] = b.post(kind, author=authors[label], created=START - hours(8) + minutes(3 * n),
                              text=f"Nimbus Edge is live: your backend, 30 ms from every user ({label}).",
                              likes=likes)

    # --- the engagement plan: (post, action, instant) slots, taken by accounts further down --------------
    def spotlight(k: int, labels: list[str] = LABELS) -> list[str]:
        """The ``k`` posts being reshared at some moment: drawn by WEIGHT, without repetition."""
        return sorted(labels, key=lambda label: b.rng.random() ** (1 / WEIGHT[label]), reverse=True)[:k]

    def slots(labels: list[str], actions: dict[str, int], window: tuple) -> list[tuple[str, str, object]]:
        """Engagements on ``labels`` (picked by WEIGHT) spread over ``window``, ``actions`` of each kind."""
        out = []
        for action, n in actions.items():
            targets = b.rng.choices(labels, weights=[WEIGHT[k] for k in labels], k=n)
            out += [(label, action, t) for label, t in zip(targets, b.spread(n, window), strict=True)]
        return out

    def runs(first, last) -> list[tuple]:
        """The 30-minute poll windows from ``first`` to ``last`` (both on the run grid), a minute inside."""
        count = int((last - first) / minutes(30))
        return [(first + minutes(30 * k + 1), first + minutes(30 * (k + 1) - 1)) for k in range(count)]

    def per_run(actions: dict[str, int], windows: list[tuple], hot: int) -> list[list[tuple]]:
        """``actions`` shared out evenly over ``windows``; in each, ``hot`` posts get the engagement."""
        shares = {action: split(n, [1] * len(windows)) for action, n in actions.items()}
        return [slots(spotlight(hot), {a: shares[a][k] for a in actions}, window)
                for k, window in enumerate(windows)]

    # run 1: 500 engagements from the 4 hours before the start (50 / 350 / 100 by post category)
    before = (START - hours(4) + minutes(1), START - minutes(1))
    backfill = []
    for labels, (rt, rp, qt) in ((MAIN, BACKFILL["main"]), (INFLUENCER, BACKFILL["influencer"]),
                                 (INVESTOR, BACKFILL["investor"])):
        backfill += slots(labels, {"retweet": rt, "reply": rp, "quote": qt}, before)
    b.rng.shuffle(backfill)
    important_backfill, backfill = backfill[:12], backfill[12:]

    # D1 H0 → H2: 80 over 4 runs (6 posts each); then 8 runs of 100 / 115 (10 posts each) with 3-8
    # high-importance engagements each
    early = sum(per_run({"retweet": 60, "reply": 10, "quote": 10}, runs(START, at("D1 H2")), hot=6), [])
    rush, important_rush = [], []
    for (actions, n_important), window in zip(RUSH, runs(at("D1 H2"), at("D1 H6")), strict=True):
        run_slots = slots(spotlight(10), actions, window)
        b.rng.shuffle(run_slots)
        important_rush += run_slots[:n_important]
        rush += run_slots[n_important:]

    # after D1 H6, run by run: 3 posts in the spotlight each time; nothing but the viral run's own
    # engagement in the viral run
    later = []
    for day, actions in LATER.items():
        first = at("D1 H6") if day == 1 else at(f"D{day} H0")
        last = END - minutes(30) if day == 3 else at(f"D{day + 1} H0")
        windows = [w for w in runs(first, last) if not VIRAL_WINDOW[0] < w[0] < VIRAL_WINDOW[1]]
        later += sum(per_run(actions, windows, hot=3), [])
    viral_window = (VIRAL_WINDOW[0] + minutes(1), VIRAL_WINDOW[1] - minutes(1))
    viral = [(VIRAL, "retweet", t) for t in b.spread(500, viral_window)]
    b.rng.shuffle(viral)
    important_viral, viral = viral[:10], viral[10:]
    others = [label for label in LABELS if label != VIRAL]
    important_viral += slots(others, VIRAL_RUN_ELSEWHERE, viral_window)

    verbs = {"retweet": b.retweet, "reply": b.reply, "quote": b.quote}

    # --- the 85 high-importance accounts (distinct scores within each batch, none exactly 20) -----------
    def important(mix: dict[str, int], taken: list[tuple]) -> None:
        scores = b.rng.sample(range(21, 80), len(taken))
        people = []
        for category, n in mix.items():
            people += b.accounts(n, category, importance=[scores.pop() for _ in range(n)])
        b.rng.shuffle(people)
        for person, (label, action, t) in zip(people, taken, strict=True):
            verbs[action](posts[label], by=person, at=t)

    important(IMPORTANT_IN_BACKFILL, important_backfill)
    important(IMPORTANT_IN_RUSH, important_rush)
    important(IMPORTANT_IN_VIRAL_RUN, important_viral)
    topvc = b.account("topvc", name="Tessa Okafor", category="vc", importance=72, verified_type="blue",
                      bio="General Partner at Summit Capital. Infrastructure and developer platforms.")
    for action, label, t in TOPVC:
        verbs[action](posts[label], by=topvc, at=t)
    for (category, action, label, t), score in zip(SINGLES, (34, 27, 45, 23, 61), strict=True):
        verbs[action](posts[label], by=b.accounts(1, category, importance=score)[0], at=t)

    # --- everyone else: 3,411 engagements by 2,715 accounts --------------------------------------------
    pool = []
    for category, n in ORDINARY_MIX.items():
        pool += b.accounts(n, category)
    b.rng.shuffle(pool)
    plan = [(a, 3) for a in pool[:THRICE]] + [(a, 2) for a in pool[THRICE:THRICE + TWICE]]
    plan += [(a, 1) for a in pool[THRICE + TWICE:]]
    first_run = {id(s) for s in backfill}
    remaining = backfill + early + rush + later + viral
    b.rng.shuffle(remaining)
    for person, count in plan:
        chosen, labels_taken, in_first_run = [], set(), False
        for i, slot in enumerate(remaining):
            if slot[0] in labels_taken or (id(slot) in first_run and in_first_run):
                continue  # one engagement per post per account; run 1 finds 500 different accounts
            chosen.append(i)
            labels_taken.add(slot[0])
            in_first_run = in_first_run or id(slot) in first_run
            if len(chosen) == count:
                break
        for i in reversed(chosen):
            label, action, t = remaining.pop(i)
            verbs[action](posts[label], by=person, at=t)
    assert not remaining, f"{len(remaining)} engagements without an account"
