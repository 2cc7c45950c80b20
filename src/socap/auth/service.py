"""Workspaces (users and tokens come with the dashboard issue)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from socap.auth.models import Workspace
from socap.clock import Clock

DEFAULT_WORKSPACE = "default"


def get_or_create_workspace(session: Session, *, name: str = DEFAULT_WORKSPACE, clock: Clock) -> Workspace:
    workspace = session.scalar(select(Workspace).where(Workspace.name == name))
    if workspace is None:
        workspace = Workspace(name=name, created_at=clock.now())
        session.add(workspace)
        session.flush()
    return workspace
