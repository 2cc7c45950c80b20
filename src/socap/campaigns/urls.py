"""Turn the post links users paste into X post ids (and back).

Accepted: bare numeric ids, and links to a single post on x.com / twitter.com (optionally www. or
mobile.), with or without a scheme, in the /USER/status/ID, /USER/statuses/ID, /i/web/status/ID and
/i/status/ID forms, plus the suffixes, query strings and fragments the X apps add when sharing.
Everything else is refused with an InvalidTweetURL that says what was wrong.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["MAX_TWEET_ID", "InvalidTweetURL", "parse_tweet_id", "parse_tweet_ids", "tweet_url"]

# X ids are signed 64-bit snowflakes, so nothing larger can be a real post.
MAX_TWEET_ID = 2**63 - 1
_MAX_ID_DIGITS = len(str(MAX_TWEET_ID))  # 19

_EXPECTED = "expected a link like https://x.com/USER/status/1234567890 or a numeric post id"
_SHOWN_CHARS = 80

# re.ASCII matters: without it IGNORECASE lets the Turkish "ı"/"İ" match "i" (so "mobıle.x.com"
# would pass as a host).  [0-9] is used instead of \d, which also matches non-ASCII digits.
_HOST = re.compile(r"(?:www\.|mobile\.)?(?:x|twitter)\.com", re.ASCII | re.IGNORECASE)
_HANDLE = re.compile(r"[A-Za-z0-9_]{1,15}", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://", re.ASCII)
_POST_PATH = re.compile(
    r"""
    /(?:i/web|(?P<user>[^/]+))/status(?:es)?/(?P<id>[0-9]+)
    (?:/(?:photo/[1-9]|video/[1-9]|analytics|quotes|retweets|likes))?
    /?
    """,
    re.ASCII | re.VERBOSE,
)
# Splits the create form's textarea ("one per line or comma-separated").
_SEPARATORS = re.compile(r"[\s,]+")


class InvalidTweetURL(ValueError):
    """Raised when text is neither a post link nor a post id; .text is the input, .reason why."""

    def __init__(self, text: str, reason: str):
        self.text = text
        self.reason = reason
        super().__init__(f"not a post URL: {_shown(text)}: {reason} ({_EXPECTED})")


def _shown(text: str) -> str:
    # Pasted blobs can be huge; the message only needs enough to recognise the input.
    if len(text) <= _SHOWN_CHARS:
        return repr(text)
    return f"{text[:_SHOWN_CHARS]!r}... ({len(text)} chars)"


def _check_id(digits: str, text: str) -> str:
    """Validate an ASCII digit string as a post id; return it without leading zeros."""
    # Check the length before int(): it bounds the work and avoids the int/str digit limit.
    if len(digits) > _MAX_ID_DIGITS:
        raise InvalidTweetURL(text, f"id has {len(digits)} digits; X post ids have at most {_MAX_ID_DIGITS}")
    value = int(digits)
    if value == 0:
        raise InvalidTweetURL(text, "0 is not a post id")
    if value > MAX_TWEET_ID:
        raise InvalidTweetURL(text, f"id {value} is larger than any X post id (max {MAX_TWEET_ID})")
    return str(value)


def _path_reason(path: str) -> str:
    """Explain why a path on an X host is not a post link."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return "it links to the X home page, not to a post"
    if parts[0].lower() == "search":
        return "it is a search link"
    if parts[0].lower() == "hashtag":
        return "it is a hashtag link"
    if len(parts) == 1 and _HANDLE.fullmatch(parts[0]):
        return "it is a profile link"
    return "it is not a link to a single post"


def parse_tweet_id(text: str) -> str:
    """Return the post id (decimal, no leading zeros) from a post link or bare id."""
    s = text.strip()
    if not s:
        raise InvalidTweetURL(text, "it is empty")
    # urlsplit silently drops tabs/newlines inside URLs, and zero-width characters make look-alikes,
    # so refuse anything invisible rather than guess what the user meant.
    if any(c.isspace() or not c.isprintable() for c in s):
        raise InvalidTweetURL(text, "it contains whitespace or invisible characters")
    if _DIGITS.fullmatch(s):
        return _check_id(s, text)

    scheme = _SCHEME.match(s)
    if scheme is None:
        s = "https://" + s  # "x.com/user/status/1" is how links look when copied from some apps
    elif scheme.group().lower() not in ("http://", "https://"):
        raise InvalidTweetURL(text, f"unsupported scheme {scheme.group()[:-3]!r}")
    try:
        parts = urlsplit(s)
    except ValueError as exc:  # e.g. unbalanced [ ] in the host
        raise InvalidTweetURL(text, f"it is not a valid URL ({exc})") from None

    # Compare the whole netloc, so userinfo (x.com@evil.com), ports and look-alikes all fail.
    if not parts.netloc:
        raise InvalidTweetURL(text, "it has no host")
    if not _HOST.fullmatch(parts.netloc):
        raise InvalidTweetURL(text, f"unknown host {parts.netloc!r}")

    match = _POST_PATH.fullmatch(parts.path)
    if match is None:
        raise InvalidTweetURL(text, _path_reason(parts.path))
    user = match.group("user")
    if user is not None and not _HANDLE.fullmatch(user):
        raise InvalidTweetURL(text, f"{user!r} is not a valid X handle")
    return _check_id(match.group("id"), text)


def parse_tweet_ids(text: str) -> list[str]:
    """Parse a blob of links/ids separated by newlines, commas or spaces, keeping order and repeats."""
    return [parse_tweet_id(piece) for piece in _SEPARATORS.split(text) if piece]


def tweet_url(tweet_id: str, username: str | None = None) -> str:
    """Canonical link to a post; /i/web/ works when the author's handle is unknown."""
    if not _DIGITS.fullmatch(tweet_id):
        raise InvalidTweetURL(tweet_id, "a post id must be a decimal number")
    tweet_id = _check_id(tweet_id, tweet_id)
    if username is None:
        return f"https://x.com/i/web/status/{tweet_id}"
    if not _HANDLE.fullmatch(username):
        raise ValueError(f"not a valid X handle: {username!r}")
    return f"https://x.com/{username}/status/{tweet_id}"
