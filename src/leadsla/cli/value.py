"""``leadsla value``: the MQL value table (close rate, mean revenue of won leads, per group)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from leadsla.cli.attribution import measure_attribution, print_attribution
from leadsla.cli.common import (
    console,
    err,
    open_source,
    print_warnings,
    stamped,
    warn,
    write_chart,
)
from leadsla.cli.options import (
    LOOKBACK_DAYS,
    AllLeadsOpt,
    AsOfOpt,
    ByOpt,
    ChartOpt,
    DrawsOpt,
    EncodingOpt,
    FormatOpt,
    LookbackOpt,
    MappingOpt,
    MaturityOpt,
    NoCacheOpt,
    OptionOpt,
    OutOpt,
    SchemaOpt,
    SeedOpt,
    SourceArg,
    TzOpt,
    check_by,
    maturity_mode,
)
from leadsla.render.output import Format, emit, rich_table, to_csv, to_json
from leadsla.text import money, pct

if TYPE_CHECKING:
    from leadsla.analysis.value import ValueResult
    from leadsla.io.source import Workspace


def fine(x: float | None) -> str:
    """A rate with two decimals below 10%."""
    return pct(x, fine=True)


def ci_text(ci: Any, f: Any) -> str:
    """An interval ``lo–hi`` in the format ``f`` (empty when an end is missing)."""
    lo, hi = ci
    ok = all(x is not None and math.isfinite(x) for x in (lo, hi))
    return f"{f(lo)}–{f(hi)}" if ok else ""


TopOpt = Annotated[
    int | None,
    typer.Option("--top", help="Show only the N largest groups in the table (0: all)."),
]
MinLeadsOpt = Annotated[
    int,
    typer.Option(
        "--min-leads",
        help="Fold the values of a grouping column with fewer leads than this into "
        '"(other)" (estimated together).',
    ),
]
DEFAULT_BY = "campaign,segment"


def default_by(by: str, ws: Workspace) -> str:
    """The default grouping without the columns reported as a leak (filled only when won)."""
    if by != DEFAULT_BY or not ws.leaks:
        return by
    return ",".join(c for c in by.split(",") if c not in ws.leaks)


def value_rows(result: ValueResult) -> list[dict[str, Any]]:
    """The value table as display rows: each estimate over its 95% interval (and the shrunk
    close rate below its interval), so that the table fits 80 columns."""
    from leadsla.analysis.value import TOTAL_LABEL

    rows = []
    for r in result.rows:
        e = r.estimate
        keys = {b: escape(r.keys[b] or TOTAL_LABEL) for b in result.by}
        rows.append({
            **keys,
            "leads": f"{e.leads:,}", "won": f"{e.won:,}",
            "close rate\n95% CI\n(shrunk)": f"{fine(e.close_rate)}\n"
                                        f"{ci_text(e.close_rate_ci, fine)}\n"
                                        f"({pct(r.shrunk_close_rate, fine=True)})",
            "avg revenue\n(median)": f"{money(e.avg_revenue)}\n"
                                     f"({money(e.median_revenue)})",
            "MQL value\n95% CI": f"{money(e.mql_value)}\n{ci_text(e.mql_value_ci, money)}",
            "_level": r.level,
        })  # fmt: skip
    return rows


def print_value(result: ValueResult, out: Console, *, top: int | None = None) -> None:
    rows = value_rows(result)
    hidden = 0
    if top and result.by:
        # the N largest groups (by leads), then the totals; the rest counted below
        groups = [r for r, v in zip(rows, result.rows, strict=True) if v.level == "group"]
        ranked = sorted((v.estimate.leads for v in result.rows if v.level == "group"), reverse=True)
        if len(groups) > top:
            cut = ranked[top - 1]
            keep, shown = [], 0
            for r, v in zip(rows, result.rows, strict=True):
                if v.level != "group" or (v.estimate.leads >= cut and shown < top):
                    keep.append(r)
                    shown += v.level == "group"
            hidden = len(groups) - shown
            rows = keep
    cols = [c for c in rows[0] if c != "_level"] if rows else []
    # a grouping column with one value in every group (segment "all") says nothing
    same = [
        b for b in result.by if len({r.keys[b] for r in result.rows if r.level == "group"}) == 1
    ]
    if len(same) < len(result.by):
        cols = [c for c in cols if c not in same]
    by = ", ".join(result.by) or "all leads"
    table = rich_table(f"MQL value by {by} (mature leads)", rows, cols)
    for c in table.columns[
        len(result.by) - len(same) if len(same) < len(result.by) else len(result.by) :
    ]:
        c.justify = "right"
        if "CI" in str(c.header):  # an interval keeps its width; names wrap instead
            cells = [x for r in rows for x in str(r.get(str(c.header), "")).split("\n")]
            c.min_width = max((len(x) for x in cells), default=0)
    for i, r in enumerate(rows):
        if r["_level"] != "group":
            table.rows[i].style = "bold"
        table.rows[i].end_section = True
    out.print(table)
    if hidden:
        out.print(f"… and {hidden:,} smaller groups (--top 0 shows all).", highlight=False)
    m = result.maturity
    ex = m.excluded()
    out.print(
        f"{m.mature_leads:,} of {m.leads_read:,} leads counted; {ex['total']:,} left out "
        f"({ex['immature']:,} recent: {ex['immature_open']:,} open, "
        f"{ex['immature_closed']:,} already closed; {ex['created_after_as_of']:,} created "
        f"after the as-of date): {ex['why']}.",
        highlight=False,
    )
    out.print(result.interval_note(), highlight=False)
    out.print(
        "Shrunk = empirical-Bayes close rate pulled toward the parent (segment, or all "
        "leads); read it for small groups.",
        highlight=False,
    )


def value(
    source: SourceArg,
    by: ByOpt = "campaign,segment",
    all_leads: AllLeadsOpt = False,
    maturity: MaturityOpt = "cohort",
    top: TopOpt = None,
    min_leads: MinLeadsOpt = 0,
    attribution: Annotated[
        bool,
        typer.Option(
            "--attribution",
            help="Also print marketing's share of won revenue "
            "from the touches table (originated, influenced, fractional).",
        ),
    ] = False,
    lookback_days: LookbackOpt = LOOKBACK_DAYS,
    draws: DrawsOpt = 10_000,
    seed: SeedOpt = None,
    chart: ChartOpt = None,
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
    """MQL value table: close rate, mean revenue of won leads and MQL value per group."""
    mode = maturity_mode(maturity, all_leads)
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
        by = default_by(by, ws)
        check_by(by, ws.leads.columns)
        campaigns = ws.table("campaigns") if ws.has("campaigns") else None
        s = ws.settings
        from leadsla.analysis.value import fold_small_groups, mql_value_table

        leads = fold_small_groups(ws.leads, by.split(","), min_leads)
        result = mql_value_table(
            leads, by=by, campaigns=campaigns, as_of=ws.as_of,
            maturity_quantile=s.maturity_quantile, maturity=mode, draws=draws,
            seed=s.seed if seed is None else seed,
        )  # fmt: skip
        attr = measure_attribution(ws, lookback_days) if attribution else None
    if chart is not None:
        from leadsla.render.charts import figure

        write_chart(figure(result), chart)
    if format is Format.json:
        data = result.to_dict()
        if attr is not None:
            data["attribution"] = attr.to_dict()
        emit(to_json(stamped(ws, data)), out, console)
    elif format is Format.csv:
        emit(to_csv([r.to_dict() for r in result.rows]), out, console)
    else:
        target = Console(file=open(out, "w", encoding="utf-8"), width=200) if out else console
        try:
            print_value(result, target, top=top)
            if attr is not None:
                print_attribution(attr, target)
        finally:
            if out:
                target.file.close()
                err.print(f"wrote {out}", highlight=False)
    warn(result.warnings)
