"""``leadsla attribution``: marketing's share of won revenue from the touches table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

from leadsla.cli.common import console, open_source, print_warnings, stamped
from leadsla.cli.options import (
    LOOKBACK_DAYS,
    AsOfOpt,
    EncodingOpt,
    FormatOpt,
    LookbackOpt,
    MappingOpt,
    NoCacheOpt,
    OptionOpt,
    OutOpt,
    SchemaOpt,
    SourceArg,
    TzOpt,
)
from leadsla.errors import ConfigError
from leadsla.render.output import Format, emit, rich_table, to_csv, to_json
from leadsla.text import money, pct

if TYPE_CHECKING:
    from leadsla.analysis.attribution import AttributionResult
    from leadsla.io.source import Workspace


def print_attribution(res: AttributionResult, out: Console) -> None:
    names = {
        "originated": "originated (first touch)",
        "influenced": "influenced (any touch)",
        "linear": "linear",
        "u_shaped": "U-shaped (40/20/40)",
        "time_decay": "time-decay (7-day half-life)",
        "last_touch": "last touch",
    }
    rows = [
        {"model": names[k], "marketing share": pct(v, fine=True)} for k, v in res.shares.items()
    ]
    out.print(
        rich_table(
            f"Marketing's share of won revenue ({res.deals:,} won deals, "
            f"{money(res.total_revenue)})",
            rows,
        )
    )
    out.print(
        "Originated and influenced are the SLA's commitments (influenced includes "
        "originated; never add them); the fractional models are for reporting.",
        highlight=False,
    )


def measure_attribution(ws: Workspace, lookback_days: float) -> AttributionResult:
    if not ws.has("touches"):
        raise ConfigError(
            f"{ws.source} has no touches table (lead_id, at, channel, team, "
            "campaign): attribution needs one touch row per marketing or sales "
            "contact. Add touches.csv, or give the shares to `leadsla plan`."
        )
    from leadsla.analysis.plan import marketing_attribution

    return marketing_attribution(
        ws.leads, ws.table("touches"), as_of=ws.as_of, lookback_days=lookback_days
    )


def attribution(
    source: SourceArg,
    lookback_days: LookbackOpt = LOOKBACK_DAYS,
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
    """Marketing's share of won revenue from touches: originated, influenced, fractional models."""
    with open_source(
        source,
        mapping,
        option,
        time_zone=time_zone,
        encoding=encoding,
        as_of=as_of,
        no_cache=no_cache,
        schema=schema,
    ) as ws:
        print_warnings(ws)
        res = measure_attribution(ws, lookback_days)
    if format is Format.json:
        emit(to_json(stamped(ws, res.to_dict())), out, console)
    elif format is Format.csv:
        emit(to_csv([{"model": k, "share": v} for k, v in res.shares.items()]), out, console)
    else:
        print_attribution(res, console)
        if not res.by_channel.empty:
            rows = [
                {str(k): v for k, v in r.items()}
                for r in res.by_channel.reset_index().to_dict(orient="records")
            ]
            console.print(rich_table("Credited won revenue by channel (all teams)", rows))
