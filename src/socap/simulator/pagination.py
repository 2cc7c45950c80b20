"""Opaque, boundary-based pagination tokens and X-like short pages.

A token encodes the sort key of the last item served, never an offset, so it stays valid when new items
arrive at the head of a newest-first list. Some full pages are cut short (as X does when it filters content
after fetching a page) yet still carry ``next_token``; the next page starts right after the last item served,
so no item is ever skipped.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from typing import TypeVar

from socap.simulator.render import invalid_request

T = TypeVar("T")


def _check(payload: str) -> str:
    return hashlib.sha1(payload.encode()).hexdigest()[:6]


def encode_token(kind: str, boundary: int) -> str:
    payload = f"{kind}:{boundary}"
    raw = f"{payload}:{_check(payload)}".encode()
    return base64.b32encode(raw).decode().rstrip("=").lower()


def decode_token(token: str, kind: str, parameter: str) -> int:
    try:
        raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8)).decode()
        token_kind, boundary, check = raw.split(":")
        if token_kind != kind or check != _check(f"{token_kind}:{boundary}"):
            raise ValueError(raw)
        return int(boundary)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_request(
            parameter, [token], f"The `{parameter}` query parameter value [{token}] is not valid"
        ) from exc


def largest_cut(max_results: int) -> int:
    """The most items a short page drops: a short page of ``max_results`` holds at least
    ``max_results - largest_cut(max_results)`` items (75 of 100)."""
    return max(1, max_results // 4)


def paginate(
    items: Sequence[T],
    key: Callable[[T], int],
    *,
    max_results: int,
    token: str | None,
    kind: str,
    parameter: str,
    salt: str,
    short_rate: float,
) -> tuple[list[T], str | None]:
    """One page of ``items`` (sorted by ``key`` strictly descending) and the token for the next page."""
    if token:
        boundary = decode_token(token, kind, parameter)
        items = [item for item in items if key(item) < boundary]
    page = list(items[:max_results])
    more = len(items) > max_results
    if more and max_results >= 5 and short_rate > 0:
        digest = hashlib.sha256(f"{salt}:{token or 'head'}:{max_results}".encode()).digest()
        if digest[0] / 256 < short_rate:
            drop = 1 + digest[1] % largest_cut(max_results)
            page = page[: max_results - drop]
    next_token = encode_token(kind, key(page[-1])) if more and page else None
    return page, next_token
