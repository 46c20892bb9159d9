"""``leadsla speed``: conversion by business time to first attempt; the first-response SLA."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from leadsla.cli.common import (
    console,
    err,
    open_source,
    print_warnings,
    stamped,
    warn_business_time,
    write_chart,
)
from leadsla.cli.options import (
    AsOfOpt,
    AttemptsPerHourOpt,
    EncodingOpt,
    FormatOpt,
    HourlyCostOpt,
    MappingOpt,
    NoCacheOpt,
    OptionOpt,
    OutOpt,
    SchemaOpt,
    SourceArg,
    TzOpt,
)
from leadsla.errors import DataError, Issue
from leadsla.render.output import Format, emit, rich_table, to_csv, to_json
from leadsla.text import pct

if TYPE_CHECKING:
    from leadsla.analysis.speed import SpeedResult, SpeedTable


class SpeedBy(StrEnum):
    owner = "owner"
    segment = "segment"
    source = "source"
    campaign = "campaign"


def speed(
    source: SourceArg,
    by: Annotated[
        SpeedBy | None,
        typer.Option("--by", help="Also one table per owner, segment, source or campaign."),
    ] = None,
    mapping: MappingOpt = None,
    option: OptionOpt = None,
    time_zone: TzOpt = None,
    encoding: EncodingOpt = None,
    as_of: AsOfOpt = None,
    hourly_cost: HourlyCostOpt = None,
    attempts_per_hour: AttemptsPerHourOpt = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Write the rate-by-bucket chart to this HTML file."),
    ] = None,
    no_cache: NoCacheOpt = False,
    schema: SchemaOpt = None,
) -> None:
    """Conversion by business time to the first attempt, and the recommended first-response SLA."""
    ws = open_source(
        source,
        mapping,
        option,
        time_zone=time_zone,
        encoding=encoding,
        as_of=as_of,
        hourly_cost_eur=hourly_cost,
        attempts_per_hour=attempts_per_hour,
        no_cache=no_cache,
        schema=schema,
    )
    with ws:
        print_warnings(ws)
        warn_business_time(ws)
        activities = ws.activities
        if activities is None:
            raise DataError(
                Issue(
                    "ERROR",
                    "missing-table",
                    "speed to lead needs the activities table (one row per call, email, …).",
                    file=ws.source,
                    fix="Add an activities.csv (or .parquet) with lead_id, at and kind, or map "
                    "the CRM's activity export in the mapping file.",
                )
            )
        from leadsla.analysis.speed import speed_analysis

        s = ws.settings
        calendar = ws.calendar()
        result = speed_analysis(
            ws.leads,
            activities,
            calendar=calendar,
            attempt_kinds=s.attempt_kinds,
            by=by.value if by is not None else None,
            as_of=ws.as_of,
            maturity_quantile=s.maturity_quantile,
            hourly_cost_eur=s.hourly_cost_eur,
            attempts_per_hour=s.attempts_per_hour,
            margin=s.margin,
        )
    if chart is not None:
        from leadsla.render.charts import figure

        write_chart(figure(result), chart)
    if format is Format.json:
        emit(to_json(stamped(ws, result.to_dict())), out, console)
    elif format is Format.csv:
        rows = [{str(k): v for k, v in r.items()} for r in result.to_frame().to_dict("records")]
        emit(to_csv(rows), out, console)
    else:
        _print_table(result, out)


def _rows(t: SpeedTable) -> list[dict[str, Any]]:
    return [
        {
            "bucket": b.bucket,
            "leads": b.leads,
            "won": b.won,
            "rate": pct(b.rate),
            "95% interval": f"{pct(b.rate_ci[0])} – {pct(b.rate_ci[1])}" if b.leads else "–",
        }
        for b in t.buckets
    ]


def _effect_rows(t: SpeedTable) -> list[dict[str, Any]]:
    rows = []
    for e, off in zip(t.effect, t.effect_off_hours, strict=True):
        rows.append({
            "first attempt within": e.label,
            "risk ratio (owner × segment)": _rr(e.risk_ratio, e.ci),
            "leads within / later": f"{e.leads_within:,} / {e.leads_later:,}",
            "off-hours arrivals only": _rr(off.risk_ratio, off.ci),
        })  # fmt: skip
    return rows


def _rr(rr: float | None, ci: tuple[float, float] | None) -> str:
    if rr is None or ci is None:
        return "–"
    return f"{rr:.2f} ({ci[0]:.2f}–{ci[1]:.2f})"


def _target_rows(t: SpeedTable) -> list[dict[str, Any]]:
    return [
        {
            "target": o.candidate.text,
            "met last period": pct(o.met_share),
            "missed (contacted)": f"{o.missed_contacted:,}",
            "modelled gain": "–" if o.gain_eur is None else money(o.gain_eur),
            "rep hours": f"{o.rep_hours:,.0f}",
            "net": "–" if o.net_eur is None else money(o.net_eur),
        }
        for o in t.targets
    ]


def money(x: float) -> str:
    return f"{x:,.0f} €"


def _sla_line(t: SpeedTable) -> str:
    r = t.recommendation
    if r.target is None:
        return f"{t.name}: {r.explanation}"
    return f"Recommended first response ({t.name}): {r.explanation}"


def _print_table(result: SpeedResult, out: Path | None) -> None:
    from rich.console import Console

    target = console
    handle = None
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle = out.open("w", encoding="utf-8")
        target = Console(file=handle, width=120, no_color=True)
    try:
        target.print(
            f"Business time from the MQL to the first attempt ({', '.join(result.attempt_kinds)}), "
            f"{result.time_zone} calendar, one business day = {result.business_day_hours:g} h; "
            f"{result.maturity.mature_leads:,} mature leads.",
            highlight=False,
        )
        o = result.overall
        target.print(rich_table("Close rate by response time", _rows(o)))
        target.print(
            rich_table("Effect: risk ratio of winning, within T vs later", _effect_rows(o))
        )
        target.print(rich_table("Targets on last period's leads", _target_rows(o)))
        target.print(escape(f"Cost assumption: {result.cost_assumption}."), highlight=False)
        target.print(escape(_sla_line(o)), highlight=False)
        if result.segments_differ:
            for seg in result.segments.values():
                target.print(escape(_sla_line(seg)), highlight=False)
        target.print()
        for t in (result.strata or {}).values():
            target.print(rich_table(f"{result.by} = {t.name}", _rows(t)))
            target.print(rich_table("Effect", _effect_rows(t)))
            target.print(escape(_sla_line(t)), highlight=False)
            target.print()
        ex = result.maturity.excluded()
        if ex["total"]:
            target.print(
                escape(f"Left out: {ex['total']:,} lead(s): {ex['why']}."), highlight=False
            )
        target.print(f"[bold]Caveat:[/bold] {escape(result.caveat)}", highlight=False)
    finally:
        if handle is not None:
            handle.close()
            console.print(f"wrote {out}", highlight=False)
    for w in result.warnings:
        err.print(f"[yellow]WARNING[/yellow] {escape(w)}", highlight=False)
