"""Log lines that say which campaign and which poll jobs they are about.

A worker binds the ids of the task at hand (``with bound(campaign_id=…, job_ids=…, run_id=…)``: a context
variable, so each thread keeps its own) and every record logged meanwhile carries them as the attributes
``campaign_id``, ``job_ids`` and ``run_id``; ``extra={"campaign_id": …}`` on a single call does the same and
wins. The text format shows them as ``[campaign=3 jobs=12,13 run=7]``; ``SOCAP_LOG_FORMAT=json`` writes one
JSON object per line (time, level, logger, message, the ids, any exception) for a log collector.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO

FIELDS = ("campaign_id", "job_ids", "run_id")
_bound: ContextVar[dict | None] = ContextVar("socap_log_ids", default=None)


@contextmanager
def bound(**ids) -> Iterator[None]:
    """Attach ``ids`` (campaign_id, job_ids, run_id) to every record logged in this block."""
    token = _bound.set({**(_bound.get() or {}), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _bound.reset(token)


class ContextFilter(logging.Filter):
    """Copies the bound ids onto each record (a handler filter: it sees every logger's records)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_bound.get() or {}).items():
            if getattr(record, key, None) is None:
                setattr(record, key, value)
        return True


def _ids(record: logging.LogRecord) -> dict:
    found = {}
    for key in FIELDS:
        value = getattr(record, key, None)
        if value is not None:
            found[key] = list(value) if isinstance(value, tuple | list | set) else value
    return found


class TextFormatter(logging.Formatter):
    LABELS = {"campaign_id": "campaign", "job_ids": "jobs", "run_id": "run"}

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s%(socap_ids)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        parts = [f"{self.LABELS[k]}={','.join(map(str, v)) if isinstance(v, list) else v}"
                 for k, v in _ids(record).items()]
        record.socap_ids = f" [{' '.join(parts)}]" if parts else ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage(), **_ids(record)}
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


def configure(*, level: int = logging.INFO, fmt: str = "text", stream: IO[str] | None = None) -> logging.Handler:
    """Replace the process's SOCAP log handler (stderr by default) with one in ``fmt`` (text | json)."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.socap = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "socap", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
