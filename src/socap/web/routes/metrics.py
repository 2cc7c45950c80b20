"""GET /metrics: Prometheus figures read from the database at scrape time (socap.monitoring.prometheus).

Not public. A scraper sends ``Authorization: Bearer <token>`` with either

- SOCAP_METRICS_TOKEN (the operator's token): every workspace's campaigns; or
- an API token (``socap user token EMAIL``): only the campaigns of that user's workspace.

The app-wide series (X's rate-limit windows, the polling pause) come with either.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from socap.auth import service as auth_service
from socap.monitoring import prometheus
from socap.web.deps import RuntimeDep

router = APIRouter()
ALL_WORKSPACES = None


def scrape_scope(request: Request, rt) -> int | None:
    """The workspace whose campaigns the caller may see (None: all of them, with the metrics token)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise HTTPException(401, "send 'Authorization: Bearer <SOCAP_METRICS_TOKEN or an API token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    operator = rt.settings.metrics_token
    if operator is not None and operator.get_secret_value() and \
            secrets.compare_digest(value.encode(), operator.get_secret_value().encode()):
        return ALL_WORKSPACES
    with rt.db.write() as session:
        found = auth_service.verify_token(session, value, clock=rt.clock)
    if found is None:
        raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": "Bearer"})
    return found.workspace_id


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, rt: RuntimeDep) -> Response:
    workspace_id = scrape_scope(request, rt)
    registry = prometheus.registry(rt.db, rt.clock, limits=rt.settings.x_rate_limits,
                                   cycle=timedelta(minutes=rt.settings.poll_interval_minutes),
                                   workspace_id=workspace_id)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
