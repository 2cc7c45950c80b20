"""A deterministic fake X API v2 over a scripted world driven by a Clock (see DESIGN.md §9).

Public API::

    from socap.simulator import create_app, SimulatorServer, load_scenario, FaultProfile

    scenario = load_scenario("1")                 # or "s01", "s01_small_launch", "small_launch"
    clock = ManualClock(scenario.build_world().start)
    with SimulatorServer(create_app(scenario, clock)) as server:
        ...  # talk to server.api_base over HTTP; server.sim gives in-process controls
"""

from socap.simulator.app import Simulator, create_app
from socap.simulator.builder import ScenarioBuilder
from socap.simulator.faults import FaultProfile, ScriptedFault
from socap.simulator.scenario import Scenario, at, days, hours, list_scenarios, load_scenario, minutes
from socap.simulator.server import SimulatorServer, serve
from socap.simulator.world import World

__all__ = [
    "FaultProfile",
    "Scenario",
    "ScenarioBuilder",
    "ScriptedFault",
    "Simulator",
    "SimulatorServer",
    "World",
    "at",
    "create_app",
    "days",
    "hours",
    "list_scenarios",
    "load_scenario",
    "minutes",
    "serve",
]
