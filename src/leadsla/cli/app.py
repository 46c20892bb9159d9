"""The ``leadsla`` application: the Typer app, its commands (one list), errors and exit codes.

Exit codes: 0 success, 1 a user error (one paragraph, no traceback unless --verbose),
2 a usage error, 3 ``check --fail-on-breach`` with a breached sales rule.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator, MutableMapping
from importlib import import_module
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from leadsla.errors import DataError, LeadslaError, UsageError

#: every command, in the order ``leadsla --help`` lists them: name → (module, attribute, the
#: first sentence of its help — all that ``--help`` shows of it). A command's module is
#: imported only when that command runs or shows its own help (issue 16); the summaries are
#: held to the commands' docstrings by tests/test_imports.py.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": (
        "leadsla.cli.init",
        "init",
        "Look at an export, write a draft mapping and settings, and say what was guessed.",
    ),
    "validate": (
        "leadsla.cli.validate",
        "validate",
        "Check the data and list every problem with where and how to fix it.",
    ),
    "mappings": ("leadsla.cli.mappings", "mappings", "List the mappings that ship with leadsla."),
    "value": (
        "leadsla.cli.value",
        "value",
        "MQL value table: close rate, mean revenue of won leads and MQL value per group.",
    ),
    "attribution": (
        "leadsla.cli.attribution",
        "attribution",
        "Marketing's share of won revenue from touches: originated, influenced, fractional models.",
    ),
    "plan": (
        "leadsla.cli.plan",
        "plan",
        "MQLs marketing must deliver per period (and segment) to carry its share of the quota.",
    ),
    "attempts": (
        "leadsla.cli.attempts",
        "attempts",
        "Attempt life table per lead type: N* (profit-optimal attempts), its interval, the "
        "plateau.",
    ),
    "speed": (
        "leadsla.cli.speed",
        "speed",
        "Conversion by business time to the first attempt, and the recommended first-response SLA.",
    ),
    "agree": (
        "leadsla.cli.agree",
        "agree",
        "Draft the SLA from the data: the document (sla.md, sla.html) and its policy (sla.toml).",
    ),
    "check": (
        "leadsla.cli.check",
        "check",
        "Compliance of sales (first response, attempts) and marketing (MQLs) with the policy.",
    ),
    "report": (
        "leadsla.cli.report",
        "report",
        "Write every analysis of SOURCE into one self-contained HTML page (opens offline).",
    ),
    "demo": (
        "leadsla.cli.demo",
        "demo",
        "Make a realistic synthetic CRM and run every analysis on it: the SLA and its report.",
    ),
    "serve": (
        "leadsla.cli.serve",
        "serve",
        "Run the live SLA service: events in, clocks running, breaches out (API at /docs).",
    ),
    "sql": ("leadsla.cli.sql", "app", "Print the SQL an analysis runs on the engine."),
    "token": ("leadsla.cli.serve", "token_app", "Make and revoke API tokens of the live service."),
}


class LazyCommands(MutableMapping[str, Any]):
    """The app's commands by name; a command's module is imported on first access.

    The Click command is built exactly as ``app.command()`` / ``app.add_typer`` would build it.
    """

    def __init__(self, app: typer.Typer) -> None:
        self._app = app
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            module, attribute, _ = COMMANDS[name]  # KeyError for an unknown name
            target = getattr(import_module(module), attribute)
            if isinstance(target, typer.Typer):
                command: Any = typer.main.get_group_from_info(
                    typer.models.TyperInfo(target, name=name),
                    pretty_exceptions_short=self._app.pretty_exceptions_short,
                    rich_markup_mode=self._app.rich_markup_mode,
                    suggest_commands=self._app.suggest_commands,
                )
            else:
                command = typer.main.get_command_from_info(
                    typer.models.CommandInfo(name=name, callback=target),
                    pretty_exceptions_short=self._app.pretty_exceptions_short,
                    rich_markup_mode=self._app.rich_markup_mode,
                )
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        raise TypeError(f"leadsla's commands are listed in COMMANDS (cannot add {name!r})")

    def __delitem__(self, name: str) -> None:
        raise TypeError(f"leadsla's commands are listed in COMMANDS (cannot remove {name!r})")

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS


class LazyGroup(TyperGroup):
    """The ``leadsla`` group: lists its commands from :data:`COMMANDS` without importing them."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(app)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """Click's listing (name and short help), the short help made from the summary."""
        from typer._click.utils import make_default_short_help

        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, make_default_short_help(summary, limit))
            for name, (_, _, summary) in COMMANDS.items()
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    name="leadsla",
    cls=LazyGroup,
    help="Turn your CRM history into a data-backed marketing–sales SLA, and keep both teams to it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help (Click's): Rich's help formatter imports markdown-it and pygments, 0.2 s of
    # the 0.3 s budget of `leadsla --help` (issue 9); command output still uses Rich
    rich_markup_mode=None,
)


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show tracebacks on errors.")
    ] = False,
) -> None:
    """Turn your CRM history into a data-backed marketing–sales SLA, and keep both teams to it."""
    from leadsla.cli.common import STATE

    STATE["verbose"] = verbose


def main() -> None:
    """Entry point: run the app, turning leadsla errors into messages and exit codes."""
    try:
        # without standalone mode click returns (not raises) the code of a typer.Exit
        code = app(standalone_mode=False)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        _err().print("Aborted.")
        sys.exit(1)
    except UsageError as e:
        _fail(e, 2)
    except DataError as e:
        from rich.markup import escape

        if _verbose():
            traceback.print_exc()
        err = _err()
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
        if _verbose():
            raise
        from rich.markup import escape

        _err().print(
            f"[red]Error:[/red] {type(e).__name__}: {escape(str(e))}. Run with --verbose for "
            "details and report it if it looks like a bug.",
            highlight=False,
        )
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)


# the error console and the --verbose flag live in common.py, which loads Rich: imported
# only when there is an error to print (``leadsla --help`` never needs them)
def _err() -> Any:
    from leadsla.cli.common import err

    return err


def _verbose() -> bool:
    from leadsla.cli.common import STATE

    return bool(STATE["verbose"])


def _fail(e: Exception, code: int) -> None:
    from rich.markup import escape

    if _verbose():
        traceback.print_exc()
    _err().print(f"[red]Error:[/red] {escape(str(e))}", highlight=False)
    sys.exit(code)
