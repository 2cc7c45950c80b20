"""Alert texts, exactly in the spec's form:

    Investor @johnvc (importance: 15) retweeted your main tweet
    Founder @techfounder (importance: 22) quote-tweeted your influencer tweet: "This product is game-changing…"
    Investor @topinvestor (importance: 50) replied to your influencer tweet: "…"
"""

from __future__ import annotations

import re

CATEGORY_WORD = {"vc": "VC", "investor": "Investor", "founder": "Founder", "media": "Media",
                 "developer": "Developer", "other": "Account"}
VERB = {"retweet": "retweeted", "quote": "quote-tweeted", "reply": "replied to"}
MAX_QUOTED = 200  # characters of the engaging post's text kept in the alert


TRAILING_LINK = re.compile(r"(?:\s*https?://t\.co/\S+)+\s*$")


def trim(text: str, limit: int = MAX_QUOTED) -> str:
    # X appends the quoted post's t.co link to a quote's text: it says nothing in an alert
    text = TRAILING_LINK.sub("", text)
    text = " ".join(text.split())  # newlines and runs of spaces would break one-line channels
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def alert_message(*, category: str, username: str, importance: int, action: str, post_category: str,
                  text: str = "") -> str:
    who = CATEGORY_WORD.get(category, category.capitalize())
    message = f"{who} @{username} (importance: {importance}) {VERB[action]} your {post_category} tweet"
    if action in ("quote", "reply") and text.strip():
        message += f': "{trim(text)}"'
    return message
