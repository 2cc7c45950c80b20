"""Fuzzing: one fixed hypothesis profile for CI, and a count of the examples every fuzz test ran.

The profile is applied per test (``@settings(FUZZ, max_examples=...)``), never loaded globally, so the rest of
the suite keeps hypothesis' defaults. Counts are printed at the end of the run (by tests/conftest.py, which
adds up those of the xdist workers) and written to ``tests/artifacts/fuzz-counts.json``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.web.conftest import serve_web  # noqa: F401 - the dashboard server fixture, reused here

# derandomize: the same examples on every run (CI is reproducible; a failure names its example); no example
# database (nothing to carry between runs); no deadline (real HTTP and a database on a loaded machine).
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile("socap-fuzz", FUZZ)

COUNTS: Counter = Counter()
PARTS = Path(__file__).resolve().parents[1] / "artifacts" / "fuzz-counts.parts"  # one file per pytest process


@pytest.fixture
def examples(request):
    """``examples()`` once per hypothesis example, counted under the test; ``examples(kind="...")`` also counts
    it under ``test [kind]`` (an outcome, an operation)."""
    name = request.node.name

    def count(n: int = 1, *, kind: str | None = None) -> None:
        COUNTS[name] += n
        if kind is not None:
            COUNTS[f"{name} [{kind}]"] += n

    return count


def pytest_sessionfinish(session):
    """Each pytest process (an xdist worker, or the only one) leaves its counts in a file of its own; the
    root conftest's terminal summary adds them up, prints them and writes ``fuzz-counts.json``."""
    if COUNTS:
        PARTS.mkdir(parents=True, exist_ok=True)
        name = os.environ.get("PYTEST_XDIST_WORKER", "main")
        (PARTS / f"{name}.json").write_text(json.dumps(dict(COUNTS)))
