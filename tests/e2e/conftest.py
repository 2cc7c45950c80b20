"""Fixtures of the end-to-end suite: ``system(key, *, workers=1, notify=True, speed=4000)`` → a started
:class:`tests.e2e.harness.System` (see that module's docstring), closed at the end of the test."""

from __future__ import annotations

import pytest

from tests.e2e.harness import System


@pytest.fixture
def system(start_simulator, make_runtime):
    made: list[System] = []

    def start(scenario_key: str, **options) -> System:
        made.append(System(scenario_key=scenario_key, start_simulator=start_simulator, make_runtime=make_runtime,
                           **options))
        return made[-1]

    yield start
    for s in made:
        s.close()
