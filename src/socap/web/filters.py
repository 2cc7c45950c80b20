"""Filters in the URL: one parser and one printer shared by the JSON API and the pages.

Query parameters (all optional, empty values count as absent, so a GET form can submit blank fields):

- ``category`` — post category, repeatable or comma-separated: ``main``, ``influencer``, ``investor``
- ``action`` — repeatable or comma-separated: ``retweet``, ``reply``, ``quote``
- ``min_importance`` — integer ≥ 0 (inclusive)
- ``range`` — ``all`` (default), ``24h``, ``today`` (UTC day) or ``custom``
- ``since`` / ``until`` — ISO 8601 instants or dates (naive values are UTC); they imply ``range=custom``
  and are refused together with another preset

``filters_to_query(filters_from_query(request))`` gives back an equivalent, canonical query string, so a
filtered view can be shared by its URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request

from socap.clock import ensure_utc, format_instant
from socap.reports.schemas import ACTIONS, POST_CATEGORIES, Filters

RANGES: tuple[str, ...] = ("all", "24h", "today", "custom")
FILTER_PARAMS: tuple[str, ...] = ("category", "action", "min_importance", "range", "since", "until")


class FilterError(ValueError):
    """Bad filter input. ``errors`` maps query parameter → messages (all problems at once).

    The API answers 422 with ``{"detail": {"errors": errors}}``; a page can show ``str(error)``.
    """

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{field}: {msg}" for field, msgs in errors.items() for msg in msgs))


def _values(params: QueryParams | Mapping, name: str) -> list[str]:
    if isinstance(params, QueryParams):
        raw: list = params.getlist(name)
    else:
        found = params.get(name)
        raw = [] if found is None else list(found) if isinstance(found, list | tuple) else [found]
    values: list[str] = []
    for item in raw:
        values.extend(part.strip() for part in str(item).split(",") if part.strip())
    return values


def _single(params: QueryParams | Mapping, name: str, errors: dict[str, list[str]]) -> str | None:
    values = _values(params, name)
    if len(values) > 1:
        errors.setdefault(name, []).append("give at most one value")
        return None
    return values[0] if values else None


def _instant(text: str) -> datetime:
    return ensure_utc(datetime.fromisoformat(text.strip()))  # 3.11: accepts "Z", dates, " " separator


def parse_filters(params: QueryParams | Mapping) -> Filters:
    """Filters from query parameters; raises :class:`FilterError` naming every bad parameter."""
    errors: dict[str, list[str]] = {}

    categories: list[str] = []
    for value in _values(params, "category"):
        if value not in POST_CATEGORIES:
            errors.setdefault("category", []).append(
                f"unknown post category {value!r}; use {', '.join(POST_CATEGORIES)}")
        elif value not in categories:
            categories.append(value)

    actions: list[str] = []
    for value in _values(params, "action"):
        if value not in ACTIONS:
            errors.setdefault("action", []).append(f"unknown action {value!r}; use {', '.join(ACTIONS)}")
        elif value not in actions:
            actions.append(value)

    min_importance: int | None = None
    text = _single(params, "min_importance", errors)
    if text is not None:
        try:
            min_importance = int(text)
        except ValueError:
            errors.setdefault("min_importance", []).append(f"must be a whole number, got {text!r}")
        else:
            if min_importance < 0:
                errors.setdefault("min_importance", []).append("must be 0 or more")

    bounds: dict[str, datetime | None] = {"since": None, "until": None}
    for name in bounds:
        text = _single(params, name, errors)
        if text is None:
            continue
        try:
            bounds[name] = _instant(text)
        except ValueError:
            errors.setdefault(name, []).append(
                f"not an ISO 8601 date or time: {text!r} (e.g. 2025-01-15 or 2025-01-15T09:00:00Z)")

    range_ = _single(params, "range", errors)
    if range_ is not None and range_ not in RANGES:
        errors.setdefault("range", []).append(f"unknown range {range_!r}; use {', '.join(RANGES)}")
        range_ = None
    has_bounds = any(_values(params, name) for name in bounds)
    if range_ is None:
        range_ = "custom" if has_bounds else "all"
    elif range_ == "custom":
        if not has_bounds and "range" not in errors:
            errors.setdefault("range", []).append("range=custom needs since and/or until")
    elif has_bounds:
        errors.setdefault("range", []).append(f"since/until only apply to range=custom, not range={range_}")
    since, until = bounds["since"], bounds["until"]
    if since is not None and until is not None and since > until:
        errors.setdefault("until", []).append("must not be before since")

    if errors:
        raise FilterError(errors)
    return Filters(categories=tuple(categories), actions=tuple(actions), min_importance=min_importance,
                   range=range_, since=since if range_ == "custom" else None,
                   until=until if range_ == "custom" else None)


def filters_from_query(request: Request) -> Filters:
    """The request's filters (see the module docstring); raises :class:`FilterError` on bad input."""
    return parse_filters(request.query_params)


def filters_to_query(filters: Filters) -> str:
    """A canonical query string for ``filters`` without the leading ``?`` ("" for no filters).

    Defaults are left out; ``since``/``until`` are written only for ``range=custom``.
    """
    pairs: list[tuple[str, str]] = [("category", c) for c in filters.categories]
    pairs += [("action", a) for a in filters.actions]
    if filters.min_importance is not None:
        pairs.append(("min_importance", str(filters.min_importance)))
    if filters.range != "all":
        pairs.append(("range", filters.range))
    if filters.range == "custom":
        if filters.since is not None:
            pairs.append(("since", format_instant(filters.since)))
        if filters.until is not None:
            pairs.append(("until", format_instant(filters.until)))
    return urlencode(pairs, safe=":")
