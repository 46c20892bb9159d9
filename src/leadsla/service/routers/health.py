"""``GET /healthz``: no token; says the service and its database answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from leadsla.service.routers.deps import StoreDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(store: StoreDep) -> dict[str, Any]:
    with store.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok"}
