"""``leadsla value``, ``leadsla plan``, ``leadsla attribution`` and ``leadsla sql value``."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from leadsla.analysis.attribution import LOOKBACK_DAYS, AttributionResult
from leadsla.analysis.plan import SlaPlan, marketing_attribution, plan_sla
from leadsla.analysis.value import (
    MATURITY_RULES,
    TOTAL_LABEL,
    ValueResult,
    mql_value_table,
    normalize_by,
    resolve_as_of,
    value_sql,
)
from leadsla.cli import (
    AsOfOpt,
    EncodingOpt,
    FormatOpt,
    InfluencedShareOpt,
    MappingOpt,
    MqlValueOpt,
    NoCacheOpt,
    OptionOpt,
    OriginatedShareOpt,
    OutOpt,
    PeriodOpt,
    QuotaOpt,
    SegmentQuotaOpt,
    SourceArg,
    TzOpt,
    app,
    console,
    err,
    open_source,
    print_warnings,
)
from leadsla.errors import ConfigError, UsageError
from leadsla.io.source import Workspace
from leadsla.output import Format, emit, fmt, pct, rich_table, to_csv, to_json
from leadsla.settings import load_settings

ByOpt = Annotated[
    str,
    typer.Option("--by", help="Grouping columns, comma-separated: campaign, campaign_type, "
                 "segment, source, owner (or any text column of leads)."),
]  # fmt: skip
AllLeadsOpt = Annotated[
    bool,
    typer.Option("--all-leads", help="Count every lead created by the as-of date, not only "
                 "mature ones (recent leads then pull close rates down)."),
]  # fmt: skip
MaturityOpt = Annotated[
    str,
    typer.Option("--maturity", help="Which leads are mature: cohort (created before as-of − "
                 "the 90% creation→close lag; default), closed-or-old (METHODS §1 literally: "
                 "also recent closed leads), all."),
]  # fmt: skip
SeedOpt = Annotated[
    int | None, typer.Option("--seed", help="Seed of the Monte Carlo interval (default: settings).")
]
DrawsOpt = Annotated[
    int, typer.Option("--draws", help="Monte Carlo draws for the MQL value interval.")
]
ChartOpt = Annotated[
    Path | None, typer.Option("--chart", help="Also write the chart as a self-contained HTML file.")
]
LookbackOpt = Annotated[
    float,
    typer.Option("--lookback-days", help="Touches count up to this many days before the close."),
]


def _as_of(ws: Workspace) -> datetime | None:
    """The as-of instant of the settings (None: the latest timestamp in the data)."""
    s = ws.settings
    return resolve_as_of(s.as_of, s.time_zone) if s.as_of is not None else None


def _check_by(by: str, ws: Workspace) -> None:
    """A --by naming no column is a usage error (exit 2), with the columns to choose from."""
    try:
        normalize_by(by, ws.leads.columns)
    except ConfigError as e:
        raise UsageError(f"--by: {e}") from None


def _maturity(maturity: str, all_leads: bool) -> Any:
    if maturity not in MATURITY_RULES:
        raise UsageError(f'--maturity "{maturity}" must be one of {", ".join(MATURITY_RULES)}.')
    return "all" if all_leads else maturity


def _money(x: float | None) -> str:
    """Whole euros up to 100,000, then 123.4k and 1.23M (JSON keeps the exact figures)."""
    if x is None or not math.isfinite(x):
        return "–"
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.2f}M"
    if abs(x) >= 1e5:
        return f"{x / 1e3:,.1f}k"
    return f"{x:,.0f}"


def _fine(x: float | None) -> str:
    return pct(x, fine=True)


def _ci(ci: Any, f: Any) -> str:
    lo, hi = ci
    ok = all(x is not None and math.isfinite(x) for x in (lo, hi))
    return f"{f(lo)}–{f(hi)}" if ok else ""


def _write_chart(fig: Any, path: Path | None) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.write_html(path, include_plotlyjs=True, full_html=True)
        err.print(f"wrote {path}", highlight=False)


# --------------------------------------------------------------------------- value


def value_rows(result: ValueResult) -> list[dict[str, Any]]:
    """The value table as display rows: each estimate over its 95% interval (two lines)."""
    rows = []
    for r in result.rows:
        e = r.estimate
        keys = {b: escape(r.keys[b] or TOTAL_LABEL) for b in result.by}
        rows.append({
            **keys,
            "leads": f"{e.leads:,}", "won": f"{e.won:,}",
            "close rate\n95% CI": f"{_fine(e.close_rate)}\n{_ci(e.close_rate_ci, _fine)}",
            "shrunk": pct(r.shrunk_close_rate, fine=True),
            "avg revenue\n(median)": f"{_money(e.avg_revenue)}\n"
                                     f"({_money(e.median_revenue)})",
            "MQL value\n95% CI": f"{_money(e.mql_value)}\n{_ci(e.mql_value_ci, _money)}",
            "_level": r.level,
        })  # fmt: skip
    return rows


def print_value(result: ValueResult, out: Console) -> None:
    rows = value_rows(result)
    cols = [c for c in rows[0] if c != "_level"] if rows else []
    by = ", ".join(result.by) or "all leads"
    table = rich_table(f"MQL value by {by} (mature leads)", rows, cols)
    for c in table.columns[len(result.by) :]:
        c.justify = "right"
    for i, r in enumerate(rows):
        if r["_level"] != "group":
            table.rows[i].style = "bold"
        table.rows[i].end_section = True
    out.print(table)
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


def print_attribution(res: AttributionResult, out: Console) -> None:
    names = {
        "originated": "originated (first touch)",
        "influenced": "influenced (any touch)",
        "linear": "linear",
        "u_shaped": "U-shaped (40/20/40)",
        "time_decay": "time-decay (7-day half-life)",
        "last_touch": "last touch",
    }
    rows = [{"model": names[k], "marketing share": _fine(v)} for k, v in res.shares.items()]
    out.print(
        rich_table(
            f"Marketing's share of won revenue ({res.deals:,} won deals, "
            f"{_money(res.total_revenue)})",
            rows,
        )
    )
    out.print(
        "Originated and influenced are the SLA's commitments (influenced includes "
        "originated; never add them); the fractional models are for reporting.",
        highlight=False,
    )


def _attribution(ws: Workspace, lookback_days: float) -> AttributionResult:
    if not ws.has("touches"):
        raise ConfigError(
            f"{ws.source} has no touches table (lead_id, at, channel, team, "
            "campaign): attribution needs one touch row per marketing or sales "
            "contact. Add touches.csv, or give the shares to `leadsla plan`."
        )
    return marketing_attribution(
        ws.leads, ws.table("touches"), as_of=_as_of(ws), lookback_days=lookback_days
    )


@app.command()
def value(
    source: SourceArg,
    by: ByOpt = "campaign,segment",
    all_leads: AllLeadsOpt = False,
    maturity: MaturityOpt = "cohort",
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
) -> None:
    """MQL value table: close rate, mean revenue of won leads and MQL value per group."""
    mode = _maturity(maturity, all_leads)
    with open_source(
        source,
        mapping,
        option,
        time_zone=time_zone,
        encoding=encoding,
        as_of=as_of,
        no_cache=no_cache,
    ) as ws:
        print_warnings(ws)
        _check_by(by, ws)
        campaigns = ws.table("campaigns") if ws.has("campaigns") else None
        s = ws.settings
        result = mql_value_table(
            ws.leads, by=by, campaigns=campaigns, as_of=_as_of(ws),
            maturity_quantile=s.maturity_quantile, maturity=mode, draws=draws,
            seed=s.seed if seed is None else seed,
        )  # fmt: skip
        attr = _attribution(ws, lookback_days) if attribution else None
    _write_chart(result.figure(), chart)
    if format is Format.json:
        data = result.to_dict()
        if attr is not None:
            data["attribution"] = attr.to_dict()
        emit(to_json(data), out, console)
    elif format is Format.csv:
        emit(to_csv([r.to_dict() for r in result.rows]), out, console)
    else:
        target = Console(file=open(out, "w", encoding="utf-8"), width=200) if out else console
        try:
            print_value(result, target)
            if attr is not None:
                print_attribution(attr, target)
        finally:
            if out:
                target.file.close()
                err.print(f"wrote {out}", highlight=False)
    for w in result.warnings:
        err.print(f"[yellow]WARNING[/yellow] {escape(w)}", highlight=False)


@app.command("attribution")
def attribution_cmd(
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
    ) as ws:
        print_warnings(ws)
        res = _attribution(ws, lookback_days)
    if format is Format.json:
        emit(to_json(res.to_dict()), out, console)
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


# --------------------------------------------------------------------------- plan


def _segment_quotas(items: list[str] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(
                f'--segment-quota "{item}" must look like NAME=EUR (enterprise=250000).'
            )
        name, amount = item.split("=", 1)
        try:
            out[name.strip()] = float(amount.replace(",", "").replace("_", ""))
        except ValueError:
            raise UsageError(f'--segment-quota "{item}": "{amount}" is not an amount.') from None
    return out


def _amounts(text: str | None) -> list[float] | None:
    if not text:
        return None
    try:
        return [float(x.strip().replace("_", "")) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(
            f'--period-quotas "{text}" must be amounts separated by commas (400000,450000,500000).'
        ) from None


def plan_rows(result: SlaPlan) -> list[dict[str, Any]]:
    """One display row per segment plan, then the total (or the single overall plan)."""
    total = result.plan
    parts = [*total.by_segment, total] if total.by_segment else [total]
    rows = []
    for p in parts:
        name = TOTAL_LABEL if p is total and total.by_segment else escape(p.segment or "all")
        rows.append(
            {
                "segment": name,
                "quota": _money(p.quota),
                "originated": pct(p.originated_share, fine=True),
                "revenue responsibility": _money(p.revenue_responsibility),
                "MQL value": _money(p.mql_value),
                "MQLs required": f"{p.mqls_required:,}",
                "80% chance": fmt(p.risk_buffer_mqls),
                "pipeline needed": _money(p.pipeline_needed),
                "influenced": pct((p.influenced_commitment or {}).get("share"), fine=True),
            }
        )
    return rows


def _eur(x: float | None) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:,.0f}"


def print_plan(result: SlaPlan, out: Console) -> None:
    p = result.plan
    out.print(
        f"Marketing delivers [bold]{p.mqls_required:,} MQLs a {p.period}[/bold] "
        f"(worth {_eur(p.mql_value)} each on average): "
        f"{_eur(p.revenue_responsibility)} of marketing-originated revenue"
        + (f" out of a {_eur(p.quota)} quota" if p.quota is not None else "")
        + ".",
        highlight=False,
    )
    out.print(
        f"In euros, the same promise: Σ over campaigns of MQLs × MQL value ≥ "
        f"{_eur(p.revenue_responsibility)} a {p.period} (any campaign mix; campaign values: "
        "`leadsla value`).",
        highlight=False,
    )
    table = rich_table(f"SLA per {p.period}", plan_rows(result))
    for c in table.columns[1:]:
        c.justify = "right"
    out.print(table)
    if p.risk_buffer_mqls is not None:
        exact = ""
        if p.risk is not None:
            exact = (
                f"; exactly {p.mqls_required:,} meet it with "
                f"{p.risk['probability_at_mqls_required']:.0%}"
            )
        each = " (each segment its own 80%)" if p.by_segment else ""
        out.print(
            f"Risk buffer: {p.risk_buffer_mqls:,} MQLs meet the responsibility with an "
            f"80% chance{each}, wins being Binomial(MQLs, close rate){exact}.",
            highlight=False,
        )
    if p.influenced_commitment:
        ic = p.influenced_commitment
        out.print(
            f"Separate commitment: ≥ {ic['share']:.0%} of won revenue had a marketing "
            "touch (influenced; includes originated, never added to it).",
            highlight=False,
        )
    for s in result.segments:
        if s.funnel:
            f = s.funnel
            rates = " × ".join(f"{r:.0%}" for r in f["stage_rates"])
            out.print(
                f"{s.segment or 'Funnel'}: MQL value by funnel = {_money(f['mean_revenue'])}"
                f" × {rates} = {_money(f['mql_value'])}.",
                highlight=False,
            )
        if s.lag:
            pmf = s.lag["lag_pmf"]
            head = ", ".join(f"{i}: {x:.0%}" for i, x in enumerate(pmf[:6]))
            more = ", …" if len(pmf) > 6 else ""
            out.print(
                f"{s.segment or 'Lag'}: won MQLs close {head}{more} {p.period}s after "
                f"becoming MQLs; MQLs needed per {p.period}: "
                f"{', '.join(str(x) for x in s.lag['mqls_by_period_rounded'][:12])}.",
                highlight=False,
            )
    rows = []
    for name, entry in result.inputs.items():
        if isinstance(entry, dict) and "basis" in entry and entry["basis"]:
            rows.append(
                {
                    "input": name,
                    "value": fmt(entry["value"])
                    if not isinstance(entry["value"], list | dict)
                    else "by segment"
                    if isinstance(entry["value"], dict)
                    else "…",
                    "from": entry["basis"],
                }
            )
    for seg, entries in result.inputs.get("by_segment", {}).items():
        for name, entry in entries.items():
            if (
                entry["basis"]
                and entry["basis"] != "given"
                and not isinstance(entry["value"], list | dict)
            ):
                rows.append(
                    {
                        "input": escape(f"{seg}: {name}"),
                        "value": fmt(entry["value"]),
                        "from": entry["basis"],
                    }
                )
    if rows:
        out.print(rich_table("Where the numbers come from", rows))
    if "excluded" in result.inputs:
        ex = result.inputs["excluded"]
        out.print(
            f"Measured on {result.inputs['mature_leads']:,} mature leads; "
            f"{ex['total']:,} left out: {ex['why']}.",
            highlight=False,
        )


@app.command()
def plan(
    source: Annotated[
        str | None,
        typer.Argument(
            help="Optional data to measure MQL value, shares and lags on (a folder, "
            "file, DuckDB file or database URL)."
        ),
    ] = None,
    quota: QuotaOpt = None,
    period: PeriodOpt = None,
    segment_quota: SegmentQuotaOpt = None,
    period_quotas: Annotated[
        str | None,
        typer.Option(
            "--period-quotas",
            help="Quotas of the coming periods, comma-separated, for the lag spread.",
        ),
    ] = None,
    originated_share: OriginatedShareOpt = None,
    influenced_share: InfluencedShareOpt = None,
    mql_value: MqlValueOpt = None,
    close_rate: Annotated[
        float | None,
        typer.Option(
            "--close-rate",
            help="MQL close rate (0-1) for the risk buffer; default measured on SOURCE.",
        ),
    ] = None,
    mean_revenue: Annotated[
        float | None,
        typer.Option(
            "--mean-revenue", help="Mean revenue of a won lead (EUR); default measured on SOURCE."
        ),
    ] = None,
    stage_rate: Annotated[
        list[float] | None,
        typer.Option(
            "--stage-rate",
            help="Funnel stage conversion rate, MQL→SQL→…→won "
            "(repeatable, in order): MQL value = mean revenue × Π rates.",
        ),
    ] = None,
    win_rate_by_value: Annotated[
        float | None,
        typer.Option(
            "--win-rate-by-value",
            help="Opportunity win rate by value (0-1) for the "
            "pipeline needed; default the last stage rate or measured.",
        ),
    ] = None,
    attempts_per_lead: Annotated[
        float | None,
        typer.Option(
            "--attempts-per-lead",
            help="Expected contact attempts per MQL, A(N*), for the capacity check.",
        ),
    ] = None,
    team_hours: Annotated[
        float | None,
        typer.Option(
            "--team-hours",
            help="Sales hours per period available for MQLs, for the capacity check.",
        ),
    ] = None,
    maturity: MaturityOpt = "cohort",
    lookback_days: LookbackOpt = LOOKBACK_DAYS,
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
) -> None:
    """MQLs marketing must deliver per period (and segment) to carry its share of the quota."""
    mode = _maturity(maturity, False)
    seg_quotas = _segment_quotas(segment_quota)
    if period is not None and period not in ("month", "quarter"):
        raise UsageError(f'--period "{period}" must be month or quarter.')
    kwargs: dict[str, Any] = {
        "originated_share": originated_share, "influenced_share": influenced_share,
        "mql_value": mql_value, "close_rate": close_rate, "mean_revenue": mean_revenue,
        "stage_rates": stage_rate or None, "win_rate_by_value": win_rate_by_value,
        "quota_by_period": _amounts(period_quotas), "lookback_days": lookback_days,
        "expected_attempts_per_lead": attempts_per_lead, "team_hours": team_hours,
    }  # fmt: skip
    if source is None:
        s = load_settings(None)
        result = plan_sla(None, **_with_settings(kwargs, s, quota, period, seg_quotas, seed))
    else:
        with open_source(
            source,
            mapping,
            option,
            time_zone=time_zone,
            encoding=encoding,
            as_of=as_of,
            no_cache=no_cache,
        ) as ws:
            print_warnings(ws)
            s = ws.settings
            touches = ws.table("touches") if ws.has("touches") else None
            result = plan_sla(
                ws.leads, touches=touches, as_of=_as_of(ws), maturity=mode,
                maturity_quantile=s.maturity_quantile,
                **_with_settings(kwargs, s, quota, period, seg_quotas, seed),
            )  # fmt: skip
    _write_chart(result.figure(), chart)
    if format is Format.json:
        emit(to_json(result.to_dict()), out, console)
    elif format is Format.csv:
        recs = result.to_frame().to_dict(orient="records")
        emit(to_csv([{str(k): v for k, v in r.items()} for r in recs]), out, console)
    else:
        target = Console(file=open(out, "w", encoding="utf-8"), width=200) if out else console
        try:
            print_plan(result, target)
        finally:
            if out:
                target.file.close()
                err.print(f"wrote {out}", highlight=False)
    for w in result.to_dict()["warnings"]:
        err.print(f"[yellow]WARNING[/yellow] {escape(w)}", highlight=False)


def _with_settings(
    kwargs: dict[str, Any],
    s: Any,
    quota: float | None,
    period: str | None,
    seg_quotas: dict[str, float],
    seed: int | None,
) -> dict[str, Any]:
    """Flags win over ``leadsla.toml`` (quota, period, segment quotas, shares, seed)."""
    out = dict(kwargs)
    out["quota"] = quota if quota is not None else s.quota_eur
    out["period"] = period or s.quota_period
    out["quota_by_segment"] = seg_quotas or (dict(s.quota_by_segment) if quota is None else None)
    if out["originated_share"] is None:
        out["originated_share"] = s.originated_share
    if out["influenced_share"] is None:
        out["influenced_share"] = s.influenced_share
    out["seed"] = s.seed if seed is None else seed
    out["attempts_per_hour"] = s.attempts_per_hour
    return out


# --------------------------------------------------------------------------- sql


def _sql_app() -> typer.Typer:
    """The ``sql`` command group, shared by every command module that prints its SQL."""
    for g in app.registered_groups:
        if g.name == "sql" and isinstance(g.typer_instance, typer.Typer):
            return g.typer_instance
    group = typer.Typer(help="Print the SQL an analysis runs on the engine.", no_args_is_help=True)
    app.add_typer(group, name="sql")
    return group


sql_app = _sql_app()


@sql_app.command("value")
def sql_value(
    source: SourceArg,
    by: ByOpt = "campaign,segment",
    all_leads: AllLeadsOpt = False,
    maturity: MaturityOpt = "cohort",
    mapping: MappingOpt = None,
    option: OptionOpt = None,
    time_zone: TzOpt = None,
    encoding: EncodingOpt = None,
    as_of: AsOfOpt = None,
    out: OutOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Print the SQL `leadsla value` runs (the maturity query runs to fill in its literals)."""
    mode = _maturity(maturity, all_leads)
    with open_source(
        source,
        mapping,
        option,
        time_zone=time_zone,
        encoding=encoding,
        as_of=as_of,
        no_cache=no_cache,
    ) as ws:
        campaigns = ws.table("campaigns") if ws.has("campaigns") else None
        parts = value_sql(
            ws.leads,
            by=by,
            campaigns=campaigns,
            as_of=_as_of(ws),
            maturity_quantile=ws.settings.maturity_quantile,
            maturity=mode,
        )
    text = "\n\n".join(f"-- {title}\n{sql.rstrip()};" for title, sql in parts)
    emit(text + "\n", out, console)
