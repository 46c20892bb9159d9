"""``GET /v1/stats`` and ``GET /metrics`` (scope read; Prometheus text format 0.0.4)."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from leadsla.service.auth import Read
from leadsla.service.routers.deps import StoreDep

router = APIRouter(tags=["metrics"])


@router.get("/v1/stats")
def stats(store: StoreDep, _scopes: Read) -> dict[str, Any]:
    """Rows stored: ``{"events", "leads", "activities"}``."""
    return store.stats()


@router.get("/metrics", response_class=PlainTextResponse)
def prometheus(store: StoreDep, _scopes: Read) -> str:
    """Events accepted/duplicate/rejected, transitions fired and fired late (> 1 s), queue lag,
    and the lateness quantiles of the transitions fired since start."""
    c = store.counters
    late = np.asarray(store.late, dtype=float)
    lines = [
        "# HELP leadsla_events_total Events received since start, by outcome.",
        "# TYPE leadsla_events_total counter",
        f'leadsla_events_total{{outcome="accepted"}} {c["events_accepted"]}',
        f'leadsla_events_total{{outcome="duplicate"}} {c["events_duplicate"]}',
        f'leadsla_events_total{{outcome="rejected"}} {c["events_rejected"]}',
        "# HELP leadsla_transitions_fired_total Transitions fired since start.",
        "# TYPE leadsla_transitions_fired_total counter",
        f"leadsla_transitions_fired_total {c['transitions_fired']}",
        "# HELP leadsla_transitions_late_total Scheduled transitions fired more than 1 s late.",
        "# TYPE leadsla_transitions_late_total counter",
        f"leadsla_transitions_late_total {c['transitions_late']}",
        "# HELP leadsla_queue_lag_seconds Wait of the oldest transition due and not yet fired.",
        "# TYPE leadsla_queue_lag_seconds gauge",
        f"leadsla_queue_lag_seconds {store.queue_lag_seconds():.3f}",
        "# HELP leadsla_transition_lateness_seconds Lateness of scheduled transitions.",
        "# TYPE leadsla_transition_lateness_seconds summary",
    ]
    for q in (0.5, 0.9, 0.99):
        v = float(np.quantile(late, q)) if len(late) else 0.0
        lines.append(f'leadsla_transition_lateness_seconds{{quantile="{q}"}} {v:.3f}')
    lines += [
        f"leadsla_transition_lateness_seconds_sum {float(late.sum()):.3f}",
        f"leadsla_transition_lateness_seconds_count {len(late)}",
    ]
    return "\n".join(lines) + "\n"
