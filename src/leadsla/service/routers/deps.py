"""Named dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from leadsla.service.config import ServiceConfig
from leadsla.service.errors import ApiError
from leadsla.service.store import Store


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_config(request: Request) -> ServiceConfig:
    config: ServiceConfig = request.app.state.config
    return config


StoreDep = Annotated[Store, Depends(get_store)]
ConfigDep = Annotated[ServiceConfig, Depends(get_config)]


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) more than ``limit`` bytes before reading them all."""
    declared = request.headers.get("content-length")
    too_big = ApiError(
        413,
        "body_too_large",
        f"the body is larger than {limit:,} bytes.",
        "Send the events in smaller batches (NDJSON or arrays of a few thousand events).",
    )
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def no_policy() -> ApiError:
    return ApiError(
        409,
        "no_policy",
        "the service has no SLA policy yet, so no clock runs.",
        "Start it with --policy sla.toml, or POST the policy to /v1/policies (admin token).",
    )
