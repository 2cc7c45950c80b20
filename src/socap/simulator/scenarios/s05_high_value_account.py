"""Scenario 5 of the spec: a high-value account engages with all three posts, one post per run.

Runs are 30 minutes apart (the default poll interval), so with the campaign starting at D1 H0:

- run 1 (D1 H0): @topinvestor (an investor, importance exactly 50) retweeted the main post 20 minutes earlier;
- run 2 (D1 H0 M30): @topinvestor replied to the influencer post at M15;
- run 3 (D1 H1): @topinvestor quote-tweeted the investor post at M45.

The spec sets no window; one day is enough. Around those three engagements, ordinary accounts (importance
always below the threshold of 10) retweet, reply and quote all day, so @topinvestor is the only alert.

Importance 50 comes from the seed list: 58 seeds of weight 1 and two heavier funds (weight 5) make a total
weight of 68, and the builder picks seeds whose weights add up to exactly 50.
"""

from __future__ import annotations

from socap.simulator.builder import ScenarioBuilder
from socap.simulator.scenario import at, hours, minutes

NAME = "High-value account engages multiple posts (3 posts, 1 day)"
DESCRIPTION = """
"Series A Announcement": 1 main, 1 influencer and 1 investor post, threshold 10. @topinvestor (importance 50)
retweets the main post before run 1, replies to the influencer post before run 2 and quote-tweets the
investor post before run 3, 30 minutes apart. Ordinary engagement around it all day.
"""

START = at("D1 H0")
END = at("D1 H24")


def build(b: ScenarioBuilder) -> None:
    b.campaign("Series A Announcement", start="2025-02-03T15:00:00Z", days=1, threshold=10, spacing_minutes=20)

    # --- curated important accounts (the seed list) and people who never engage ----------------------
    b.seeds({"investor": 18, "vc": 12, "founder": 12, "media": 6, "developer": 10})  # 58 seeds of weight 1
    for username, fund in (("northwindvc", "Northwind Ventures"), ("harborlinecap", "Harborline Capital")):
        fund_account = b.account(username, name=fund, category="vc", bio=f"Partner at {fund}.",
                                 followers=250_000, verified_type="business")
        b.seed(fund_account, "vc", weight=5)
    b.bystanders(120)

    # --- the campaign's posts ------------------------------------------------------------------------
    brightly = b.account(
        "brightlyhq",
        name="Brightly",
        bio="Brightly makes onboarding for developer platforms painless.",
        followers=31_000,
        verified_type="business",
    )
    leo = b.account(
        "leoreviews",
        name="Leo Martins",
        bio="I try every new tool so you don't have to. Weekly video reviews.",
        followers=190_000,
        verified_type="blue",
    )
    rita = b.account(
        "ritaangel",
        name="Rita Okafor",
        bio="Angel investor. Backed Brightly at pre-seed.",
        category="investor",
        followers=18_000,
    )
    main = b.post(
        "main",
        author=brightly,
        created=START - hours(2),
        text="We raised a $12M Series A to make developer onboarding painless. Here's what's next.",
        likes={START: 80, at("D1 H6"): 240, END: 610},
    )
    influencer = b.post(
        "influencer",
        author=leo,
        created=START - minutes(100),
        text="Brightly just raised. I've used it for 3 months: here's my honest take.",
        likes={START: 40, at("D1 H6"): 150, END: 330},
    )
    investor = b.post(
        "investor",
        author=rita,
        created=START - minutes(90),
        text="So proud of the Brightly team. Series A day!",
        likes={START: 12, at("D1 H6"): 45, END: 90},
    )

    # --- the high-value account: one engagement per run, a different post each time ------------------
    top = b.account(
        "topinvestor",
        name="Morgan Hale",
        category="investor",
        importance=50,
        verified_type="blue",
        followers=420_000,
        bio="Investor in developer tools and infra, seed to Series B. Ex-engineer.",
    )
    b.retweet(main, by=top, at=START - minutes(20))  # seen by run 1
    b.reply(influencer, by=top, at=START + minutes(15), text="Agree with all of this. Onboarding is the moat.")  # run 2
    b.quote(investor, by=top, at=START + minutes(45), text="Great team, great round. Watch this space.")  # run 3

    # --- ordinary engagement around it ----------------------------------------------------------------
    before = (START - minutes(85), START - minutes(5))
    b.retweets(main, 10, between=before)
    b.replies(main, 3, between=before)
    b.retweets(influencer, 6, between=before)
    b.quotes(influencer, 1, between=before)
    b.retweets(investor, 2, between=before)

    first_hour = (START + minutes(5), START + minutes(55))
    b.retweets(main, 4, category="developer", between=first_hour)
    b.replies(influencer, 2, between=first_hour)
    b.retweets(investor, by=b.accounts(1, "founder"), between=first_hour)

    rest = (at("D1 H1 M10"), END - minutes(30))
    b.retweets(main, 12, between=rest)
    b.quotes(main, 2, category="media", between=rest)
    b.replies(main, 4, between=rest)
    b.retweets(influencer, 9, category="developer", between=rest)
    b.replies(influencer, 3, between=rest)
    b.retweets(investor, 5, category="investor", between=rest)
    b.replies(investor, 2, between=rest)
