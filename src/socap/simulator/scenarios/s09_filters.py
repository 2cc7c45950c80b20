"""Scenario 9 of the spec: filtering and dashboard views (20 posts, 3 days, threshold 10).

"Kestrel Spring Release": Kestrel's 4 posts (main), 10 creators' posts (influencer) and 6 angels' posts
(investor), watched for 3 days from Monday 2025-03-10 09:00 UTC. Ordinary accounts (importance 0-9) retweet,
reply and quote all 20 posts all along. The user opens the dashboard at **D3 H8 (2025-03-12 17:00 UTC)**,
``LOOK_AT`` below, and filters. There, "today" is 2025-03-12 00:00 → 17:00 UTC (from D2 H15) and "last 24
hours" 2025-03-11 17:00 → 2025-03-12 17:00 UTC (from D2 H8).

A handful of named accounts make every filter select a known set, with a near miss for each condition:

  account          importance  engagement                          when (UTC)          why it matters
  @pressmaxine     21          retweets influencer1                D2 H16 (03-12 01:00)  in the combined set (21 > 20)
  @gracevc         34          retweets influencer3                D3 H2  (03-12 11:00)  in the combined set
  @harborangel     27          retweets influencer7                D3 H5 M20 (14:20)     in the combined set
  @edgefounder     20          retweets influencer2                D3 H3  (12:00)        out: 20 is not > 20
  @gracevc         34          quote-tweets influencer5            D3 H4  (13:00)        out: a quote
  @harborangel     27          replies to influencer3              D3 H1  (10:00)        out: a reply
  @bigfund         45          retweets main2                      D3 H3 M10 (12:10)     out: a main post
  @harborangel     27          retweets influencer4                D2 H14 M50 (03-11 23:50) out: yesterday, but
                                                                                          within the last 24 h
  @bigfund         45          retweets influencer6                D2 H6  (03-11 15:00)  out: yesterday, and
                                                                                          before the last 24 h
  @gracevc         34          retweets main1                      D1 H1  (03-10 10:00)
  @sixteendev      16          replies to main1                    D3 H2 M30 (11:30)     in "> 15" (16)
  @pia_founder     15          retweets influencer9                D3 H4 M30 (13:30)     out of "> 15" (15),
                                                                                          but alerts (≥ 10)
  @tenner_inv      12          quote-tweets investor2              D2 H20 (03-12 05:00)
  @gracevc         34          retweets influencer8                D3 H8 M20 (17:20)     after LOOK_AT

What the user sees at LOOK_AT (seed 0; tests/simulator/test_scenarios_spec.py checks these against the truth,
and an engine run driven to LOOK_AT + 1 minute — the run at D3 H8 fetches the lists in that minute — shows
the same with the views resolved at ``now`` = LOOK_AT):

- "retweets on influencer tweets with importance > 20 from today" (influencer, retweet, min importance 21,
  today): exactly 3 — @pressmaxine on influencer1, @gracevc on influencer3, @harborangel on influencer7.
- "importance > 15" (min importance 16): 11 engagements by 6 accounts (@bigfund 2, @gracevc 3, @harborangel 3,
  @pressmaxine, @edgefounder, @sixteendev 1 each).
- all engagements: 327 (main 65, influencer 165, investor 97 — influencer posts drive the most);
  retweets only: 240; last 24 hours: 136; today: 99.
- @harborangel's account page: 3 posts (influencer4 retweet, influencer3 reply, influencer7 retweet);
  @gracevc's: main1, influencer3, influencer5 (and influencer8 after LOOK_AT).

Interpretations:

- "importance > 15" and "> 20" are strict: SOCAP's minimum-importance filter is inclusive, so they are
  min_importance 16 and 21; @edgefounder (20) and @pia_founder (15) sit on the boundaries to show it.
- "today" is the UTC calendar day of the moment the user looks (SOCAP's "today" range), "last 24 hours" the
  24 hours before it; both end at that moment. The spec names no viewing time: D3 H8 is this scenario's.
- "Campaign with 20 tweets running": 4 main, 10 influencer and 6 investor posts, 3 days; the spec gives no
  engagement volumes, so the ordinary traffic is this scenario's own (413 engagements by the end).
"""

from __future__ import annotations

from socap.simulator.builder import ScenarioBuilder
from socap.simulator.scenario import at, hours, minutes

NAME = "Filters and dashboard views (20 posts, 3 days)"
DESCRIPTION = """
"Kestrel Spring Release": 4 main, 10 influencer and 6 investor posts for 3 days, threshold 10. Viewed at D3 H8
(2025-03-12 17:00 UTC), "retweets on influencer tweets with importance > 20 from today" selects exactly 3
engagements (@pressmaxine, @gracevc, @harborangel); a near miss for every condition is there too.
"""

START = at("D1 H0")
END = at("D3 H24")
LOOK_AT = at("D3 H8")  # when the user looks: 2025-03-12 17:00 UTC
POSTS = {"main": 4, "influencer": 10, "investor": 6}


def build(b: ScenarioBuilder) -> None:
    b.campaign("Kestrel Spring Release", start="2025-03-10T09:00:00Z", days=3, threshold=10, spacing_minutes=20)

    # --- curated important accounts (the seed list) and people who never engage ----------------------
    b.seeds({"investor": 15, "vc": 12, "founder": 10, "media": 6, "developer": 7})  # 50 seeds of weight 1
    b.bystanders(150)

    # --- 20 posts -------------------------------------------------------------------------------------
    kestrel = b.account("kestrelapp", name="Kestrel", bio="Kestrel: feature flags without the mess.",
                        followers=38_000, verified_type="business")
    posts: dict[str, object] = {}
    for category, count in POSTS.items():
        for n in range(1, count + 1):
            label = f"{category}{n}"
            if category == "main":
                author, text = kestrel, f"Kestrel Spring Release, part {n}: what's new."
            elif category == "influencer":
                author = b.account(f"flagfan{n}", name=f"Flag Fan {n}", bio="I write about shipping safely.")
                text = f"Kestrel's spring release is out. My take, part {n}."
            else:
                author = b.account(f"kestrel_angel{n}", name=f"Kestrel Angel {n}", category="investor",
                                   bio="Angel investor in developer tools.")
                text = "Proud backer of Kestrel. Great release."
            i = len(posts)
            posts[label] = b.post(category, author=author, text=text, created=START - hours(4) + minutes(5 * i),
                                  likes={START: 30 + 10 * i, at("D2 H0"): 200 + 25 * i, END: 420 + 40 * i})

    # --- ordinary engagement on all 20 posts, all along ------------------------------------------------
    along = (START - minutes(150), END - minutes(30))
    for i, label in enumerate(posts):
        b.retweets(posts[label], 10 + 3 * (i % 4), between=along)
        b.replies(posts[label], 3 + i % 3, between=along)
        b.quotes(posts[label], 1 + i % 2, between=along)

    # --- the named accounts that make each filter's set known ------------------------------------------
    def person(username: str, name: str, category: str, importance: int, bio: str):
        return b.account(username, name=name, category=category, importance=importance, bio=bio,
                         verified_type="blue")

    maxine = person("pressmaxine", "Maxine Dubois", "media", 21, "Tech reporter at TheStack.")
    grace = person("gracevc", "Grace Wu", "vc", 34, "General Partner at Meridian Ventures.")
    harbor = person("harborangel", "Hal Berg", "investor", 27, "Angel investor in devtools and infra.")
    edge = person("edgefounder", "Eda Kim", "founder", 20, "Founder & CEO of Edgewise.")
    bigfund = person("bigfund", "Bo Lind", "vc", 45, "Managing Partner, Redwood VC.")
    sixteen = person("sixteendev", "Sid Rao", "developer", 16, "Software engineer at Datanest.")
    pia = person("pia_founder", "Pia Costa", "founder", 15, "Co-founder at Loopwork.")
    tenner = person("tenner_inv", "Ten Okafor", "investor", 12, "Seed investor in B2B SaaS.")

    # in the combined set: retweets of influencer posts, importance > 20, today
    b.retweet(posts["influencer1"], by=maxine, at=at("D2 H16"))
    b.retweet(posts["influencer3"], by=grace, at=at("D3 H2"))
    b.retweet(posts["influencer7"], by=harbor, at=at("D3 H5 M20"))
    # near misses, one condition each
    b.retweet(posts["influencer2"], by=edge, at=at("D3 H3"))  # importance 20
    b.quote(posts["influencer5"], by=grace, at=at("D3 H4"), text="The rollout UI is a big step up.")  # a quote
    b.reply(posts["influencer3"], by=harbor, at=at("D3 H1"), text="Agree, the audit log is the sleeper hit.")
    b.retweet(posts["main2"], by=bigfund, at=at("D3 H3 M10"))  # a main post
    b.retweet(posts["influencer4"], by=harbor, at=at("D2 H14 M50"))  # yesterday (in the last 24 hours)
    b.retweet(posts["influencer6"], by=bigfund, at=at("D2 H6"))  # yesterday, before the last 24 hours
    # the rest of the named accounts' engagement
    b.retweet(posts["main1"], by=grace, at=at("D1 H1"))
    b.reply(posts["main1"], by=sixteen, at=at("D3 H2 M30"), text="Migrated our flags in an afternoon.")
    b.retweet(posts["influencer9"], by=pia, at=at("D3 H4 M30"))
    b.quote(posts["investor2"], by=tenner, at=at("D2 H20"), text="Kestrel keeps shipping.")
    b.retweet(posts["influencer8"], by=grace, at=LOOK_AT + minutes(20))  # after the user looked
