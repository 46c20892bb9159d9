"""``POST /v1/hooks/hubspot`` and ``POST /v1/hooks/salesforce``: the CRMs' own webhooks,
verified by signature or shared secret (no bearer token), mapped to events
(:mod:`leadsla.service.hooks`) and stored like ``POST /v1/events``."""

from __future__ import annotations

import hmac
import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from leadsla.service.errors import ApiError
from leadsla.service.hooks import (
    SOAP_ACK,
    HookError,
    hubspot_events,
    hubspot_signature,
    salesforce_events,
)
from leadsla.service.routers.deps import ConfigDep, StoreDep, read_body

router = APIRouter(prefix="/v1/hooks", tags=["hooks"])


def _disabled(name: str, how: str) -> ApiError:
    return ApiError(404, "hook_disabled", f"the {name} receiver is not enabled.", how)


def _forged(message: str, fix: str) -> ApiError:
    return ApiError(401, "invalid_signature", message, fix)


def _rejected(result: Any) -> None:
    if result.rejected:
        first = result.rejected[0]["error"]
        raise ApiError(
            422,
            "invalid_notification",
            f"{len(result.rejected)} notification(s) could not be stored: {first['message']}",
            first["fix"],
            extra={"rejected": result.rejected},
        )


@router.post("/hubspot", status_code=200)
async def hubspot(
    request: Request,
    store: StoreDep,
    config: ConfigDep,
    signature: Annotated[str | None, Header(alias="X-HubSpot-Signature-v3")] = None,
    timestamp: Annotated[str | None, Header(alias="X-HubSpot-Request-Timestamp")] = None,
) -> JSONResponse:
    """HubSpot webhooks v3 (signature checked, at most 5 minutes old)."""
    secret = config.hubspot_secret
    if not secret:
        raise _disabled(
            "HubSpot",
            "Start the service with LEADSLA_HUBSPOT_SECRET set to the HubSpot app's client secret.",
        )
    body = await read_body(request, config.max_body_bytes)
    if not signature or not timestamp:
        raise _forged(
            "no X-HubSpot-Signature-v3 / X-HubSpot-Request-Timestamp header.",
            "Only HubSpot's signed webhook requests (v3) are accepted here.",
        )
    if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > (
        config.hubspot_max_age_s * 1000
    ):
        raise _forged(
            "the request timestamp is more than 5 minutes away from now (a replay?).",
            "Check the clocks; HubSpot retries are signed afresh.",
        )
    uri = str(request.url)
    if config.public_url:
        uri = config.public_url.rstrip("/") + request.url.path
        if request.url.query:
            uri += "?" + request.url.query
    expected = hubspot_signature(secret, request.method, uri, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise _forged(
            "the X-HubSpot-Signature-v3 does not match the body.",
            "Check the app's client secret (and --public-url behind a proxy).",
        )
    try:
        payload = json.loads(body)
        events, ignored = hubspot_events(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(
            400,
            "malformed_json",
            "the body is not JSON.",
            "Send HubSpot's notification array as is.",
        ) from None
    except HookError as e:
        raise ApiError(400, "invalid_notification", e.message, e.fix) from None
    result = await run_in_threadpool(store.ingest, events, origin="hubspot")
    _rejected(result)
    return JSONResponse(result.to_dict() | {"ignored": ignored})


@router.post("/salesforce", response_class=Response)
async def salesforce(
    request: Request,
    store: StoreDep,
    config: ConfigDep,
    secret: Annotated[str | None, Query(description="the shared secret")] = None,
    header_secret: Annotated[str | None, Header(alias="X-Leadsla-Secret")] = None,
) -> Response:
    """Salesforce outbound messages (Lead, Task); answers the SOAP acknowledgement."""
    want = config.salesforce_secret
    if not want and not config.salesforce_org_id:
        raise _disabled(
            "Salesforce",
            "Start the service with LEADSLA_SALESFORCE_SECRET set "
            "(and put ?secret=… in the outbound message's endpoint URL).",
        )
    given = secret or header_secret or ""
    if want and not hmac.compare_digest(given.encode(), want.encode()):
        raise _forged(
            "the shared secret is missing or wrong.",
            "Put ?secret=THE_SECRET in the outbound message's endpoint URL.",
        )
    body = await read_body(request, config.max_body_bytes)
    try:
        org, events, _ignored = salesforce_events(body)
    except HookError as e:
        raise ApiError(400, "invalid_notification", e.message, e.fix) from None
    if config.salesforce_org_id and org != config.salesforce_org_id:
        raise _forged(
            f"OrganizationId {org!r} is not this service's org.", "Check --salesforce-org-id."
        )
    result = await run_in_threadpool(store.ingest, events, origin="salesforce")
    _rejected(result)
    return Response(SOAP_ACK, media_type="text/xml; charset=utf-8")
