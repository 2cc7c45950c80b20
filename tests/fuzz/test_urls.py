"""The post-URL parser (socap.campaigns.urls) fuzzed: arbitrary text, near-valid links (a valid link with a
few characters inserted, deleted or replaced), unicode and punycode hosts, huge ids, query strings, every
host form. The only exception ever raised is InvalidTweetURL; whatever is accepted is a canonical id found in
the input; valid links round-trip. (tests/campaigns/test_urls.py holds the table of accepted and refused forms
and the first properties; these push further.)"""

from __future__ import annotations

import re
import string
from urllib.parse import quote

from hypothesis import example, given, settings
from hypothesis import strategies as st

from socap.campaigns.urls import MAX_TWEET_ID, InvalidTweetURL, parse_tweet_id, parse_tweet_ids, tweet_url

from .conftest import FUZZ

CANONICAL = re.compile(r"[1-9][0-9]{0,18}")
HOSTS = ["x.com", "twitter.com", "www.x.com", "www.twitter.com", "mobile.x.com", "mobile.twitter.com"]
# look-alikes and encodings of the accepted hosts: every one must be refused
FOREIGN_HOSTS = ["ｘ.com", "х.com", "twitter.com.", "xn--x-5fa.com", "x.com:443", "x.com@evil.com", "evil.com#x.com",
                 "x%2Ecom", "mobile.x.com.evil.com", "m.twitter.com", "twitter.co", "tw\u00ectter.com",
                 "X.COM\u200b", "[::1]", "127.0.0.1", "xn--twitter-.com", "twitter\uff0ecom", "api.x.com"]

ids = st.one_of(st.integers(1, MAX_TWEET_ID), st.sampled_from([1, 20, MAX_TWEET_ID, MAX_TWEET_ID - 1, 2**62]))
handles = st.from_regex(re.compile(r"[A-Za-z0-9_]{1,15}", re.ASCII), fullmatch=True)
# what share links carry: visible ASCII, anything else percent-encoded (the parser refuses raw invisible text)
QUERY_CHARS = string.ascii_letters + string.digits + "-._~%!$&'()*+,;=:@/?"
queries = st.one_of(st.just(""), st.text(alphabet=QUERY_CHARS, max_size=40).map(lambda q: "?" + q),
                    st.text(max_size=20).map(lambda q: "?q=" + quote(q, safe="")))
any_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=80)  # surrogates, NUL, all


@st.composite
def valid_links(draw) -> tuple[str, int]:
    tweet_id = draw(ids)
    host = draw(st.sampled_from(HOSTS))
    host = host.upper() if draw(st.booleans()) else host
    path = draw(st.sampled_from([f"/{draw(handles)}/status/{tweet_id}", f"/{draw(handles)}/statuses/{tweet_id}",
                                 f"/i/web/status/{tweet_id}", f"/i/status/{tweet_id}"]))
    scheme = draw(st.sampled_from(["https://", "http://", "", "HTTPS://"]))
    suffix = draw(st.sampled_from(["", "/", "/photo/1", "/video/2", "/analytics", "/likes"]))
    return f"{scheme}{host}{path}{suffix}{draw(queries)}", tweet_id


EDIT_CHARS = list("/:@.?#%&=_-09 \t\n\x00") + ["\u200b", "\u202e", "\u0445", "\uff0f", "\u0661", "\ud800", "é", "ı"]


@st.composite
def near_valid(draw) -> str:
    """A valid link with one to three characters inserted, deleted or replaced."""
    text, _ = draw(valid_links())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        char = draw(st.sampled_from(EDIT_CHARS) | st.characters(codec=None))
        if op == "insert":
            text = text[:at] + char + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + char + text[at + 1:]
    return text


@st.composite
def foreign_host_links(draw) -> str:
    return f"https://{draw(st.sampled_from(FOREIGN_HOSTS))}/{draw(handles)}/status/{draw(ids)}"


huge_ids = st.one_of(st.integers(MAX_TWEET_ID + 1, 10**40).map(str), st.integers(0, 10**40).map(
    lambda n: "0" * (n % 25) + str(n)), st.just("9" * 5000))


def check(text: str) -> str | None:
    try:
        result = parse_tweet_id(text)
    except InvalidTweetURL as err:
        assert err.text == text and err.reason and "expected a link like" in str(err)
        assert len(str(err)) < 600  # a huge paste is not echoed back whole
        return None
    assert CANONICAL.fullmatch(result) and int(result) <= MAX_TWEET_ID
    assert result in text
    # what was accepted is a real link or id: its canonical link parses back to the same id
    assert parse_tweet_id(tweet_url(result)) == result
    return result


@settings(FUZZ, max_examples=400)
@given(st.one_of(any_text, near_valid(), huge_ids, foreign_host_links()))
@example("https://x.com/jack/status/1\x00")
@example("https://x.com/jack/status/\ud800")
@example("x.com/jack/status/" + "9" * 19)
def test_only_invalid_tweet_url_is_ever_raised(examples, text):
    examples()
    check(text)


@settings(FUZZ, max_examples=200)
@given(valid_links(), st.text(alphabet=" \t\r\n", max_size=3))
def test_valid_links_parse_and_round_trip(examples, link, padding):
    examples()
    text, tweet_id = link
    assert parse_tweet_id(padding + text + padding) == str(tweet_id)
    assert parse_tweet_id(tweet_url(str(tweet_id))) == str(tweet_id)


@settings(FUZZ, max_examples=100)
@given(foreign_host_links())
def test_look_alike_and_foreign_hosts_are_refused(examples, text):
    examples()
    assert check(text) is None


@settings(FUZZ, max_examples=100)
@given(huge_ids)
def test_ids_beyond_a_snowflake_are_refused(examples, digits):
    examples()
    if len(digits) <= 19 and 0 < int(digits) <= MAX_TWEET_ID:  # 19 digits at most, leading zeros included
        assert parse_tweet_id(digits) == str(int(digits))
    else:
        assert check(digits) is None


@settings(FUZZ, max_examples=150)
@given(st.lists(st.one_of(valid_links().map(lambda link: link[0]), near_valid(), any_text), max_size=6),
       st.lists(st.sampled_from(["\n", ",", " ", "\r\n", ", "]), min_size=6, max_size=6))
def test_a_pasted_blob_parses_whole_or_names_its_first_bad_piece(examples, pieces, separators):
    examples()
    blob = "".join(p + s for p, s in zip(pieces, separators, strict=False))
    try:
        result = parse_tweet_ids(blob)
    except InvalidTweetURL as err:
        assert err.text and err.text in blob
        return
    assert all(CANONICAL.fullmatch(r) for r in result)
