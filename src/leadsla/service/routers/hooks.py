"""CRM webhook receivers (HubSpot webhooks v3, Salesforce outbound messages)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/hooks", tags=["hooks"])
