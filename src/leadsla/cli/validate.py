"""``leadsla validate``: every problem of the data, with where and how to fix it."""

from __future__ import annotations

import typer
from rich.markup import escape

from leadsla.cli.common import console, open_source, print_accounting
from leadsla.cli.options import (
    AsOfOpt,
    EncodingOpt,
    FormatOpt,
    MappingOpt,
    NoCacheOpt,
    OptionOpt,
    OutOpt,
    SchemaOpt,
    SourceArg,
    TzOpt,
)
from leadsla.render.output import Format, emit, to_csv, to_json


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
    schema: SchemaOpt = None,
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
        schema=schema,
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
