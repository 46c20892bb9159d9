"""The service's settings (one typed object; units in the names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DEFAULT_DB", "ServiceConfig"]

DEFAULT_DB = "sqlite:///leadsla.db"


@dataclass(frozen=True)
class ServiceConfig:
    """How ``leadsla serve`` runs.

    ``hubspot_secret`` (the HubSpot app's client secret) enables ``POST /v1/hooks/hubspot``;
    ``salesforce_secret`` (a shared secret in the outbound message's URL) and/or
    ``salesforce_org_id`` enable ``POST /v1/hooks/salesforce``. Without them those endpoints
    answer 404 ``hook_disabled``.
    """

    db_url: str = DEFAULT_DB
    policy_path: Path | None = None
    max_body_bytes: int = 10_000_000
    scheduler_interval_s: float = 0.1
    alerts_interval_s: float = 0.5
    lang: str = "en"
    warn_at: tuple[float, ...] = (0.5, 0.75, 0.9)
    hubspot_secret: str | None = field(default=None, repr=False)
    hubspot_max_age_s: float = 300.0
    salesforce_secret: str | None = field(default=None, repr=False)
    salesforce_org_id: str | None = None
    public_url: str | None = None
