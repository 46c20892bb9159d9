"""The ``leadsla`` command line (Typer + Rich).

Exit codes: 0 success, 1 a user error (one paragraph, no traceback unless --verbose),
2 a usage error.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from leadsla.errors import DataError, LeadslaError, UsageError
from leadsla.io.mapping import load_mapping, shipped_mappings
from leadsla.io.source import Workspace, connect
from leadsla.output import Format, emit, rich_table, to_csv, to_json
from leadsla.settings import load_settings

app = typer.Typer(
    name="leadsla",
    help="Turn your CRM history into a data-backed marketing–sales SLA, and keep both teams to it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)
STATE: dict[str, Any] = {"verbose": False}

SourceArg = Annotated[
    str,
    typer.Argument(
        help="A folder of CSV/Parquet files, one file, a DuckDB file or a database URL."
    ),
]
MappingOpt = Annotated[
    str | None,
    typer.Option(
        "--mapping", "-m", help="A shipped mapping (see `leadsla mappings`) or a mapping TOML file."
    ),
]
OptionOpt = Annotated[
    list[str] | None,
    typer.Option("--option", help="Set a mapping option, NAME=VALUE (repeatable)."),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output: table, json or csv.")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write the output to this file.")]
TzOpt = Annotated[
    str | None, typer.Option("--time-zone", help="Workspace time zone for times without an offset.")
]
EncodingOpt = Annotated[
    str | None, typer.Option("--encoding", help="Encoding of CSV files (default utf-8).")
]
QuotaOpt = Annotated[
    float | None,
    typer.Option(
        "--quota", help="Sales quota per period (EUR); default quota_eur of leadsla.toml."
    ),
]
PeriodOpt = Annotated[
    str | None, typer.Option("--period", help="month or quarter (the quota's period).")
]
SegmentQuotaOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--segment-quota",
        help="Quota of one segment, NAME=EUR (repeatable); each segment then gets its own "
        "MQL target.",
    ),
]
OriginatedShareOpt = Annotated[
    float | None,
    typer.Option(
        "--originated-share",
        help="Share of won revenue marketing originates (0-1); default measured on SOURCE "
        "(touches, else source).",
    ),
]
InfluencedShareOpt = Annotated[
    float | None,
    typer.Option(
        "--influenced-share",
        help="Share of won revenue with a marketing touch (0-1), a separate commitment; "
        "default measured from touches.",
    ),
]
MqlValueOpt = Annotated[
    float | None,
    typer.Option("--mql-value", help="Value of one MQL (EUR); default measured on SOURCE."),
]
HourlyCostOpt = Annotated[
    float | None,
    typer.Option(
        "--hourly-cost",
        help="Rep cost per hour (EUR); cost per attempt = hourly cost ÷ attempts per hour "
        "(default: settings, 60).",
    ),
]
AttemptsPerHourOpt = Annotated[
    float | None,
    typer.Option(
        "--attempts-per-hour",
        help="Contact attempts a rep makes in an hour (default: settings, 6).",
    ),
]
NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Read and validate the files afresh, without the stage cache (LEADSLA_CACHE_DIR).",
    ),
]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="The data's as-of instant (ISO 8601); default now.")
]


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show tracebacks on errors.")
    ] = False,
) -> None:
    """Turn your CRM history into a data-backed marketing–sales SLA, and keep both teams to it."""
    STATE["verbose"] = verbose


def parse_options(options: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for o in options or []:
        if "=" not in o:
            raise UsageError(f'--option "{o}" must look like NAME=VALUE.')
        k, val = o.split("=", 1)
        out[k.strip()] = val.strip()
    return out


def open_source(
    source: str,
    mapping: str | None,
    options: list[str] | None,
    *,
    time_zone: str | None = None,
    encoding: str | None = None,
    as_of: str | None = None,
    strict: bool = True,
    no_cache: bool = False,
    **settings: Any,
) -> Workspace:
    """Connect with the settings beside the data, overridden by flags; print warnings."""
    base = load_settings(settings_folder(source))
    m = load_mapping(mapping)
    if m.time_zone and time_zone is None:
        time_zone = m.time_zone
    s = base.replace(
        time_zone=time_zone,
        encoding=encoding,
        as_of=_parse_instant(as_of) if as_of else None,
        **settings,
    )
    return connect(
        source,
        mapping=m,
        settings=s,
        options=parse_options(options),
        strict=strict,
        cache=not no_cache,
    )


def settings_folder(source: str) -> Path | None:
    """Where ``leadsla.toml`` is read: beside the data (a folder, a file's folder, the
    ``path=`` of a pyspark URL), else the working folder for a database URL."""
    p = Path(source)
    if p.is_dir():
        return p
    if p.exists():
        return p.parent
    if "://" in source:
        from leadsla.io.backends import parse_url

        url = parse_url(source)
        return Path(url.path) if url.path else Path.cwd()
    return None


def _parse_instant(text: str) -> Any:
    from datetime import datetime

    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f'--as-of "{text}" is not an ISO 8601 instant (2025-06-30T18:00).'
        ) from None


def print_accounting(ws: Workspace, console: Console = err) -> None:
    rows = [a.to_dict() for a in ws.accounting.values()]
    for r in rows:
        r["excluded"] = "; ".join(f"{k}: {n:,}" for k, n in r["excluded"].items()) or "none"
    console.print(rich_table("Rows", rows, ["table", "read", "used", "excluded"]))


def print_warnings(ws: Workspace) -> None:
    for i in ws.issues.warnings:
        err.print(f"[yellow]WARNING[/yellow] {escape(str(i))}", highlight=False)


@app.command()
def validate(
    source: SourceArg,
    mapping: MappingOpt = None,
    option: OptionOpt = None,
    time_zone: TzOpt = None,
    encoding: EncodingOpt = None,
    as_of: AsOfOpt = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Check the data and list every problem with where and how to fix it."""
    ws = open_source(
        source,
        mapping,
        option,
        time_zone=time_zone,
        encoding=encoding,
        as_of=as_of,
        strict=False,
        no_cache=no_cache,
    )
    try:
        issues = list(ws.issues)
        if format is Format.json:
            emit(
                to_json(
                    {
                        "ok": not ws.issues.errors,
                        "issues": [i.to_dict() for i in issues],
                        "accounting": [a.to_dict() for a in ws.accounting.values()],
                    }
                ),
                out,
                console,
            )
        elif format is Format.csv:
            emit(to_csv([i.to_dict() for i in issues]), out, console)
        else:
            for i in issues:
                color = "red" if i.severity == "ERROR" else "yellow"
                console.print(f"[{color}]{i.severity}[/{color}] {escape(str(i))}", highlight=False)
            print_accounting(ws, console)
            n_e, n_w = len(ws.issues.errors), len(ws.issues.warnings)
            console.print(f"{n_e} error(s), {n_w} warning(s) in {source}", highlight=False)
        if ws.issues.errors:
            raise typer.Exit(1)
    finally:
        ws.close()


@app.command()
def mappings(format: FormatOpt = Format.table) -> None:
    """List the mappings that ship with leadsla."""
    rows = []
    for name, path in sorted(shipped_mappings().items()):
        m = load_mapping(path)
        rows.append(
            {
                "name": name,
                "description": m.description,
                "options": ", ".join(f"{k}={v}" for k, v in m.options.items()),
            }
        )
    if format is Format.json:
        emit(to_json({"mappings": rows}), None, console)
    elif format is Format.csv:
        emit(to_csv(rows), None, console)
    else:
        console.print(rich_table("Shipped mappings (--mapping NAME)", rows))


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


from leadsla.commands import register as _register  # noqa: E402  (commands import this module)

_register()
