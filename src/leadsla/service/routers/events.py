"""``POST /v1/events`` (scope ingest): one event, a JSON array, or NDJSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from leadsla.service.auth import Ingest
from leadsla.service.errors import ApiError
from leadsla.service.events import BodyError, parse_body
from leadsla.service.routers.deps import ConfigDep, StoreDep, read_body

router = APIRouter(prefix="/v1/events", tags=["events"])

MAX_EVENTS = 50_000


@router.post(
    "",
    status_code=202,
    responses={
        202: {"description": '{"accepted", "duplicates", "rejected": [{"index", "id", "error"}]}'}
    },
)
async def post_events(
    request: Request, store: StoreDep, config: ConfigDep, _scopes: Ingest
) -> JSONResponse:
    """Store events, idempotent by ``id``; answers 202 once every accepted event is committed.

    Per-event problems are listed in ``rejected`` (index, id, error with field, value and fix)
    and nothing of a rejected event is stored; the others are stored.
    """
    body = await read_body(request, config.max_body_bytes)
    try:
        items: list[Any] = parse_body(body, request.headers.get("content-type"))
    except BodyError as e:
        raise ApiError(400, "malformed_json", e.message, e.fix) from None
    if len(items) > MAX_EVENTS:
        raise ApiError(
            413,
            "too_many_events",
            f"{len(items):,} events in one request; at most {MAX_EVENTS:,}.",
            "Split the batch.",
        )
    if not items:
        raise ApiError(400, "no_events", "the body holds no event.", "Send at least one event.")
    result = await run_in_threadpool(store.ingest, items)
    if result.accepted == 0 and result.duplicates == 0:  # nothing stored: a 4xx
        if len(items) == 1:
            err = result.rejected[0]["error"]
            raise ApiError(422, err["code"], err["message"], err["fix"], extra=err)
        raise ApiError(
            422,
            "no_event_accepted",
            f"none of the {len(items):,} events was accepted; each is listed in rejected.",
            "Fix the events listed (field, value, fix) and send them again.",
            extra={"rejected": result.rejected},
        )
    return JSONResponse(result.to_dict(), status_code=202)
