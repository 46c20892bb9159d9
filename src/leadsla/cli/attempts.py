"""``leadsla attempts`` (and ``leadsla sql attempts``): the attempt life table, N*, the plateau."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from leadsla.cli.common import (
    console,
    err,
    open_source,
    print_warnings,
    stamped,
)
from leadsla.cli.options import (
    AsOfOpt,
    AttemptsByOpt,
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
    StaleOpt,
    TzOpt,
)
from leadsla.errors import UsageError
from leadsla.render.output import Format, emit, rich_table, to_csv, to_json
from leadsla.text import money, pct

if TYPE_CHECKING:
    from leadsla.analysis.attempts import AttemptsResult

ValueOpt = Annotated[
    float | None,
    typer.Option(
        "--value",
        help="Revenue of one won lead (EUR), for every group; default the "
        "mean revenue of each group's won leads. Needed when the data has no revenue.",
    ),
]
MarginOpt = Annotated[
    float | None,
    typer.Option(
        "--margin",
        help="Share of revenue that is profit (0-1]; V = revenue × margin "
        "(default: settings, none).",
    ),
]
BootstrapOpt = Annotated[
    int,
    typer.Option(
        "--bootstrap",
        help="Posterior draws of the hazards and of V for N*'s interval.",
        min=1,
    ),
]
SmoothOpt = Annotated[
    str,
    typer.Option(
        "--smooth",
        help="Win hazard: raw, or isotonic (non-increasing, weighted "
        "by leads at risk) against noisy tails.",
    ),
]
BoundOpt = Annotated[
    str,
    typer.Option(
        "--bound",
        help="When lost-after-contact cannot be told from abandoned: "
        "show the lower bound (treated as lost) or the upper (as censored).",
    ),
]
SeedOpt = Annotated[
    int | None, typer.Option("--seed", help="Seed of the posterior draws (default: settings).")
]
ChartOpt = Annotated[
    Path | None,
    typer.Option(
        "--chart",
        help="Write the charts (cumulative return with knee and N*, profit "
        "with its band, the naive view) as one self-contained HTML file.",
    ),
]
PngOpt = Annotated[
    bool,
    typer.Option(
        "--png",
        help="Also write PATH.png beside --chart (needs kaleido and a "
        "Chrome; says so when they are missing).",
    ),
]


def _num(x: Any, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:,.{digits}f}"


def _span(ns: list[int]) -> str:
    """``6–11`` for a run of attempt counts, else the list."""
    if not ns:
        return "–"
    if ns == list(range(ns[0], ns[-1] + 1)):
        return f"{ns[0]}–{ns[-1]}" if len(ns) > 1 else str(ns[0])
    return ", ".join(map(str, ns))


def _short(a: Any) -> str:
    """N* for the table: ``8``, ``≥ 25`` at the edge of the data, ``–`` without attempts."""
    if not a.optimal_attempts:
        return "–"
    return str(a.optimal_attempts) if a.identified else f"≥ {a.optimal_attempts}"


def summary_rows(result: AttemptsResult) -> list[dict[str, Any]]:
    """One display row per group: N*, its interval, knee, identified, near-optimal set."""
    rows = []
    for name, g in result.groups.items():
        a = g.analysis
        near = a.near_optimal
        rows.append(
            {
                "group": name,
                "leads": f"{g.leads:,}",
                "V": money(a.value),
                "N*": _short(a),
                "95% CI": a.interval_text,
                "ident.": "yes" if a.identified else "no",
                "knee": str(a.knee) if a.knee is not None else "–",
                "near-opt.": _span(near),
                "Π(N*)": _num(float(a.expected_profit[a.optimal_attempts - 1]))
                if a.optimal_attempts
                else "–",
            }
        )
        b = g.bounds
        if b is not None:
            rows[-1]["N* lost/cens."] = f"{_short(b['lower'])} / {_short(b['upper'])}"
    return rows


def print_attempts(result: AttemptsResult, out: Console) -> None:
    """Rich tables: the summary per group, then each group's life table and warnings."""
    by = ", ".join(result.by) or "all leads"
    rows = summary_rows(result)
    title = f"How many contact attempts, by {by} (c = {result.cost_per_attempt:,.2f} per attempt)"
    if result.bound_shown:
        title += f"; {result.bound_shown} bound shown"
    table = rich_table(title, rows)
    for c in table.columns[1:]:
        c.justify = "right"
    out.print(table)
    for name, g in result.groups.items():
        a = g.analysis
        t = a.table
        assert t.at_risk is not None and t.won is not None and t.lost is not None
        assert t.naive_cohort_rate is not None
        life = []
        for i in range(t.max_attempt):
            n = int(t.attempt[i])
            life.append(
                {
                    "k": f"{n}{' ★' if n == a.optimal_attempts else ''}"
                    f"{' ◆' if n == a.knee else ''}",
                    "at risk": f"{int(t.at_risk[i]):,}",
                    "won": f"{int(t.won[i]):,}",
                    "lost": f"{int(t.lost[i]):,}",
                    "h^W": pct(float(t.win_hazard[i]), fine=True),
                    "F(k)": pct(float(t.cumulative_conversion[i]), fine=True),
                    "A(k)": _num(float(t.expected_attempts[i])),
                    "Π(k)": _num(float(a.expected_profit[i])),
                    "naive (biased)": pct(float(t.naive_cohort_rate[i]), fine=True),
                }
            )
        lt = rich_table(
            f"{name}: life table (V = {a.value:,.0f}, {g.value_basis}; "
            f"hazard {t.hazard_fit}; ★ N*, ◆ knee)",
            life,
        )
        for c in lt.columns[1:]:
            c.justify = "right"
        if t.max_attempt:
            out.print(lt)
        for w in a.warnings:
            out.print(f"  [yellow]•[/yellow] {escape(w)}", highlight=False)
    ex = result.excluded
    left = ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in ex.items()) or "none"
    out.print(
        f"Leads left out: {left}. Counted: {result.population} (as of "
        f"{result.as_of:%Y-%m-%d %H:%M} UTC"
        + (f", cutoff {result.cutoff:%Y-%m-%d %H:%M} UTC" if result.cutoff else "")
        + "). The naive rate (won ÷ closed with exactly k "
        "attempts) is the guide's view and biased: the outcome decides the count.",
        highlight=False,
    )


def attempts(
    source: SourceArg,
    by: AttemptsByOpt = "segment",
    hourly_cost: HourlyCostOpt = None,
    attempts_per_hour: AttemptsPerHourOpt = None,
    value: ValueOpt = None,
    margin: MarginOpt = None,
    bootstrap: BootstrapOpt = 1000,
    smooth: SmoothOpt = "raw",
    bound: BoundOpt = "lower",
    stale_after: StaleOpt = None,
    seed: SeedOpt = None,
    chart: ChartOpt = None,
    png: PngOpt = False,
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
    """Attempt life table per lead type: N* (profit-optimal attempts), its interval, the plateau."""
    if smooth not in ("raw", "isotonic"):
        raise UsageError(f'--smooth "{smooth}" must be raw or isotonic.')
    if bound not in ("lower", "upper"):
        raise UsageError(f'--bound "{bound}" must be lower or upper.')
    if png and chart is None:
        raise UsageError("--png needs --chart PATH.html (the PNG is written beside it).")
    with open_source(
        source,
        mapping,
        option,
        time_zone=time_zone,
        encoding=encoding,
        as_of=as_of,
        no_cache=no_cache,
        schema=schema,
        hourly_cost_eur=hourly_cost,
        attempts_per_hour=attempts_per_hour,
        margin=margin,
        stale_after_days=stale_after,
        seed=seed,
    ) as ws:
        print_warnings(ws)
        # rich.progress (and rich.live under it) loads when the bar is shown (issue 16)
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task("Counting attempts", total=None)

            def step(done: int, total: int) -> None:
                progress.update(
                    task,
                    description=f"Posterior draws ({bootstrap:,})",
                    completed=done,
                    total=total,
                )

            from leadsla.analysis.attempts import from_workspace

            result = from_workspace(
                ws,
                by=by,
                value=value,
                B=bootstrap,
                smooth=smooth,
                bound=bound,
                progress=step,
                stale_after_days=stale_after,
            )
    if chart is not None:
        from leadsla.render.charts_attempts import write_chart

        files = write_chart(result, chart, png=png)
        err.print(
            f"wrote {files.html}" + (f" and {files.png}" if files.png else ""), highlight=False
        )
        if files.note:
            err.print(f"[yellow]NOTE[/yellow] {escape(files.note)}", highlight=False)
    if format is Format.json:
        emit(to_json(stamped(ws, result.to_dict())), out, console)
    elif format is Format.csv:
        rows = [{str(k): v for k, v in r.items()} for r in result.to_frame().to_dict("records")]
        emit(to_csv(rows), out, console)
    else:
        target = Console(file=open(out, "w", encoding="utf-8"), width=200) if out else console
        try:
            print_attempts(result, target)
        finally:
            if out:
                target.file.close()
                err.print(f"wrote {out}", highlight=False)
    for w in result.warnings:
        err.print(f"[yellow]WARNING[/yellow] {escape(w)}", highlight=False)
