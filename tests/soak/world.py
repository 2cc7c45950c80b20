"""The soak scenario: a 3-day launch with 12 posts of mixed categories, ~2,160 engagements in bursts, 29 of them
by important accounts (alerts), one app-wide 402 episode, and the random faults X throws at it.

Engagement comes in bursts, so that most 30-minute cycles are quiet (one metrics call) and a loaded machine can
catch up between them (D1 H0 = 2025-04-07 09:00 UTC):

- before the start (-6 h → -5 min): 500 engagements on every post (the first run's backfill), 4 important;
- D1 H0 → H1, the launch: 800 on every post, 12 important;
- four 20-minute clusters of 40 engagements on three posts each (D1 H6, D1 H18, D2 H2, D2 H20), one important
  account in each of three of them;
- from D2 H0, X answers the next two calls (whatever their endpoint) with 402 CreditsDepleted: polling pauses
  app-wide, the hourly retry is refused once more, the next one goes through (an episode counted in calls, so a
  loaded machine running hours behind cannot miss it);
- D2 H8 → H9, a second wave: 700 on every post, 10 important;
- D3 H6 → H7: a tail of 100 on the main posts, nobody important (no alert is pending when the campaign
  completes, which cancels pending alerts); after D3 H7 nothing moves, so whenever the faults let the final
  metrics poll run it reads the end's figures.

Only the main posts are quoted (each quoted post costs a list call per busy cycle). Besides the direct
engagements SOCAP must capture, 4 are hidden from X's lists (counted, never listed) and
20 replies answer other replies (not engagements with a campaign post).
"""

from __future__ import annotations

from socap.simulator import FaultProfile, Scenario, at, hours, minutes
from socap.simulator.builder import ScenarioBuilder

LABELS = [f"main{i}" for i in range(1, 4)] + [f"influencer{i}" for i in range(1, 7)] + [
    f"investor{i}" for i in range(1, 4)]
WEIGHT = {"main1": 18, "main2": 10, "main3": 6, "influencer1": 12, "influencer2": 10, "influencer3": 8,
          "influencer4": 7, "influencer5": 6, "influencer6": 5, "investor1": 8, "investor2": 6, "investor3": 4}
ACTIONS = {"retweet": 60, "reply": 25, "quote": 15}  # on the main posts; the others are not quoted
NOT_QUOTED = {"retweet": 70, "reply": 30}
MAINS = ["main1", "main2", "main3"]
# (between, engagements, the posts they go to (None: all), important accounts' scores ≥ the threshold of 10)
WAVES = [
    ((-hours(6), -minutes(5)), 500, None, [24, 17, 12, 10]),
    ((at("D1 H0"), at("D1 H1")), 800, None, [30, 27, 22, 21, 19, 16, 15, 14, 13, 12, 11, 10]),
    *[((at(spec), at(spec) + minutes(20)), 40, posts, scores) for spec, posts, scores in [
        ("D1 H6", ["main1", "influencer1", "investor1"], [18]),
        ("D1 H18", ["main2", "influencer2", "influencer3"], [13]),
        ("D2 H2", ["main3", "influencer5", "investor3"], []),
        ("D2 H20", ["main1", "influencer6", "influencer4"], [10]),
    ]],
    ((at("D2 H8"), at("D2 H9")), 700, None, [29, 25, 20, 17, 16, 14, 12, 11, 11, 10]),
    ((at("D3 H6"), at("D3 H7")), 100, MAINS, []),
]
HIDDEN = 4  # engagements of the second wave hidden from X's lists
QUIET_FROM = at("D3 H7")
CREDITS_EPISODE = at("D2 H0")  # the next two calls from then on
IMPORTANT_CATEGORIES = ("investor", "vc", "founder", "media", "developer")

# X's misbehaviour during the soak, call by call (the 402 episode is the world's own, on the virtual clock).
# Faults fall on the n-th call by (seed, n): with seed 37 every kind already falls within the first 40 calls
# (429s at 3, 503s at 3, timeouts at 2, a malformed body at 1 of them), so even a run the machine slows down to
# a few hundred calls meets each kind; over many calls the rates are those given.
FAULTS = FaultProfile(seed=37, rate_limited_rate=0.10, error_rate=0.05, timeout_rate=0.02, malformed_rate=0.01,
                      timeout_delay_seconds=1.6)
CLIENT_TIMEOUT_SECONDS = 1.0  # shorter than the simulator's timeout delay: a timeout is a real one


def build(b: ScenarioBuilder) -> None:
    b.campaign("Soak launch", start="2025-04-07T09:00:00Z", days=3, threshold=10, spacing_minutes=20)
    b.seeds({"investor": 8, "vc": 6, "founder": 6, "media": 4, "developer": 6})
    b.bystanders(50)
    b.filler_importance = {0: 1}  # ordinary engagers are followed by no seed: a short seed sync in the set-up

    acme = b.account("acmesoak", name="Acme", bio="Acme makes launch tooling.", followers=52_000)
    authors = {f"main{i}": acme for i in range(1, 4)}
    for i in range(1, 7):
        authors[f"influencer{i}"] = b.account(f"creator{i}soak", name=f"Creator {i}", followers=10_000 * i,
                                              bio="Developer creator. Weekly tool reviews.")
    for i in range(1, 4):
        authors[f"investor{i}"] = b.account(f"backer{i}soak", name=f"Backer {i}", category="investor",
                                            bio="Angel investor. Backed Acme at seed.", followers=8_000 * i)
    posts = {}
    for n, label in enumerate(LABELS):
        scale = WEIGHT[label] * 10
        posts[label] = b.post(label.rstrip("0123456789"), author=authors[label],
                              text=f"Acme launch day: {label} says it is live.", created=-hours(12) + minutes(10 * n),
                              likes={-hours(6): scale, at("D1 H8"): 3 * scale, at("D2 H12"): 5 * scale,
                                     QUIET_FROM: 6 * scale})

    verbs = {"retweet": b.retweet, "reply": b.reply, "quote": b.quote}
    replies = []
    for between, size, targets, scores in WAVES:
        people = b.accounts(size - len(scores))
        people += [b.accounts(1, IMPORTANT_CATEGORIES[i % len(IMPORTANT_CATEGORIES)], importance=score)[0]
                   for i, score in enumerate(scores)]
        b.rng.shuffle(people)
        labels = targets or LABELS
        chosen = b.rng.choices(labels, weights=[WEIGHT[k] for k in labels], k=size)
        actions = [b.rng.choices(list(mix), weights=list(mix.values()))[0]
                   for mix in (ACTIONS if label in MAINS else NOT_QUOTED for label in chosen)]
        hidden = set(b.rng.sample(range(size), HIDDEN)) if size == 700 else set()
        for i, (person, label, action, moment) in enumerate(
                zip(people, chosen, actions, b.spread(size, between), strict=True)):
            made = verbs[action](posts[label], by=person, at=moment, hidden=i in hidden)
            if action == "reply":
                replies.append(made)
    # thread replies: answers to replies, never engagements with a campaign post
    for reply, person in zip(b.rng.sample(replies[:-50], 20), b.accounts(20), strict=True):
        b.reply(reply, by=person, at=reply.created_at + minutes(20))
    b.fault("*", at=CREDITS_EPISODE, status=402, times=2, note="credits ran out: two calls refused")


SOAK = Scenario.from_function("t_soak", build, name="Soak launch (3 days, 12 posts, faults)")
