"""The ``leadsla`` command line: :func:`main` is the entry point, ``app`` the Typer application.

``app.py`` holds the application and its error handling, ``options.py`` the options shared by
the commands, ``common.py`` opening a source and printing warnings; one module per verb.
"""

from leadsla.cli.app import app, main

__all__ = ["app", "main"]
