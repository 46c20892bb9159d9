"""``GET /v1/policies`` (read), ``POST /v1/policies`` (admin, an sla.toml body)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from leadsla.service.alerts import check_alerts
from leadsla.service.auth import Admin, Read
from leadsla.service.errors import ApiError
from leadsla.service.events import EventError, parse_time
from leadsla.service.routers.deps import StoreDep, read_body

router = APIRouter(prefix="/v1/policies", tags=["policies"])


@router.get("")
def list_policies(store: StoreDep, _scopes: Read) -> dict[str, Any]:
    """Every version, oldest first; a lead keeps the version in force when its clock started."""
    return {"policies": [p.to_dict() for p in store.policies]}


@router.post("", status_code=201)
async def post_policy(
    request: Request,
    store: StoreDep,
    _scopes: Admin,
    effective_from: Annotated[str | None, Query(description="ISO 8601; default now")] = None,
) -> JSONResponse:
    """A new version from an ``sla.toml`` body (201; 200 when it equals the current one)."""
    body = await read_body(request, 1_000_000)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(
            400, "not_utf8", "the policy is not UTF-8 text.", "Send sla.toml as UTF-8."
        ) from None
    eff = None
    if effective_from is not None:
        try:
            eff = parse_time(effective_from, "effective_from")
        except EventError as e:
            raise ApiError(400, e.code, e.message, e.fix) from None
    check_alerts(text, where="posted policy")
    pv, new = await run_in_threadpool(store.add_policy, text, effective_from=eff)
    return JSONResponse(pv.to_dict() | {"new": new}, status_code=201 if new else 200)
