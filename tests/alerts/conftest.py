"""A local HTTP receiver for json:// alerts (records body, headers and the virtual arrival time) and
helpers to set a scenario up with its seed list imported and synced, as a user would."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from socap.auth import service as auth_service
from socap.importance import seeds as seed_service
from socap.importance import sync


class Receiver:
    def __init__(self, clock=None):
        self.clock = clock
        self.messages: list[dict] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.messages.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                          "at": receiver.clock.now() if receiver.clock else None})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_port}/hooks/alerts"

    def texts(self) -> list[str]:
        return [m["body"].get("message", "") for m in self.messages]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def import_and_sync_seeds(rt, scenario) -> int:
    with rt.db.write() as session:
        workspace_id = auth_service.get_or_create_workspace(session, clock=rt.clock).id
    with rt.x_client() as client:
        seed_service.import_csv(rt.db, client, rt.clock, workspace_id=workspace_id, text=scenario.seeds_csv())
        report = sync.sync_workspace(rt.db, client, rt.clock, workspace_id=workspace_id)
    assert report.finished
    return workspace_id


@pytest.fixture
def launch(start_simulator, make_runtime, receiver):
    """``launch(scenario)`` → (runtime, campaign id): simulator up, seeds imported and synced, the scenario's
    campaign created notifying ``receiver`` (whose arrival times follow the simulator's clock)."""
    from tests.monitoring.support import create_campaign

    def start(scenario):
        server = start_simulator(scenario)
        receiver.clock = server.clock
        rt = make_runtime(server)
        import_and_sync_seeds(rt, scenario)
        return rt, create_campaign(rt, scenario, notify_urls=[receiver.url])

    return start
