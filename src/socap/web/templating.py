"""Jinja2 templates (autoescaped: tweets, bios and names are untrusted) and their shared helpers."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from socap.clock import ensure_utc
from socap.web.deps import csrf_token

TEMPLATES_DIR = Path(__file__).parent / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
env = templates.env
env.autoescape = True
env.globals["csrf_token"] = csrf_token


def _when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return ensure_utc(value).strftime(fmt) + " UTC" if value else "—"


def _number(value) -> str:
    return "—" if value is None else f"{value:,}"


def _signed(value) -> str:
    return "" if not value else f"{value:+,}"


def _json_attr(value) -> Markup:
    """JSON for a data-* attribute (escaped as an attribute value; scripts read it with JSON.parse)."""
    from markupsafe import escape

    return escape(json.dumps(value, default=str, separators=(",", ":")))


env.filters["when"] = _when
env.filters["number"] = _number
env.filters["signed"] = _signed
env.filters["json_attr"] = _json_attr
