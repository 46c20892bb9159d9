"""``create_app(config)``: the FastAPI application of ``leadsla serve``.

The lifespan opens the :class:`~leadsla.service.store.Store` (migrating the database),
records the policy file as a new version when it changed, and runs the scheduler task.
``app.state.store`` and ``app.state.config`` are what routers (and issue 14's alerts and
dashboard) build on; ``app.state.metrics`` holds the counters of ``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from leadsla.service import dashboard, errors
from leadsla.service.alerts import check_alerts, run_alerts
from leadsla.service.config import ServiceConfig
from leadsla.service.routers import alerts, events, health, hooks, leads, metrics, policies, sla
from leadsla.service.scheduler import run_scheduler
from leadsla.service.store import Store

__all__ = ["create_app"]

log = logging.getLogger("leadsla.service")


def create_app(config: ServiceConfig | None = None, /, *, store: Store | None = None) -> FastAPI:
    """The app; the store is opened in the lifespan (or ``store`` is used as given)."""
    config = config or ServiceConfig()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        st = store or Store(config.db_url, warn_at=config.warn_at)
        if own:
            await asyncio.to_thread(st.open)
        if config.policy_path is not None:
            text = config.policy_path.read_text(encoding="utf-8")
            check_alerts(text, where=str(config.policy_path))
            pv, new = await asyncio.to_thread(st.add_policy, text)
            log.info("policy version %d (%s)%s", pv.version, pv.name, " new" if new else "")
        app.state.store = st
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_scheduler(st, stop, interval=config.scheduler_interval_s), name="scheduler"
        )
        alerting = asyncio.create_task(
            run_alerts(st, stop, interval=config.alerts_interval_s, public_url=config.public_url),
            name="alerts",
        )
        try:
            yield
        finally:
            stop.set()
            await task
            await alerting
            if own:
                st.close()

    app = FastAPI(
        title="leadsla",
        summary="The live marketing–sales SLA: events in, clocks running, breaches out.",
        version="1",
        lifespan=lifespan,
    )
    app.state.config = config
    errors.install(app)
    for module in (health, events, leads, sla, policies, metrics, hooks, alerts):
        app.include_router(module.router)
    dashboard.install(app)
    return app
