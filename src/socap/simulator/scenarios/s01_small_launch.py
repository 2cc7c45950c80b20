"""Scenario 1 of the spec: a small product launch (3 posts, 3 days, threshold 10).

Where the spec's numbers do not add up, this file picks one reading and says so:

- At the start the spec lists 27 retweeters, 12 repliers and 3 quoters but says "Total 40 engagements";
  27 + 12 + 3 = 42, so the world has 42.
- At D1 H6 the spec says the influencer post "gained 150 likes, 30 retweets" but also that total retweets are
  35 and total quotes 4; 30 new retweets would make 59, so the totals win: 6 new influencer retweets by H6.
  Its "Total likes: 225" matches no reading (start 280, H6 474 here), so likes follow the per-post deltas.
- Final report: retweets 85, quotes 12, direct replies 23 = 120 engagements by 95 unique accounts
  (8 investors incl. the 3 VCs and @johnvc, 3 founders, 15 developers, 5 media, 64 others); 1,500 likes.
  Intermediate category pies (H6: 2 investors, 1 founder, 5 developers, 30 others; D2 H12: 5 investors,
  1 founder, 8 developers; 65 engagements) hold too.
- Two thread replies (a reply to a reply, same conversation) and two retweets of @techfounder's quote exist
  but are not engagements with the campaign posts and are not counted.
"""

from __future__ import annotations

from socap.simulator.builder import ScenarioBuilder
from socap.simulator.scenario import at, hours, minutes

NAME = "Small product launch (3 posts, 3 days)"
DESCRIPTION = """
"Product Launch Q1 2025": 1 main, 1 influencer and 1 investor post. @johnvc (importance 15) retweets the
main post at D1 H1-H2, @techfounder (22) quote-tweets the influencer post by H6, three VCs (18, 15, 12)
retweet the investor post just before D2 H12, a media account (8) replies. 120 engagements by the end.
"""

START = at("D1 H0")
END = at("D3 H24")


def build(b: ScenarioBuilder) -> None:
    b.campaign(
        "Product Launch Q1 2025", start="2025-01-06T09:00:00Z", days=3, threshold=10, spacing_minutes=20
    )

    # --- curated important accounts (the seed list) and people who never engage ----------------------
    b.seeds({"investor": 15, "vc": 12, "founder": 15, "media": 8, "developer": 10})  # 60 seeds
    b.bystanders(300)

    # --- the campaign's posts ------------------------------------------------------------------------
    acme = b.account(
        "acmehq",
        name="Acme",
        bio="Acme builds developer tools. Launch day!",
        followers=48_200,
        verified_type="business",
    )
    sarah = b.account(
        "sarahbuilds",
        name="Sarah Chen",
        bio="Tech creator. I review tools on YouTube.",
        followers=310_000,
        verified_type="blue",
    )
    amy = b.account(
        "amyangel",
        name="Amy Park",
        bio="Angel investor. Early backer of Acme.",
        category="investor",
        followers=22_000,
    )
    main = b.post(
        "main",
        author=acme,
        created=START - hours(3),
        text="Introducing Acme 2.0: ship developer workflows 10x faster. Available today.",
        likes={START: 50, at("D1 H2"): 75, at("D1 H6"): 90, at("D2 H12"): 210, END: 520},
    )
    influencer = b.post(
        "influencer",
        author=sarah,
        created=START - minutes(170),
        text="I've been testing Acme 2.0 for a month. Honest review in the thread.",
        likes={START: 200, at("D1 H6"): 350, at("D2 H12"): 560, END: 820},
    )
    investor = b.post(
        "investor",
        author=amy,
        created=START - minutes(160),
        text="Proud to back the Acme team. Today's launch is a big one.",
        likes={START: 30, at("D1 H6"): 34, at("D2 H12"): 95, END: 160},
    )

    # --- before the start: 42 engagements by 31 accounts (11 engage twice) ---------------------------
    early = b.accounts(7, "other") + b.accounts(1, "investor") + b.accounts(4, "developer") + b.accounts(19)
    before = (START - hours(2.5), START - minutes(5))
    b.retweets(influencer, by=early[0:20], between=before)
    b.replies(influencer, by=early[20:28], between=before)
    b.quotes(influencer, by=early[28:30], between=before)
    b.retweets(main, by=[early[30], *early[0:4]], between=before)
    main_replies = b.replies(main, by=early[4:7], between=before)
    b.quote(main, by=early[20], at=START - minutes(40))
    b.retweets(investor, by=early[7:9], between=before)
    b.reply(investor, by=early[9], at=START - minutes(25))

    # --- D1 H1-H2: @johnvc and one developer retweet the main post -----------------------------------
    johnvc = b.account(
        "johnvc",
        name="John Carter",
        category="investor",
        importance=15,
        verified_type="blue",
        bio="Angel investor in developer tools and infra. Backing founders at pre-seed.",
    )
    dev5 = b.accounts(1, "developer")[0]
    b.retweet(main, by=johnvc, at=at("D1 H1 M20"))
    b.retweet(main, by=dev5, at=at("D1 H1 M47"))

    # --- by D1 H6: @techfounder quotes the influencer post; main gets 5 replies; 6 influencer RTs ------
    techfounder = b.account(
        "techfounder",
        name="Dana Kim",
        category="founder",
        importance=22,
        bio="Founder & CEO of Stackline. Building the future of developer workflows.",
    )
    tf_quote = b.quote(
        influencer, by=techfounder, at=at("D1 H4 M10"), text="This product is game-changing for developers!"
    )
    newcomers = b.accounts(4)
    b.replies(
        main,
        by=[newcomers[0], newcomers[1], early[10], early[11], early[12]],
        between=(at("D1 H2"), at("D1 H5 M50")),
    )
    b.retweets(
        influencer,
        by=[newcomers[2], newcomers[3], early[21], early[22], early[23], dev5],
        between=(at("D1 H2"), at("D1 H5 M55")),
    )
    # Thread replies: same conversation, replying to a reply, so not counted in reply_count.
    thanks = b.reply(main_replies[0], by=acme, at=at("D1 H3"), text="Thanks! DM us for early access.")
    b.reply(thanks, by=early[4], at=at("D1 H3 M30"), text="Done, thank you!")
    b.retweets(tf_quote, 2, between=(at("D1 H4 M30"), at("D1 H5 M30")))  # retweets of the quote itself

    # --- D1 H6 .. D2 H12: 5 quiet engagements, then 3 VCs and a media account in one poll window -------
    devs = b.accounts(3, "developer")
    b.retweet(main, by=devs[0], at=at("D1 H9 M12"))
    b.retweet(influencer, by=devs[1], at=at("D1 H14 M3"))
    b.retweet(investor, by=devs[2], at=at("D1 H20 M41"))
    b.quote(influencer, by=b.accounts(1)[0], at=at("D2 H2 M15"))
    b.reply(influencer, by=early[0], at=at("D2 H6 M30"))
    for number, importance, fund, minute in (
        (1, 18, "Summit Capital", 38),
        (2, 15, "Lakeside VC", 45),
        (3, 12, "Foundry Lane Ventures", 52),
    ):
        vc = b.account(
            f"venturecapital{number}",
            name=f"Venture Capital {number}",
            category="vc",
            importance=importance,
            verified_type="blue",
            bio=f"General Partner at {fund}.",
        )
        b.retweet(investor, by=vc, at=at("D2 H11") + minutes(minute))
    media = b.account(
        "devwirenews",
        name="DevWire",
        category="media",
        importance=8,
        verified_type="business",
        bio="Tech reporter at DevWire covering startups and developer tools.",
    )
    b.reply(main, by=media, at=at("D2 H11 M41"), text="Covering this launch in tomorrow's newsletter.")

    # --- D2 H12 .. end: 55 engagements, 49 new accounts and 6 returning ------------------------------
    late = (
        b.accounts(3, "investor")
        + b.accounts(2, "founder")
        + b.accounts(7, "developer")
        + b.accounts(4, "media")
        + b.accounts(33)
    )
    b.rng.shuffle(late)
    rest = (at("D2 H12"), END - minutes(30))
    b.retweets(main, by=[*late[0:18], early[13], early[14]], between=rest)
    b.quotes(main, by=late[18:21], between=rest)
    b.replies(main, by=[late[21], early[17]], between=rest)
    b.retweets(influencer, by=late[22:38], between=rest)
    b.quotes(influencer, by=[late[38], late[39], early[24]], between=rest)
    b.replies(influencer, by=late[40:41], between=rest)
    b.retweets(investor, by=[*late[41:47], early[15], early[16]], between=rest)
    b.quotes(investor, by=late[47:48], between=rest)
    b.replies(investor, by=late[48:49], between=rest)
