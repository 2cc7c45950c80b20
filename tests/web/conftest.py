from __future__ import annotations

import pytest

from tests.web.support import serve


@pytest.fixture
def serve_web():
    """``serve_web(runtime)`` → a running dashboard server for that runtime, stopped after the test."""
    servers = []

    def start(rt):
        server = serve(rt)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
