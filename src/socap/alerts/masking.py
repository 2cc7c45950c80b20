"""Masking secrets in notification URLs before they are shown anywhere (CLI, UI, logs, errors).

Apprise URLs carry secrets in the user-info part (``mailto://user:PASSWORD@host``), in path segments
(``slack://TokenA/TokenB/TokenC``, ``tgram://BOT_TOKEN/CHAT``, ``discord://WEBHOOK_ID/TOKEN``) and in query
values (``?token=…``). We keep what identifies the channel (scheme, host, first characters) and hide the rest.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

MASK = "****"
# schemes whose "host" part is itself a token or an account id
TOKEN_HOST_SCHEMES = {"slack", "tgram", "discord", "pover", "pbul", "msteams"}


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
    if scheme in TOKEN_HOST_SCHEMES and host:
        host_part = _mask_part(host) + (":" + MASK if has_port else "")
    masked_path = "".join("/" + _mask_part(s) for s in path.split("/") if s)
    masked_query = ""
    if query:
        masked_query = "?" + "&".join(f"{k}={MASK}" for k, _ in parse_qsl(query, keep_blank_values=True))
    return f"{scheme}://{userinfo}{host_part}{masked_path}{masked_query}"
