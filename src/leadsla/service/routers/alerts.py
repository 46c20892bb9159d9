"""``GET /v1/alerts`` (read): the outbox — pending, delivered and dead-letter alerts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from leadsla.service.alerts import outbox, outbox_counts
from leadsla.service.auth import Read
from leadsla.service.routers.deps import StoreDep

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


@router.get("")
async def list_alerts(
    store: StoreDep,
    _scopes: Read,
    state: Annotated[
        Literal["pending", "delivered", "dead"] | None,
        Query(description="pending, delivered or dead (dead letters); all when absent"),
    ] = None,
    lead_id: Annotated[str | None, Query(description="only this lead's alerts")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """Alerts newest first, with the counts by state."""
    rows = await run_in_threadpool(outbox, store, state=state, lead_id=lead_id, limit=limit)
    counts = await run_in_threadpool(outbox_counts, store)
    return {"counts": counts, "alerts": rows}
