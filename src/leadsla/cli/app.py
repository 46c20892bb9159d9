"""The ``leadsla`` application: the Typer app, its commands (one list), errors and exit codes.

Exit codes: 0 success, 1 a user error (one paragraph, no traceback unless --verbose),
2 a usage error, 3 ``check --fail-on-breach`` with a breached sales rule.
"""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

import typer
from rich.markup import escape

from leadsla.cli import (
    agree,
    attempts,
    attribution,
    check,
    demo,
    init,
    mappings,
    plan,
    report,
    serve,
    speed,
    sql,
    validate,
    value,
)
from leadsla.cli.common import STATE, err
from leadsla.errors import DataError, LeadslaError, UsageError

app = typer.Typer(
    name="leadsla",
    help="Turn your CRM history into a data-backed marketing–sales SLA, and keep both teams to it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help (Click's): Rich's help formatter imports markdown-it and pygments, 0.2 s of
    # the 0.3 s budget of `leadsla --help` (issue 9); command output still uses Rich
    rich_markup_mode=None,
)

#: every command, in the order ``leadsla --help`` lists them
COMMANDS = (
    init.init,
    validate.validate,
    mappings.mappings,
    value.value,
    attribution.attribution,
    plan.plan,
    attempts.attempts,
    speed.speed,
    agree.agree,
    check.check,
    report.report,
    demo.demo,
    serve.serve,
)
for _command in COMMANDS:
    app.command()(_command)
app.add_typer(sql.app, name="sql")
app.add_typer(serve.token_app, name="token")


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show tracebacks on errors.")
    ] = False,
) -> None:
    """Turn your CRM history into a data-backed marketing–sales SLA, and keep both teams to it."""
    STATE["verbose"] = verbose


def main() -> None:
    """Entry point: run the app, turning leadsla errors into messages and exit codes."""
    try:
        # without standalone mode click returns (not raises) the code of a typer.Exit
        code = app(standalone_mode=False)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        err.print("Aborted.")
        sys.exit(1)
    except UsageError as e:
        _fail(e, 2)
    except DataError as e:
        if STATE["verbose"]:
            traceback.print_exc()
        for i in e.issues:
            color = "red" if i.severity == "ERROR" else "yellow"
            err.print(f"[{color}]{i.severity}[/{color}] {escape(str(i))}", highlight=False)
        n = len(e.issues.errors)
        err.print(
            f"{n} error(s): nothing was computed. Fix them and run again "
            "(`leadsla validate SOURCE` lists every problem).",
            highlight=False,
        )
        sys.exit(1)
    except LeadslaError as e:
        _fail(e, 1)
    except Exception as e:  # click's usage errors and anything unexpected
        if hasattr(e, "show") and hasattr(e, "exit_code"):  # click's usage errors (exit 2)
            e.show()
            sys.exit(e.exit_code)
        if STATE["verbose"]:
            raise
        err.print(
            f"[red]Error:[/red] {type(e).__name__}: {escape(str(e))}. Run with --verbose for "
            "details and report it if it looks like a bug.",
            highlight=False,
        )
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)


def _fail(e: Exception, code: int) -> None:
    if STATE["verbose"]:
        traceback.print_exc()
    err.print(f"[red]Error:[/red] {escape(str(e))}", highlight=False)
    sys.exit(code)
