"""Masking secrets in notification URLs before they are shown anywhere (CLI, UI, logs, errors).

Apprise URLs carry secrets in the user-info part (``mailto://user:PASSWORD@host``), in path segments
(``slack://TokenA/TokenB/TokenC``, ``tgram://BOT_TOKEN/CHAT``, ``discord://WEBHOOK_ID/TOKEN``) and in query
values (``?token=…``). We keep what identifies the channel (scheme, host, first characters) and hide the rest.

Apprise and urllib3 log the URLs they call at DEBUG level ("JSON POST URL: https://host/TOKEN"); while a
message is being sent (:func:`redacting`), the secret parts of its URL are replaced in their log records.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote, unquote

MASK = "****"
# schemes whose "host" part is itself a token or an account id
TOKEN_HOST_SCHEMES = {"slack", "tgram", "discord", "pover", "pbul", "msteams"}


def _host_is_secret(scheme: str, host: str) -> bool:
    """Some schemes keep a token where a host would be; so may any scheme Apprise does not know. A name with
    no dot (other than localhost) is no address anyone types: it is treated as a token."""
    return bool(host) and (scheme in TOKEN_HOST_SCHEMES or ("." not in host and host != "localhost"))


def _mask_part(part: str, keep: int = 2) -> str:
    if not part:
        return part
    return part[:keep] + MASK if len(part) > keep * 2 else MASK


def mask_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.isidentifier() and not scheme.replace("+", "").isalnum():
        return MASK
    rest, _, _fragment = rest.partition("#")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    userinfo = ""
    if "@" in netloc:
        user, _, netloc = netloc.rpartition("@")
        name, has_password, _ = user.partition(":")
        userinfo = name + (":" + MASK if has_password else "") + "@"
    host, has_port, port = netloc.partition(":")
    # a non-numeric "port" is a secret (tgram://BOT_ID:TOKEN)
    host_part = host + (":" + (port if port.isdigit() else MASK) if has_port else "")
    if _host_is_secret(scheme, host):
        host_part = _mask_part(host) + (":" + MASK if has_port else "")
    masked_path = "".join("/" + _mask_part(s) for s in path.split("/") if s)
    masked_query = ""
    if query:
        masked_query = "?" + "&".join(f"{k}={MASK}" for k, _ in parse_qsl(query, keep_blank_values=True))
    return f"{scheme}://{userinfo}{host_part}{masked_path}{masked_query}"


_DSN_PASSWORD = re.compile(r"(://[^/@:]*:)[^@/]*@")
_DSN_QUERY_SECRET = re.compile(r"([?&](?:password|passwd|pass|token|secret)=)[^&]*", re.I)


def mask_dsn(url: str) -> str:
    """A database / queue / cache URL with its password hidden (``redis://:****@host:6379/0``)."""
    return _DSN_QUERY_SECRET.sub(rf"\1{MASK}", _DSN_PASSWORD.sub(rf"\1{MASK}@", url))


MIN_SECRET = 4  # shorter parts ("api", "v1") are not worth hiding and would mangle every log line


def url_secrets(url: str) -> set[str]:
    """The parts of ``url`` that :func:`mask_url` hides, as they may appear in text (raw, decoded, encoded)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return {url} if len(url) >= MIN_SECRET else set()
    rest, _, _fragment = rest.partition("#")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    parts = [segment for segment in path.split("/") if segment]
    if "@" in netloc:
        user, _, netloc = netloc.rpartition("@")
        parts.append(user.partition(":")[2])
    host, _, port = netloc.partition(":")
    if port and not port.isdigit():
        parts.append(port)
    if _host_is_secret(scheme, host):
        parts.append(host)
    parts += [value for _, value in parse_qsl(query, keep_blank_values=True)]
    found = set()
    for part in parts:
        found |= {part, unquote(part), quote(part, safe="")}
    return {part for part in found if len(part) >= MIN_SECRET}


_in_flight: dict[str, int] = {}  # secret → sends using it right now
_lock = threading.Lock()


class _RedactInFlight(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        with _lock:
            secrets = sorted(_in_flight, key=len, reverse=True)
        if secrets:
            message = record.getMessage()
            redacted = message
            for secret in secrets:
                redacted = redacted.replace(secret, MASK)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


_FILTER = _RedactInFlight()
# the loggers that quote the URLs they call (a logger's filter sees that logger's own records)
LIBRARY_LOGGERS = ("apprise", "urllib3.connectionpool", "urllib3.util.retry", "requests")
for _name in LIBRARY_LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)


@contextmanager
def redacting(url: str) -> Iterator[None]:
    """While the block runs, the libraries' log records show the secret parts of ``url`` as ``****``."""
    secrets = url_secrets(url)
    with _lock:
        for secret in secrets:
            _in_flight[secret] = _in_flight.get(secret, 0) + 1
    try:
        yield
    finally:
        with _lock:
            for secret in secrets:
                if _in_flight[secret] <= 1:
                    del _in_flight[secret]
                else:
                    _in_flight[secret] -= 1
