"""Small purpose-built worlds for simulator tests (the same DSL scenario files use)."""

from __future__ import annotations

from socap.simulator import Scenario, World, days, hours, minutes
from socap.simulator.builder import ScenarioBuilder

START = "2025-03-03T12:00:00Z"


def _big(b: ScenarioBuilder) -> None:
    """One post with 250 visible retweeters before the start, 5 hidden ones, and 30 more at H1-H2."""
    b.campaign("Big", start=START, days=3, threshold=10)
    b.seeds({"investor": 3, "developer": 2})
    author = b.account("bigbrand", name="Big Brand", bio="We make things.")
    post = b.post("main", author=author, text="Big launch today", created=-hours(6), likes={hours(0): 900})
    b.retweets(post, 250, between=(-hours(5), -minutes(1)))
    b.retweets(post, 3, between=(-hours(5), -minutes(1)), hidden=3)  # hidden by flag
    protected = b.accounts(2, state="protected")  # their retweets are counted but never listed
    b.retweets(post, by=protected, between=(-hours(4), -hours(3)))
    b.retweets(post, 30, between=(hours(1), hours(2)))
    quoter = b.accounts(12, "developer")
    quotes = b.quotes(post, by=quoter, between=(-hours(5), -hours(1)))
    b.retweets(quotes[0], 4, between=(-minutes(50), -minutes(10)))  # retweets of a quote
    b.replies(post, 15, between=(-hours(5), hours(3)))
    b.replies(post, by=b.accounts(1, state="protected"), between=(hours(1), hours(2)), hidden=0)


def _edge(b: ScenarioBuilder) -> None:
    """Old conversation (search window), a deleted and a protected post, a suspended user."""
    b.campaign("Edge", start=START, days=14, threshold=5)
    b.seeds({"media": 2})
    author = b.account("edgeco", name="Edge Co", bio="Edge cases are us.")
    old = b.post("main", author=author, text="An old post", created=-days(10), likes={hours(0): 5})
    for offset in (-days(9), -days(8), -days(6), -days(1)):
        b.reply(old, by=b.accounts(1)[0], at=offset)
    b.post(
        "influencer",
        author=author,
        text="Soon deleted",
        created=-hours(2),
        likes={hours(0): 3},
        deleted=hours(1),
    )
    b.post(
        "investor",
        author=author,
        text="Soon protected",
        created=-hours(2),
        likes={hours(0): 3},
        protected=hours(1),
    )
    b.account("gonebad", name="Gone", bio="", state="suspended")
    b.account("quietone", name="Quiet", bio="", state="protected")


BIG = Scenario.from_function("t_big", _big, name="250 retweeters")
EDGE = Scenario.from_function("t_edge", _edge, name="edge cases")


def big_world() -> World:
    return BIG.build_world()


def edge_world() -> World:
    return EDGE.build_world()
