"""Serve the simulator over real HTTP: a background server for tests, a blocking one for the CLI."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import httpx
import uvicorn

from socap.clock import Clock, format_instant
from socap.simulator.app import Simulator, create_app
from socap.simulator.scenario import campaign_spec, load_scenario

log = logging.getLogger(__name__)


class SimulatorServer:
    """Run an ASGI app (the simulator, or the dashboard with ``health_path="/healthz"``) with uvicorn in a
    background thread::

    with SimulatorServer(create_app("1", clock)) as server:
        httpx.get(server.api_base + "/tweets?ids=…", headers={"Authorization": "Bearer x"})
    """

    health_path = "/_sim/health"

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, *, startup_timeout: float = 10.0,
                 health_path: str | None = None):
        self.app, self.host, self.port = app, host, port
        if health_path is not None:
            self.health_path = health_path
        self.startup_timeout = startup_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return self.url + "/2"

    @property
    def sim(self) -> Simulator:
        return self.app.state.sim

    def start(self) -> SimulatorServer:
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP;
        # without it every keep-alive response waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._socket = sock
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"server-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._server.started:
                try:
                    if httpx.get(self.url + self.health_path, timeout=1.0).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
            if not self._thread.is_alive():
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"server did not start on {self.url}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(
    scenario: str, *, host: str = "127.0.0.1", port: int = 8400, clock: Clock, seed: int | None = None
) -> None:
    """Serve ``scenario`` until interrupted (``socap simulator serve``)."""
    world = load_scenario(scenario).build_world(seed)
    app = create_app(world, clock)
    print(f"SOCAP simulator: scenario {world.key} ({world.title}) on http://{host}:{port}/2", flush=True)
    print(f"clock: {clock.spec()} (now {format_instant(clock.now())})", flush=True)
    print("campaign: " + json.dumps(campaign_spec(world)), flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="off")
