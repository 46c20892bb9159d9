"""The live SLA service (``leadsla serve``): events in, clocks running, breaches out.

``create_app(ServiceConfig(...))`` builds the FastAPI app; :class:`Store` is the database
(tables in :mod:`leadsla.service.db`); transitions fired are rows of ``transitions``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadsla.service.app import create_app
    from leadsla.service.config import ServiceConfig
    from leadsla.service.store import Store

__all__ = ["ServiceConfig", "Store", "create_app"]

_WHERE = {"create_app": "app", "ServiceConfig": "config", "Store": "store"}


def __getattr__(name: str) -> Any:
    """Import FastAPI and SQLAlchemy only when asked (``leadsla --help`` stays light)."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"leadsla.service.{_WHERE[name]}"), name)
