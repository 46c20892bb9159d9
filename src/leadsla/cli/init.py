"""``leadsla init``: look at an export, write a draft mapping and settings, say what was guessed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from leadsla.cli.common import console
from leadsla.cli.options import EncodingOpt, SourceArg, TzOpt
from leadsla.errors import ConfigError, UsageError


def init(
    source: SourceArg,
    time_zone: TzOpt = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="Currency of the amounts (EUR, USD, …).")
    ] = None,
    encoding: EncodingOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder to write the mapping and leadsla.toml into (default: beside the data).",
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="Ask nothing: take --time-zone and --currency (or UTC and EUR)."
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a mapping drafted before.")
    ] = False,
) -> None:
    """Look at an export, write a draft mapping and settings, and say what was guessed."""
    from leadsla.io.draft import draft, report_lines, write_draft
    from leadsla.settings import load_settings

    src = Path(source)
    if not src.exists():
        raise UsageError(f"{source} does not exist: give the folder (or file) of the export.")
    folder = src if src.is_dir() else src.parent
    here = load_settings(folder)
    d = draft(src, encoding=encoding or here.encoding, delimiter=here.delimiter)
    if encoding:
        d.settings["encoding"] = encoding
    for line in report_lines(d):
        console.print(escape(line), highlight=False)
    if not yes:
        time_zone = time_zone or typer.prompt(
            "Time zone of the times written without an offset (IANA name, e.g. Europe/Berlin)",
            default=here.time_zone,
        )
        currency = currency or typer.prompt("Currency of the amounts", default=here.currency)
    tz = time_zone or here.time_zone
    cur = (currency or here.currency).upper()
    try:
        mapping_path, settings_path = write_draft(
            d, out or folder, time_zone=tz, currency=cur, force=force
        )
    except ConfigError:
        raise
    console.print(
        f"Wrote {escape(str(mapping_path))} and {escape(str(settings_path))} "
        f"(time zone {tz}, currency {cur}). Next: leadsla validate {escape(str(out or folder))}",
        highlight=False,
    )
    if out is not None and out.resolve() != folder.resolve():
        console.print(
            f"The data stays in {escape(str(folder))}: run the commands with "
            f"--mapping {escape(str(mapping_path))} --time-zone {tz}.",
            highlight=False,
        )
    raise typer.Exit(0)
