"""Scenario 4 of the spec: a low-engagement campaign (4 posts, 3 days, threshold 5).

"Niche Product Launch": Loomwork, a pattern editor for knitwear designers, posts once (main); two small
craft creators post about it (influencer) and its one angel investor does too (investor). The campaign runs
for 3 days from Monday 2025-04-07 14:00 UTC; SOCAP polls every 30 minutes, so 145 runs (the final one at the
window's end included).

Who engages, and when the user sees it (a run at T sees everything that happened up to T):

- run 1 (D1 H0, the backfill): 3 engagements from before the start: two retweets of the main post and a
  reply to the first influencer post.
- run at D1 H3: 4 new (a reply to the main post, two retweets of influencer post 1, one of influencer post 2).
- run at D1 H7: 2 new, one of them by **@knitcapital** (a VC, importance 9), who retweets the investor post
  at D1 H6 M40: alert 1, "VC @knitcapital (importance: 9) retweeted your investor tweet", sent at D1 H7.
- run at D2 H4: 3 new (main retweet, a reply to influencer post 2, an investor-post retweet).
- run at D2 H20 M30: 3 new, one of them by **@craftwire** (media, importance 6), who quote-tweets influencer
  post 2 at D2 H20 M10: alert 2, "Media @craftwire (importance: 6) quote-tweeted your influencer tweet: …".
- every other run (140 of 145) finds nothing new, and costs SOCAP one metrics call: the retweet, reply and
  quote counters did not move, so no list is fetched.

Totals: 15 engagements by 15 accounts (9 retweets, 3 replies, 3 quotes); 2 high-importance accounts, 2 alerts.
Likes over the four posts: 50 at the start, 75 at D2 H12 (the middle of the window), 100 at the end.
Everyone else who engages has an importance of 0-3, below the threshold of 5.

Interpretations:

- "2-5 per 30-minute run" and "most runs have 0" are both kept: the five runs that find anything find 2-4
  engagements each, the other 140 runs find none.
- "Only 1-2 high-importance accounts" and "1-2 alerts": two (importance 9 and 6, threshold 5), one alert each.
- "Engagement list: 15 total engagers" is 15 engagements by 15 different accounts (each engages once).
- "Metrics: 50 likes → 75 likes → 100 likes" is the campaign's total likes (the four posts summed) at the
  start, halfway (D2 H12) and at the end; likes grow linearly in between.
"""

from __future__ import annotations

from socap.simulator.builder import ScenarioBuilder
from socap.simulator.scenario import at, hours, minutes

NAME = "Low engagement (4 posts, 3 days)"
DESCRIPTION = """
"Niche Product Launch": 1 main, 2 influencer and 1 investor post, threshold 5. Only 15 engagements in 3 days,
in 5 of the 145 runs; @knitcapital (VC, importance 9) retweets the investor post at D1 H6 M40 and @craftwire
(media, 6) quote-tweets an influencer post at D2 H20 M10: two alerts. Likes 50 → 75 → 100.
"""

START = at("D1 H0")
MIDDLE = at("D2 H12")
END = at("D3 H24")


def build(b: ScenarioBuilder) -> None:
    b.campaign("Niche Product Launch", start="2025-04-07T14:00:00Z", days=3, threshold=5, spacing_minutes=20)

    # --- curated important accounts; ordinary accounts score 0-3 (the threshold is 5) -------------------
    b.seeds({"investor": 6, "vc": 4, "founder": 6, "media": 4, "developer": 5})  # 25 seeds of weight 1
    b.filler_importance = {0: 60, 1: 25, 2: 10, 3: 5}
    b.bystanders(80)

    # --- the campaign's posts: likes 50 at the start, 75 halfway, 100 at the end (summed) ---------------
    loom = b.account("loomworkhq", name="Loomwork", bio="Pattern editor for knitwear designers.",
                     followers=3_400, verified_type="business")
    ivy = b.account("ivyknits", name="Ivy Holt", bio="Knitwear designer. Patterns and tutorials.",
                    followers=12_500)
    bram = b.account("bramstitches", name="Bram de Vries", bio="Colourwork nerd, weekly yarn videos.",
                     followers=8_100)
    nadia = b.account("nadia_angel", name="Nadia Brooks", category="investor", followers=4_200,
                      bio="Angel investor in craft and maker tools.")
    main = b.post("main", author=loom, created=START - hours(5),
                  text="Loomwork 1.0 is out: design, chart and grade knitting patterns in one place.",
                  likes={START: 20, MIDDLE: 30, END: 40})
    ivy_post = b.post("influencer", author=ivy, created=START - hours(4),
                      text="I charted my new cardigan in Loomwork. Grading 9 sizes took minutes.",
                      likes={START: 15, MIDDLE: 22, END: 30})
    bram_post = b.post("influencer", author=bram, created=START - hours(3),
                       text="Colourwork charts that don't fight you: trying Loomwork today.",
                       likes={START: 10, MIDDLE: 15, END: 20})
    investor = b.post("investor", author=nadia, created=START - hours(4),
                      text="Happy to back Loomwork. Small market, very happy users.",
                      likes={START: 5, MIDDLE: 8, END: 10})

    # --- run 1 (backfill): 3 engagements from before the start ----------------------------------------
    b.retweets(main, 2, between=(START - hours(4), START - hours(1)))
    b.replies(ivy_post, 1, between=(START - hours(3), START - minutes(30)))

    # --- run at D1 H3: 4 new ------------------------------------------------------------------------
    window = (at("D1 H2 M30"), at("D1 H3"))
    b.replies(main, 1, category="developer", between=window)
    b.retweets(ivy_post, 2, between=window)
    b.retweets(bram_post, 1, between=window)

    # --- run at D1 H7: 2 new, one of them the first alert ---------------------------------------------
    knitcapital = b.account("knitcapital", name="Knit Capital", category="vc", importance=9,
                            bio="General Partner at Knit Capital. Backing tools for makers.")
    b.retweet(investor, by=knitcapital, at=at("D1 H6 M40"))
    b.quote(ivy_post, by=b.accounts(1)[0], at=at("D1 H6 M50"), text="Ivy's patterns are the best.")

    # --- run at D2 H4: 3 new ------------------------------------------------------------------------
    window = (at("D2 H3 M30"), at("D2 H4"))
    b.retweets(main, 1, between=window)
    b.replies(bram_post, 1, between=window)
    b.retweets(investor, 1, category="founder", between=window)

    # --- run at D2 H20 M30: 3 new, one of them the second alert ---------------------------------------
    craftwire = b.account("craftwire", name="CraftWire", category="media", importance=6,
                          verified_type="business", bio="Editor at CraftWire, covering makers and small brands.")
    b.quote(bram_post, by=craftwire, at=at("D2 H20 M10"), text="A pattern tool built by knitters, for knitters.")
    b.quote(main, by=b.accounts(1)[0], at=at("D2 H20 M15"))
    b.retweet(ivy_post, by=b.accounts(1)[0], at=at("D2 H20 M25"))
