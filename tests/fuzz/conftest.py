"""Fuzzing: one fixed hypothesis profile for CI, and a count of the examples every fuzz test ran.

The profile is applied per test (``@settings(FUZZ, max_examples=...)``), never loaded globally, so the rest of
the suite keeps hypothesis' defaults. Counts are printed at the end of the run and written to
``tests/artifacts/fuzz-counts.json``.
"""

from __future__ import annotations

import json
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
ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "fuzz-counts.json"


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


def pytest_terminal_summary(terminalreporter):
    if not COUNTS:
        return
    terminalreporter.section("fuzz examples run")
    for name, n in sorted(COUNTS.items()):
        terminalreporter.write_line(f"{n:6d}  {name}")
    terminalreporter.write_line(f"{sum(COUNTS.values()):6d}  in all")
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(dict(sorted(COUNTS.items())), indent=2) + "\n")
