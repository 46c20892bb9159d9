"""``GET /v1/leads/{lead_id}`` (scope read): the lead and its two clocks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from leadsla.service.auth import Read
from leadsla.service.errors import ApiError
from leadsla.service.routers.deps import StoreDep

router = APIRouter(prefix="/v1/leads", tags=["leads"])


@router.get("/{lead_id}")
def get_lead(lead_id: str, store: StoreDep, _scopes: Read) -> dict[str, Any]:
    """``first_response`` and ``attempts``: status (pending, warning, met, breached),
    ``due_at``, elapsed business seconds; the transitions fired for the lead."""
    out = store.lead(lead_id)
    if out is None:
        raise ApiError(
            404,
            "unknown_lead",
            f'no lead "{lead_id}".',
            "Check the lead_id; leads are known once a lead.created event is accepted.",
        )
    return out
