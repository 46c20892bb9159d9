"""leadsla: a data-backed marketing–sales SLA from a company's own CRM history.

The public API is flat and lazy (``import leadsla`` loads no engine):

- :func:`connect` opens a source (folder, file, DuckDB file or database URL);
- :func:`value`, :func:`plan`, :func:`attempts`, :func:`speed`, :func:`agree`, :func:`check`
  and :func:`report` run one analysis each on the open workspace;
- the errors (:class:`LeadslaError` and its subclasses) and :class:`Settings`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from leadsla.errors import ConfigError, DataError, Issue, IssueSet, LeadslaError, UsageError

if TYPE_CHECKING:
    from leadsla.api import agree, attempts, check, connect, plan, report, speed, value
    from leadsla.io.source import Workspace
    from leadsla.settings import Settings, load_settings

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "Issue",
    "IssueSet",
    "LeadslaError",
    "Settings",
    "UsageError",
    "Workspace",
    "agree",
    "attempts",
    "check",
    "connect",
    "load_settings",
    "plan",
    "report",
    "speed",
    "value",
]

_LAZY = {
    "Settings": "leadsla.settings",
    "load_settings": "leadsla.settings",
    "Workspace": "leadsla.io.source",
    **{
        f: "leadsla.api"
        for f in ("agree", "attempts", "check", "connect", "plan", "report", "speed", "value")
    },
}


def __getattr__(name: str) -> Any:
    """Load the engine only when a function or class of it is first used."""
    if name not in _LAZY:
        raise AttributeError(f"module 'leadsla' has no attribute {name!r}")
    return getattr(import_module(_LAZY[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
