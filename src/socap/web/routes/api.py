"""JSON API under /api/v1 (bearer token or session cookie; see socap.web.deps)."""

from __future__ import annotations

from fastapi import APIRouter

from socap.web.deps import ApiUser

router = APIRouter(prefix="/api/v1", tags=["api"])


@router.get("/me")
@router.post("/me", include_in_schema=False)  # lets tests check the CSRF rule on a harmless write
def me(user: ApiUser) -> dict:
    """Who the token or session belongs to."""
    return {"user_id": user.user_id, "email": user.email, "workspace": user.workspace_name}
