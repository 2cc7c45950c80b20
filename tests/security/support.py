"""Shared pieces of the security tests: every route of the app, enumerated from ``create_app`` (so a route
added tomorrow is checked by default), its path filled with real ids, and a site with two workspaces.

Routes are read through FastAPI's ``iter_route_contexts`` (included routers are resolved lazily, so
``app.routes`` alone does not list them). ``HEAD`` is answered like ``GET`` and is not listed separately.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import httpx
from fastapi.routing import iter_route_contexts
from sqlalchemy import select
from starlette.routing import Mount

from socap.campaigns.models import Campaign
from socap.monitoring.engine import drive
from socap.monitoring.models import Engagement
from socap.simulator import load_scenario
from socap.web.app import create_app
from tests.alerts.conftest import import_and_sync_seeds
from tests.monitoring.support import memory_queue
from tests.web.support import api_token, make_user, sign_in
from tests.web.test_api import create, rows

# Routes anyone may call, each with the reason. Everything else must refuse an anonymous caller.
PUBLIC = {
    ("GET", "/healthz"): "load balancers probe it; it says only ok / error",
    ("GET", "/login"): "the sign-in form",
    ("POST", "/login"): "signing in (CSRF-checked and rate-limited)",
}
# Mounted folders served to anyone: the stylesheet, the scripts, Plotly's bundle and the icon hold no data.
PUBLIC_MOUNTS = {"/static": "stylesheet, scripts, Plotly and the icon: the same for everyone, no data",
                 "/static/swagger": "Swagger UI's script and stylesheet for /docs (the page itself needs sign-in)"}
PUBLIC_PATHS = {"/static/plotly.min.js": "Plotly's bundle from the installed package (no data)"}

SAFE = {"GET", "HEAD", "OPTIONS"}
PARAM = re.compile(r"{(\w+)(?::\w+)?}")
SCENARIO = load_scenario("5")

# what a write route is sent: something it would accept for one's own campaign
BODIES = {
    ("PATCH", "/api/v1/campaigns/{campaign_id}"): {"threshold": 0, "name": "taken over",
                                                   "notify_urls": ["json://evil.example/hook"]},
    ("POST", "/api/v1/campaigns/{campaign_id}/posts"): {"main": SCENARIO.campaign_spec()["influencer"]},
    ("POST", "/campaigns/{campaign_id}/edit"): {"name": "Taken over", "threshold": "0", "spacing_minutes": "0",
                                                "notify_urls": "json://evil.example/hook", "remove_channel": "0"},
    ("POST", "/campaigns/{campaign_id}/posts"): {"main": SCENARIO.campaign_spec()["influencer"][0],
                                                 "allow_missing": "1"},
    ("POST", "/campaigns/{campaign_id}/delete"): {"confirm_name": SCENARIO.campaign_spec()["name"]},
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # the route's template, e.g. /api/v1/campaigns/{campaign_id}
    name: str

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def params(self) -> list[str]:
        return PARAM.findall(self.path)

    @property
    def writes(self) -> bool:
        return self.method not in SAFE

    def url(self, **values) -> str:
        """The path with its parameters filled in; a parameter the caller has no value for fails loudly, so a
        new kind of id gets a value (and thereby a check) instead of being skipped."""
        def fill(match: re.Match) -> str:
            if match.group(1) not in values:
                raise AssertionError(f"{self}: no test value for path parameter {match.group(1)!r}; add one")
            return str(values[match.group(1)])
        return PARAM.sub(fill, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def endpoints(app) -> list[Endpoint]:
    """Every (method, path) the app answers, mounts excluded (see :func:`mounts`)."""
    found = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount) or not route.path:
            continue
        for method in route.methods or ():
            if method != "HEAD":
                found.add(Endpoint(method, route.path, route.name or ""))
    return sorted(found, key=lambda e: (e.path, e.method))


def mounts(app) -> list[str]:
    return [r.path for r in iter_route_contexts(app.routes) if isinstance(r.original_route, Mount)]


def protected(app) -> list[Endpoint]:
    return [e for e in endpoints(app) if (e.method, e.path) not in PUBLIC and e.path not in PUBLIC_PATHS]


def app_for(rt):
    return create_app(rt)


def denied(response: httpx.Response) -> bool:
    """An anonymous caller was turned away: 401/403, or a redirect to the sign-in page."""
    if response.status_code in (401, 403):
        return True
    return response.status_code == 303 and response.headers.get("location", "").startswith("/login")


@dataclass
class Site:
    """Two workspaces on one dashboard. Bob's campaign (workspace "default", where the seeds are) has
    engagements and alerts after 90 minutes of scenario 5; Ana (workspace "alpha") has her own campaign."""

    rt: object
    sim: object
    server: object
    bob_api: httpx.Client
    ana_api: httpx.Client
    theirs: int
    mine: int
    their_post: int
    their_account: int

    def browser(self, email: str) -> httpx.Client:
        return sign_in(self.server, email)

    def state(self) -> tuple:
        """Bob's campaign: its settings, data version and the rows of every campaign table."""
        with self.rt.db.session() as s:
            c = s.get(Campaign, self.theirs)
            settings = (c.name, c.status, c.alert_threshold, c.alert_spacing_minutes, list(c.notify_urls),
                        c.data_version)
        return settings, rows(self.rt, self.theirs)

    def values(self, campaign_id: int, **changes) -> dict:
        """Path values for Bob's ids (post, account) under ``campaign_id``; ``fmt`` is a report format."""
        return {"campaign_id": campaign_id, "post_id": self.their_post, "account_id": self.their_account,
                "fmt": "json", **changes}


BOB_NOTIFY = "json://127.0.0.1:9/hooks/bob-secret-path?token=bob-secret-q"  # nobody listens: deliveries fail


def two_workspaces(start_simulator, make_runtime, serve_web, *, drive_for=timedelta(hours=1, minutes=30),
                   notify: tuple[str, ...] = (BOB_NOTIFY,)) -> Site:
    sim = start_simulator(SCENARIO)
    rt = make_runtime(sim)
    import_and_sync_seeds(rt, SCENARIO)
    make_user(rt, "bob@example.com", workspace="default")
    make_user(rt, "ana@example.com", workspace="alpha")
    server = serve_web(rt)

    def client(email: str) -> httpx.Client:
        return httpx.Client(base_url=server.url + "/api/v1", timeout=30,
                            headers={"Authorization": f"Bearer {api_token(rt, email)}"})

    bob, ana = client("bob@example.com"), client("ana@example.com")
    theirs = create(bob, SCENARIO, notify_urls=list(notify))["id"]
    mine = create(ana, SCENARIO, name="Ana's launch")["id"]
    assert ana.post(f"/campaigns/{mine}/pause").status_code == 200  # hers records nothing: the seeds are Bob's
    if drive_for:
        drive(rt, memory_queue(rt), until=SCENARIO.start + drive_for)
    their_post = bob.get(f"/campaigns/{theirs}").json()["posts"][0]["id"]
    with rt.db.session() as s:
        their_account = s.scalar(select(Engagement.account_id).where(Engagement.campaign_id == theirs))
    return Site(rt, sim, server, bob, ana, theirs, mine, their_post, their_account or 1)
