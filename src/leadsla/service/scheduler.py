"""The scheduler: an asyncio task in the app's lifespan that fires due transitions.

Every ``interval`` seconds (and at once while a round was full) it calls
:meth:`Store.fire_due` in a worker thread, at most ``limit`` transitions a round. A round is
queued to the store's writer thread like a batch of events and commits with the batches waiting
beside it (one transaction, one fsync), so firing neither takes a transaction of its own nor
stalls acknowledgements, and small rounds keep a backlog of thousands after a restart from
holding the writer for seconds. All state is in the database (``timers``), so a restart picks
up where the last run stopped: overdue transitions fire once, late, and say so
(``late_seconds``).
"""

from __future__ import annotations

import asyncio
import logging

from leadsla.service.store import Store

__all__ = ["run_scheduler"]

log = logging.getLogger("leadsla.service")


async def run_scheduler(
    store: Store, stop: asyncio.Event, *, interval: float = 0.1, limit: int = 500
) -> None:
    """Fire due transitions until ``stop`` is set."""
    while not stop.is_set():
        try:
            fired = await asyncio.to_thread(store.fire_due, limit=limit)
        except Exception as exc:  # keep the clocks running; the next round retries
            log.error("scheduler round failed: %s", type(exc).__name__, exc_info=exc)
            fired = 0
        if fired >= limit:
            continue
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
