import re
import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from socap.campaigns.urls import MAX_TWEET_ID, InvalidTweetURL, parse_tweet_id, parse_tweet_ids, tweet_url

ID = "1790123456789012345"

ACCEPTED = [
    # bare ids
    (ID, ID),
    ("20", "20"),
    ("1", "1"),
    ("0000020", "20"),
    (str(MAX_TWEET_ID), str(MAX_TWEET_ID)),
    ("  20\n", "20"),
    # hosts and schemes
    (f"https://x.com/jack/status/{ID}", ID),
    (f"http://x.com/jack/status/{ID}", ID),
    (f"https://twitter.com/jack/status/{ID}", ID),
    (f"https://www.x.com/jack/status/{ID}", ID),
    (f"https://www.twitter.com/jack/status/{ID}", ID),
    (f"https://mobile.twitter.com/jack/status/{ID}", ID),
    (f"https://mobile.x.com/jack/status/{ID}", ID),
    (f"HTTPS://X.COM/jack/status/{ID}", ID),
    (f"x.com/jack/status/{ID}", ID),
    (f"twitter.com/jack/status/{ID}", ID),
    (f"www.twitter.com/jack/status/{ID}", ID),
    # path forms
    (f"https://twitter.com/jack/statuses/{ID}", ID),
    (f"https://x.com/i/web/status/{ID}", ID),
    (f"https://x.com/i/status/{ID}", ID),
    ("https://twitter.com/jack/status/20", "20"),
    (f"https://x.com/Some_User_12345/status/{ID}", ID),
    (f"https://x.com/_/status/{ID}", ID),
    # suffixes, queries, fragments
    (f"https://x.com/jack/status/{ID}/", ID),
    (f"https://x.com/jack/status/{ID}/photo/1", ID),
    (f"https://x.com/jack/status/{ID}/photo/4", ID),
    (f"https://x.com/jack/status/{ID}/video/1", ID),
    (f"https://x.com/jack/status/{ID}/analytics", ID),
    (f"https://x.com/jack/status/{ID}/quotes", ID),
    (f"https://x.com/jack/status/{ID}/retweets", ID),
    (f"https://x.com/jack/status/{ID}/likes", ID),
    (f"https://x.com/jack/status/{ID}/photo/1/", ID),
    (f"https://twitter.com/jack/status/{ID}?s=20&t=AbCdEf-GhIjKlMnOp_QrSt", ID),
    (f"https://twitter.com/jack/status/{ID}?ref_src=twsrc%5Etfw", ID),
    (f"https://x.com/jack/status/{ID}#m", ID),
    (f"https://mobile.twitter.com/jack/status/{ID}/?s=21#m", ID),
    (f"x.com/jack/status/{ID}?s=46&next=https://example.com/", ID),
    (f"\t https://x.com/jack/status/{ID}  \n", ID),
]

REJECTED = [
    # (input, fragment of the reason)
    ("", "empty"),
    ("   \n\t", "empty"),
    ("https://x.com/jack", "profile link"),
    ("https://twitter.com/jack/", "profile link"),
    ("x.com/jack", "profile link"),
    ("https://x.com/", "home page"),
    ("https://x.com", "home page"),
    ("https://x.com/search?q=socap&src=typed_query", "search link"),
    ("https://x.com/hashtag/launch?src=hashtag_click", "hashtag link"),
    ("https://x.com/jack/with_replies", "not a link to a single post"),
    ("https://x.com/jack/status/", "not a link to a single post"),
    ("https://x.com/jack/status/abc", "not a link to a single post"),
    (f"https://x.com/jack/status/{ID}/photo/0", "not a link to a single post"),
    (f"https://x.com/jack/status/{ID}/retweets/with_comments", "not a link to a single post"),
    (f"https://x.com//jack/status/{ID}", "not a link to a single post"),
    (f"https://x.com/i/lists/{ID}", "not a link to a single post"),
    (f"https://x.com/jack/status/{ID}%2F", "not a link to a single post"),
    (f"https://evil.com/jack/status/{ID}", "unknown host 'evil.com'"),
    (f"https://x.com.evil.com/jack/status/{ID}", "unknown host 'x.com.evil.com'"),
    (f"https://notx.com/jack/status/{ID}", "unknown host 'notx.com'"),
    (f"https://twitter.co/jack/status/{ID}", "unknown host 'twitter.co'"),
    (f"https://eviltwitter.com/jack/status/{ID}", "unknown host"),
    (f"https://x.com@evil.com/jack/status/{ID}", "unknown host"),
    (f"https://evil.com@x.com/jack/status/{ID}", "unknown host"),
    (f"https://x.com:8080/jack/status/{ID}", "unknown host"),
    (f"https://x.com./jack/status/{ID}", "unknown host"),
    (f"https://api.x.com/jack/status/{ID}", "unknown host"),
    (f"https://xacom/jack/status/{ID}", "unknown host"),  # the dots in the host pattern are literal
    ("https://t.co/AbCdEfGh", "unknown host 't.co'"),
    (f"https://\u0445.com/jack/status/{ID}", "unknown host"),  # Cyrillic "x"
    (f"https://mob\u0131le.x.com/jack/status/{ID}", "unknown host"),  # dotless i case-folds to "i"
    (f"https://mob\u0130le.twitter.com/jack/status/{ID}", "unknown host"),
    (f"https://x.com/jac\u212a/status/{ID}", "is not a valid X handle"),  # Kelvin sign, not "K"
    (f"https://[x.com/jack/status/{ID}", "not a valid URL"),
    (f"https:///jack/status/{ID}", "no host"),
    (f"ftp://x.com/jack/status/{ID}", "unsupported scheme 'ftp'"),
    (f"javascript://x.com/jack/status/{ID}", "unsupported scheme"),
    ("12345678901234567890", "id has 20 digits; X post ids have at most 19"),
    (f"https://x.com/jack/status/{ID}0", "id has 20 digits"),
    (str(MAX_TWEET_ID + 1), "larger than any X post id"),
    ("9999999999999999999", "larger than any X post id"),
    ("0", "0 is not a post id"),
    ("https://x.com/jack/status/000", "0 is not a post id"),
    ("-20", "unknown host"),
    ("+20", "unknown host"),
    ("1_000", "unknown host"),
    ("\u0661\u0662\u0663", "unknown host"),  # Arabic-Indic digits
    ("\uff11\uff12\uff13", "unknown host"),  # fullwidth digits
    ("https://x.com/jack/status/\u0661\u0662\u0663", "not a link to a single post"),
    (f"https://x.com/a_very_long_handle_x/status/{ID}", "is not a valid X handle"),
    (f"https://x.com/jo-hn/status/{ID}", "'jo-hn' is not a valid X handle"),
    (f"https://x.com/j\u00f6rg/status/{ID}", "is not a valid X handle"),
    (f"https://x.com/ja\tck/status/{ID}", "whitespace"),
    (f"https://x.com/jack/status/{ID} https://x.com/jack/status/20", "whitespace"),
    ("https://x.com/jack/status/1\u200b23", "invisible"),
    ("20\x00", "invisible"),
    ("not a url", "whitespace"),
    ("@jack", "unknown host"),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepts(text, expected):
    assert parse_tweet_id(text) == expected


@pytest.mark.parametrize(("text", "reason"), REJECTED)
def test_rejects(text, reason):
    with pytest.raises(InvalidTweetURL) as info:
        parse_tweet_id(text)
    err = info.value
    assert err.text == text
    assert reason in err.reason
    assert reason in str(err)
    assert repr(text) in str(err)
    assert "expected a link like https://x.com/USER/status/1234567890 or a numeric post id" in str(err)


def test_error_is_a_value_error_and_message_format():
    with pytest.raises(ValueError) as info:
        parse_tweet_id("https://x.com/jack")
    assert str(info.value) == (
        "not a post URL: 'https://x.com/jack': it is a profile link "
        "(expected a link like https://x.com/USER/status/1234567890 or a numeric post id)"
    )


def test_long_input_is_truncated_in_message():
    text = "https://example.com/" + "a" * 5000
    with pytest.raises(InvalidTweetURL) as info:
        parse_tweet_id(text)
    message = str(info.value)
    assert repr(text[:80]) in message
    assert "5020 chars" in message
    assert len(message) < 400
    assert info.value.text == text  # the attribute keeps the full input


def test_huge_digit_string_is_refused_cleanly():
    # int() would refuse strings over 4300 digits with a plain ValueError; we never get that far.
    with pytest.raises(InvalidTweetURL, match="id has 5000 digits"):
        parse_tweet_id("9" * 5000)


# --- tweet_url ---------------------------------------------------------------------------------


def test_tweet_url():
    assert tweet_url(ID) == f"https://x.com/i/web/status/{ID}"
    assert tweet_url(ID, "jack") == f"https://x.com/jack/status/{ID}"
    assert tweet_url("007", "jack") == "https://x.com/jack/status/7"


@pytest.mark.parametrize("bad_id", ["", "0", "abc", "1.5", " 20", str(MAX_TWEET_ID + 1), "\u0661"])
def test_tweet_url_rejects_bad_ids(bad_id):
    with pytest.raises(InvalidTweetURL):
        tweet_url(bad_id)


@pytest.mark.parametrize("bad_user", ["", "jo-hn", "@jack", "a" * 16, "j\u00f6rg", "evil.com/x"])
def test_tweet_url_rejects_bad_usernames(bad_user):
    with pytest.raises(ValueError, match="not a valid X handle"):
        tweet_url(ID, bad_user)


# --- parse_tweet_ids ---------------------------------------------------------------------------


def test_parse_tweet_ids_mixed_separators_keeps_order_and_duplicates():
    blob = (
        f"https://x.com/jack/status/{ID}\n"
        "20, twitter.com/jack/status/21?s=20\r\n"
        "\n"
        ",,  x.com/i/web/status/22#m,20\n"
        "  https://mobile.twitter.com/a/statuses/23/photo/1  "
    )
    assert parse_tweet_ids(blob) == [ID, "20", "21", "22", "20", "23"]


@pytest.mark.parametrize("blob", ["", "   ", "\n\n", ",,,", " , \n ,"])
def test_parse_tweet_ids_empty_blob(blob):
    assert parse_tweet_ids(blob) == []


def test_parse_tweet_ids_error_names_first_bad_piece():
    blob = "20\nhttps://x.com/jack,\nhttps://evil.com/a/status/1\n21"
    with pytest.raises(InvalidTweetURL) as info:
        parse_tweet_ids(blob)
    assert info.value.text == "https://x.com/jack"
    assert "'https://x.com/jack'" in str(info.value)
    assert "profile link" in str(info.value)
    assert "evil.com" not in str(info.value)


# --- properties --------------------------------------------------------------------------------

ids = st.integers(min_value=1, max_value=MAX_TWEET_ID)
handles = st.from_regex(re.compile(r"[A-Za-z0-9_]{1,15}", re.ASCII), fullmatch=True)
HOSTS = ["x.com", "twitter.com", "www.x.com", "www.twitter.com", "mobile.x.com", "mobile.twitter.com"]
# Host names are case-insensitive, so upper-cased hosts must parse too.
hosts = st.sampled_from(HOSTS) | st.sampled_from(HOSTS).map(str.upper)
schemes = st.sampled_from(["", "http://", "https://", "HTTPS://"])
suffixes = st.sampled_from(
    ["", "/", "/photo/1", "/photo/4/", "/video/1", "/analytics", "/quotes", "/retweets", "/likes", "/likes/"]
)
url_chars = string.ascii_letters + string.digits + "-._~%!$&'()*+,;=:@/?"
queries = st.one_of(st.just(""), st.text(alphabet=url_chars, max_size=30).map(lambda q: "?" + q))
fragments = st.one_of(st.just(""), st.text(alphabet=url_chars + "#", max_size=10).map(lambda f: "#" + f))
padding = st.text(alphabet=" \t\r\n", max_size=3)


@st.composite
def post_paths(draw, tweet_id):
    form = draw(st.sampled_from(["status", "statuses", "i/web", "i/status"]))
    if form == "i/web":
        return f"/i/web/status/{tweet_id}"
    if form == "i/status":
        return f"/i/status/{tweet_id}"
    return f"/{draw(handles)}/{form}/{tweet_id}"


@given(data=st.data(), tweet_id=ids, zeros=st.integers(0, 18))
def test_property_any_valid_link_parses(data, tweet_id, zeros):
    digits = str(tweet_id)
    digits = "0" * min(zeros, 19 - len(digits)) + digits  # leading zeros, still at most 19 digits
    text = "".join(
        [
            data.draw(padding),
            data.draw(schemes),
            data.draw(hosts),
            data.draw(post_paths(digits)),
            data.draw(suffixes),
            data.draw(queries),
            data.draw(fragments),
            data.draw(padding),
        ]
    )
    assert parse_tweet_id(text) == str(tweet_id)


@given(tweet_id=ids, username=st.one_of(st.none(), handles))
def test_property_round_trip(tweet_id, username):
    url = tweet_url(str(tweet_id), username)
    assert parse_tweet_id(url) == str(tweet_id)
    assert parse_tweet_id(str(tweet_id)) == str(tweet_id)


def _check_never_crashes(text):
    try:
        result = parse_tweet_id(text)
    except InvalidTweetURL as err:
        assert err.text == text
        return
    # Anything accepted is a canonical, in-range id that literally appears in the input.
    assert re.fullmatch(r"[1-9][0-9]{0,18}", result)
    assert int(result) <= MAX_TWEET_ID
    assert result in text


# Fragments of real URLs, so random text lands near the accepted forms far more often than st.text().
URL_PIECES = (
    "https:// http:// ftp:// x.com twitter.com www. mobile. .evil.com @ : / // status statuses i web jack"
    " photo 1 0 20 99999999999 ?s=20 #m %2F [ ] -"
).split() + [" ", "\n", ",", "\u0661", "\u200b"]
url_pieces = st.lists(st.sampled_from(URL_PIECES), max_size=12).map("".join)


@given(st.one_of(st.text(), url_pieces))
@example("https://[x.com/jack/status/1")
@example("http://x.com:99999/jack/status/1")
@example("9" * 5000)
def test_property_only_invalid_tweet_url_is_raised(text):
    _check_never_crashes(text)


@given(st.one_of(st.text(), url_pieces, st.text(min_size=81, max_size=300)))
def test_property_error_message_contains_input(text):
    try:
        parse_tweet_id(text)
    except InvalidTweetURL as err:
        assert repr(text[:80]) in str(err)
        assert "expected a link like" in str(err)


@given(st.lists(ids, max_size=8), st.lists(st.sampled_from(["\n", ",", " ", "\r\n", ", ", "\t"]), min_size=9))
def test_property_parse_tweet_ids(id_list, seps):
    blob = seps[0] + "".join(tweet_url(str(i)) + sep for i, sep in zip(id_list, seps[1:], strict=False))
    assert parse_tweet_ids(blob) == [str(i) for i in id_list]
