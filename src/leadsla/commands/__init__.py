"""Analysis commands of the CLI, one module each; ``register`` adds them all to the app.

Each module does ``from leadsla.cli import app`` and decorates its functions with
``@app.command()``; helpers shared by every command live in ``leadsla.cli``.
"""

from __future__ import annotations

import importlib
import pkgutil


def register() -> None:
    """Import every command module (importing registers its commands)."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        importlib.import_module(f"{__name__}.{info.name}")
