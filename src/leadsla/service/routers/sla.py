"""``/v1/sla/summary``, ``/v1/breaches``, ``/v1/transitions`` (scope read)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from leadsla.render.output import to_json
from leadsla.service.auth import Read
from leadsla.service.errors import ApiError
from leadsla.service.events import EventError, parse_time
from leadsla.service.routers.deps import StoreDep, no_policy
from leadsla.service.summary import summary

router = APIRouter(prefix="/v1", tags=["sla"])


def _instant(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value, name)
    except EventError as e:
        raise ApiError(400, e.code, e.message, e.fix) from None


@router.get("/sla/summary")
def get_summary(
    store: StoreDep,
    _scopes: Read,
    as_of: Annotated[str | None, Query(description="ISO 8601 with offset; default now")] = None,
) -> Response:
    """The same JSON as ``leadsla check DB --policy P --as-of T --format json``."""
    if store.current is None:
        raise no_policy()
    at = _instant(as_of, "as_of") or datetime.now(UTC)
    return Response(to_json(summary(store, at)), media_type="application/json")


@router.get("/breaches")
def get_breaches(
    store: StoreDep,
    _scopes: Read,
    since: Annotated[str | None, Query(description="ISO 8601; breaches due at or after")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> dict[str, Any]:
    """Breaches fired and still standing, newest deadline first."""
    rows = store.breaches(since=_instant(since, "since"), limit=limit)
    return {"breaches": rows}


@router.get("/transitions")
def get_transitions(
    store: StoreDep,
    _scopes: Read,
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> dict[str, Any]:
    """Every transition fired, in order (``id`` > ``after_id``): what alerts consume."""
    return {"transitions": store.transitions(since_id=after_id, limit=limit)}
