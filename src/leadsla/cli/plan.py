"""``leadsla plan``: the MQLs marketing must deliver per period (and segment)."""

from __future__ import annotations

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
    write_chart,
)
from leadsla.cli.options import (
    LOOKBACK_DAYS,
    AsOfOpt,
    ChartOpt,
    EncodingOpt,
    FormatOpt,
    InfluencedShareOpt,
    LookbackOpt,
    MappingOpt,
    MaturityOpt,
    MqlValueOpt,
    NoCacheOpt,
    OptionOpt,
    OriginatedShareOpt,
    OutOpt,
    PeriodOpt,
    QuotaOpt,
    SchemaOpt,
    SeedOpt,
    SegmentQuotaOpt,
    TzOpt,
    check_period,
    maturity_mode,
    segment_quotas,
)
from leadsla.errors import UsageError
from leadsla.render.output import Format, emit, rich_table, to_csv, to_json
from leadsla.text import money, number, pct

if TYPE_CHECKING:
    from leadsla.analysis.plan import SlaPlan


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
    from leadsla.analysis.value import TOTAL_LABEL

    total = result.plan
    parts = [*total.by_segment, total] if total.by_segment else [total]
    rows = []
    for p in parts:
        name = TOTAL_LABEL if p is total and total.by_segment else escape(p.segment or "all")
        rows.append(
            {
                "segment": name,
                "quota": money(p.quota),
                "originated": pct(p.originated_share, fine=True),
                "revenue responsibility": money(p.revenue_responsibility),
                "MQL value": money(p.mql_value),
                "MQLs required": f"{p.mqls_required:,}",
                "80% chance": number(p.risk_buffer_mqls),
                "pipeline needed": money(p.pipeline_needed),
                "influenced": pct((p.influenced_commitment or {}).get("share"), fine=True),
            }
        )
    return rows


def _whole(x: float | None) -> str:
    return money(x, exact=True)


def print_plan(result: SlaPlan, out: Console) -> None:
    p = result.plan
    out.print(
        f"Marketing delivers [bold]{p.mqls_required:,} MQLs a {p.period}[/bold] "
        f"(worth {_whole(p.mql_value)} each on average): "
        f"{_whole(p.revenue_responsibility)} of marketing-originated revenue"
        + (f" out of a {_whole(p.quota)} quota" if p.quota is not None else "")
        + ".",
        highlight=False,
    )
    out.print(
        f"In euros, the same promise: Σ over campaigns of MQLs × MQL value ≥ "
        f"{_whole(p.revenue_responsibility)} a {p.period} (any campaign mix; campaign values: "
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
                f"{s.segment or 'Funnel'}: MQL value by funnel = {money(f['mean_revenue'])}"
                f" × {rates} = {money(f['mql_value'])}.",
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
                    "value": number(entry["value"])
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
                        "value": number(entry["value"]),
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
    schema: SchemaOpt = None,
) -> None:
    """MQLs marketing must deliver per period (and segment) to carry its share of the quota."""
    mode = maturity_mode(maturity, False)
    seg_quotas = segment_quotas(segment_quota)
    check_period(period)
    kwargs: dict[str, Any] = {
        "originated_share": originated_share, "influenced_share": influenced_share,
        "mql_value": mql_value, "close_rate": close_rate, "mean_revenue": mean_revenue,
        "stage_rates": stage_rate or None, "win_rate_by_value": win_rate_by_value,
        "quota_by_period": _amounts(period_quotas), "lookback_days": lookback_days,
        "expected_attempts_per_lead": attempts_per_lead, "team_hours": team_hours,
    }  # fmt: skip
    if source is None:
        from leadsla.analysis.plan import plan_sla
        from leadsla.settings import load_settings

        stamp_ws = None  # no source: no data, so no as-of to report
        s = load_settings(None)
        result = plan_sla(None, **_with_settings(kwargs, s, quota, period, seg_quotas, seed))
    else:
        from leadsla.analysis.plan import plan_sla

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
            stamp_ws = ws
            print_warnings(ws)
            s = ws.settings
            touches = ws.table("touches") if ws.has("touches") else None
            result = plan_sla(
                ws.leads, touches=touches, as_of=ws.as_of, maturity=mode,
                maturity_quantile=s.maturity_quantile,
                **_with_settings(kwargs, s, quota, period, seg_quotas, seed),
            )  # fmt: skip
    if chart is not None:
        from leadsla.render.charts import figure

        write_chart(figure(result), chart)
    if format is Format.json:
        data = result.to_dict()
        emit(to_json(stamped(stamp_ws, data) if stamp_ws else data), out, console)
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
