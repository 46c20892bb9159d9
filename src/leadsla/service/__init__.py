"""The live SLA service (``leadsla serve``): events in, clocks running, breaches out.

``create_app(ServiceConfig(...))`` builds the FastAPI app; :class:`Store` is the database
(tables in :mod:`leadsla.service.db`); transitions fired are rows of ``transitions``.
"""

from leadsla.service.app import create_app
from leadsla.service.config import ServiceConfig
from leadsla.service.store import Store

__all__ = ["ServiceConfig", "Store", "create_app"]
