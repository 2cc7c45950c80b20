"""The soak's X simulator in a process of its own: ``python -m tests.soak.simulator --port P --clock SPEC``
serves the soak world (tests/soak/world.py) with its fault profile on the shared virtual clock."""

from __future__ import annotations

import argparse

import uvicorn

from socap.clock import parse_clock
from socap.simulator import FaultProfile, create_app
from tests.soak.world import FAULTS, SOAK


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clock", required=True, help="a clock spec, as SOCAP_CLOCK")
    parser.add_argument("--no-faults", action="store_true", help="serve without the random faults")
    args = parser.parse_args()
    faults = FaultProfile() if args.no_faults else FaultProfile.from_dict(FAULTS.to_dict())
    app = create_app(SOAK.build_world(), parse_clock(args.clock), faults=faults)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="off", access_log=False)


if __name__ == "__main__":
    main()
