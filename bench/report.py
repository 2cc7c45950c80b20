"""The frame every benchmark's JSON report shares: what was measured, how busy the machine was, how long."""

from __future__ import annotations

import json
import os
import time

from poll_cycle import source_state


def opened(benchmark: str, **fields) -> dict:
    """A report's first keys; ``emit`` closes it."""
    return {"benchmark": benchmark, **fields, "source": source_state(), "load_average_start": os.getloadavg(),
            "_started": time.perf_counter()}


def emit(report: dict) -> int:
    """Print the report as the only thing on stdout (with the load at the end and the wall time); exit 0."""
    started = report.pop("_started")
    report["load_average_end"] = os.getloadavg()
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2, default=str))
    return 0
