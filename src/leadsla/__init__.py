"""leadsla: a data-backed marketing–sales SLA from a company's own CRM history."""

from leadsla.errors import ConfigError, DataError, Issue, IssueSet, LeadslaError, UsageError
from leadsla.io.source import Workspace, connect
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
    "connect",
    "load_settings",
]
