import pytest

from socap.alerts.text import alert_message


@pytest.mark.parametrize("kwargs,expected", [
    (dict(category="investor", username="johnvc", importance=15, action="retweet", post_category="main"),
     "Investor @johnvc (importance: 15) retweeted your main tweet"),
    (dict(category="founder", username="techfounder", importance=22, action="quote", post_category="influencer",
          text="This product is game-changing for developers! https://t.co/AbC123"),
     'Founder @techfounder (importance: 22) quote-tweeted your influencer tweet: '
     '"This product is game-changing for developers!"'),
    (dict(category="investor", username="topinvestor", importance=50, action="reply", post_category="investor",
          text="Congrats\nteam!"),
     'Investor @topinvestor (importance: 50) replied to your investor tweet: "Congrats team!"'),
    (dict(category="vc", username="venturecapital1", importance=18, action="retweet", post_category="investor"),
     "VC @venturecapital1 (importance: 18) retweeted your investor tweet"),
    (dict(category="media", username="m", importance=9, action="retweet", post_category="main"),
     "Media @m (importance: 9) retweeted your main tweet"),
    (dict(category="developer", username="d", importance=11, action="quote", post_category="main", text=""),
     "Developer @d (importance: 11) quote-tweeted your main tweet"),
])
def test_spec_form(kwargs, expected):
    assert alert_message(**kwargs) == expected


def test_long_texts_are_trimmed_with_an_ellipsis():
    text = "word " * 100
    message = alert_message(category="other", username="x", importance=10, action="reply", post_category="main",
                            text=text)
    quoted = message.split(': "', 1)[1].rstrip('"')
    assert len(quoted) <= 200 and quoted.endswith("…")
    assert message.startswith("Account @x (importance: 10) replied to your main tweet")
