"""Web test helpers: serve the real app over HTTP, create users, sign in like a browser does."""

from __future__ import annotations

import re

import httpx

from socap.auth import service as auth_service
from socap.simulator.server import SimulatorServer
from socap.web.app import create_app

PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def serve(rt) -> SimulatorServer:
    """The dashboard app for ``rt`` on a free port (real uvicorn, real HTTP)."""
    return SimulatorServer(create_app(rt), health_path="/healthz").start()


def make_user(rt, email: str, *, workspace: str = "default", password: str = PASSWORD) -> int:
    with rt.db.write() as session:
        return auth_service.create_user(session, email=email, password=password, workspace=workspace,
                                        clock=rt.clock).workspace_id


def api_token(rt, email: str) -> str:
    with rt.db.write() as session:
        return auth_service.create_token(session, email=email, name="tests", clock=rt.clock)[1]


def csrf_from(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "page has no CSRF field"
    return found.group(1)


def sign_in(server, email: str, password: str = PASSWORD) -> httpx.Client:
    """A client holding a signed-in session cookie; ``client.csrf`` is the session's CSRF token."""
    client = httpx.Client(base_url=server.url, timeout=30)
    token = csrf_from(client.get("/login").text)
    r = client.post("/login", data={"csrf_token": token, "email": email, "password": password, "next": "/"})
    assert r.status_code == 303, r.text
    client.csrf = csrf_from(client.get("/").text)
    return client
