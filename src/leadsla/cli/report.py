"""``leadsla report``: everything in one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadsla.cli.common import (
    console,
    maturity_rule,
    open_source,
    print_warnings,
    warn_business_time,
)
from leadsla.cli.options import (
    AsOfOpt,
    AttemptsPerHourOpt,
    EncodingOpt,
    HourlyCostOpt,
    InfluencedShareOpt,
    LangOpt,
    Language,
    MappingOpt,
    MaturityOpt,
    MqlValueOpt,
    NoCacheOpt,
    OptionOpt,
    OriginatedShareOpt,
    QuotaOpt,
    SchemaOpt,
    SourceArg,
    TzOpt,
    WinMarginOpt,
    WinValueOpt,
)


def report(
    source: SourceArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    quota: QuotaOpt = None,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="An sla.toml policy: adds compliance.")
    ] = None,
    originated_share: OriginatedShareOpt = None,
    influenced_share: InfluencedShareOpt = None,
    mql_value: MqlValueOpt = None,
    hourly_cost: HourlyCostOpt = None,
    attempts_per_hour: AttemptsPerHourOpt = None,
    value: WinValueOpt = None,
    margin: WinMarginOpt = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Bootstrap resamples for N*.", min=100)
    ] = 1000,
    png: Annotated[
        bool, typer.Option("--png/--no-png", help="Also write PNG copies of the charts.")
    ] = True,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also write a PDF beside the page (same name, .pdf).")
    ] = False,
    mapping: MappingOpt = None,
    option: OptionOpt = None,
    time_zone: TzOpt = None,
    encoding: EncodingOpt = None,
    as_of: AsOfOpt = None,
    maturity: MaturityOpt = "cohort",
    no_cache: NoCacheOpt = False,
    schema: SchemaOpt = None,
    lang: LangOpt = Language.en,
) -> None:
    """Write every analysis of SOURCE into one self-contained HTML page (opens offline)."""
    rule = maturity_rule(maturity)
    from leadsla.render.report import build_report

    ws = open_source(
        source,
        mapping,
        option,
        time_zone=time_zone,
        encoding=encoding,
        as_of=as_of,
        no_cache=no_cache,
        schema=schema,
    )
    with ws:
        print_warnings(ws)
        warn_business_time(ws)
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console, transient=True) as progress:  # fmt: skip
            task = progress.add_task("Analysing", total=None)
            rep = build_report(
                ws,
                quota_eur=quota,
                policy=policy,
                as_of=ws.as_of,
                maturity=rule,
                bootstrap=bootstrap,
                originated_share=originated_share,
                influenced_share=influenced_share,
                mql_value=mql_value,
                hourly_cost_eur=hourly_cost,
                attempts_per_hour=attempts_per_hour,
                win_value=value,
                margin=margin,
                lang=lang.value,
                progress=lambda step: progress.update(task, description=str(step)),
            )
            progress.update(task, description="Writing the report")
            files = rep.write(out, png=png)
            if pdf:
                progress.update(task, description="Writing the PDF")
                pdf_path = rep.write_pdf(out.with_suffix(".pdf"))
    for s in rep.sections:
        if s.missing:
            console.print(f"[yellow]Not computed[/yellow] {s.title}: {s.missing}", highlight=False)
    console.print(f"Wrote {files.html}" + (f" and {len(files.pngs)} PNG charts in "
                  f"{files.pngs[0].parent}" if files.pngs else ""), highlight=False)  # fmt: skip
    if pdf:
        console.print(f"Wrote {pdf_path}", highlight=False)
