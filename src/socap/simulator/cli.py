"""`socap simulator …`: serve the fake X API over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from socap.clock import SystemClock, VirtualClock
from socap.console import EXIT_INVALID, fail, out

app = typer.Typer(help="The built-in X API v2 simulator.", no_args_is_help=True)


@app.command()
def serve(
    scenario: Annotated[str, typer.Option(help="scenario name or number, e.g. 1 or s01_small_launch")] = "1",
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8123,
    speed: Annotated[float, typer.Option(help="virtual seconds per real second (1 = real time)")] = 1.0,
    clock: Annotated[str | None, typer.Option(help="a clock spec to share (overrides --speed)")] = None,
) -> None:
    """Serve a scenario's world at http://HOST:PORT/2 (point SOCAP_X_API_BASE_URL there)."""
    from socap.clock import parse_clock
    from socap.simulator import server
    from socap.simulator.scenario import load_scenario

    try:
        loaded = load_scenario(scenario)
    except (KeyError, ValueError, LookupError) as exc:
        fail(str(exc), EXIT_INVALID)
    if clock:
        the_clock = parse_clock(clock)
    elif speed == 1.0:
        the_clock = SystemClock() if loaded.start is None else VirtualClock(loaded.start, speed=1.0)
    else:
        the_clock = VirtualClock(loaded.start, speed=speed)
    out.print(f"simulating scenario {loaded.name!r} at http://{host}:{port}/2 — clock {the_clock.spec()}")
    server.serve(scenario, host=host, port=port, clock=the_clock)
