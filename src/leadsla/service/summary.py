"""``GET /v1/sla/summary``: ``leadsla check`` run on the service's own database.

The database is a leadsla source, so the summary is :func:`check_compliance` on its
canonical tables through :func:`leadsla.connect` — the same code, the same JSON as
``leadsla check DB_URL --policy P --as-of T --format json``. It uses the newest policy
version (a lead's own version governs its live clock and transitions; see the README).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadsla.io.source import connect
from leadsla.service.store import Store
from leadsla.settings import load_settings
from leadsla.sla.compliance import check_compliance

__all__ = ["summary"]


def summary(store: Store, as_of: datetime, /) -> dict[str, Any]:
    pv = store.current
    assert pv is not None
    # as `leadsla check URL --policy P --as-of T` opens it: the policy's zone, T given
    settings = load_settings(None).replace(time_zone=pv.policy.time_zone, as_of=as_of)
    with connect(store.url, strict=False, settings=settings) as ws:
        result = check_compliance(ws.leads, ws.activities, policy=pv.policy, as_of=ws.as_of)
        out = result.document(ws.stamp())
    out["policy_version"] = pv.version
    return out
