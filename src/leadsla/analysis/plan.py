"""The SLA in euros from the data (METHODS §2): ``plan_sla(...) -> SlaPlan``.

Per period (month or quarter) and segment: marketing's revenue responsibility
``R_M = quota × originated share``, the MQLs it must deliver ``N = ⌈R_M / v⌉`` and the euro
form of the same promise (``Σ n_c · v_c ≥ R_M`` over campaigns), the 80%-chance risk buffer,
the pipeline needed, the funnel option and the lag spread. The influenced share is its own
commitment, never added to the originated one.

Every input is either given or measured on the data (and the result says which):

- MQL value, close rate and mean revenue: :func:`leadsla.analysis.value.mql_value_table`
  (mature leads; per segment when the quota is per segment);
- originated share: from touches (first touch is marketing, :func:`attribution.attribute`)
  when there is a touches table, else from ``source`` (share of won revenue whose source is
  marketing); influenced share: from touches (any marketing touch);
- lag spread: the distribution of MQL→close lag of mature won leads, in periods.

``plan_sla(quota=400_000, originated_share=0.4, mql_value=1_600).mqls_required == 100``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from leadsla.analysis.attribution import LOOKBACK_DAYS, AttributionResult, attribute
from leadsla.analysis.planstats import (
    RISK_PROBABILITY,
    PlanResult,
    build_plan,
    combine_plans,
)
from leadsla.analysis.value import (
    MaturityRule,
    ValueResult,
    ValueRow,
    epoch_seconds,
    mql_value_table,
    resolve_as_of,
)
from leadsla.errors import ConfigError

if TYPE_CHECKING:
    pass

Period = Literal["month", "quarter"]
PERIOD_DAYS: dict[str, float] = {"month": 365.25 / 12, "quarter": 365.25 / 4}
#: Lags beyond this many periods are lumped into the last one.
MAX_LAG_PERIODS = 24
MARKETING = "marketing"


# --------------------------------------------------------------------------- result


@dataclass
class SlaPlan:
    """The planner's answer: the :class:`PlanResult` (total, with ``by_segment``) and where
    every input came from.

    ``to_dict()`` starts with the SPEC ``plan`` keys (``mqls_required``,
    ``revenue_responsibility``, ``mql_value``, ``period``, ``by_segment``), then the rest.
    """

    plan: PlanResult
    inputs: dict[str, Any]
    value: ValueResult | None = None
    attribution: AttributionResult | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def mqls_required(self) -> int:
        return self.plan.mqls_required

    @property
    def segments(self) -> list[PlanResult]:
        """One plan per segment (or the single overall plan)."""
        return self.plan.by_segment or [self.plan]

    def to_dict(self) -> dict[str, Any]:
        out = self.plan.to_dict()
        out["warnings"] = list(dict.fromkeys([*self.warnings, *out["warnings"]]))
        out["inputs"] = self.inputs
        if self.attribution is not None:
            out["attribution"] = self.attribution.to_dict()["shares"]
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per segment, and a total row when planning per segment."""
        parts = [*self.plan.by_segment, self.plan] if self.plan.by_segment else [self.plan]
        rows = []
        for p in parts:
            rows.append({
                "segment": p.segment if p is not self.plan or not self.plan.by_segment
                else "(total)",
                "period": p.period, "quota": p.quota, "originated_share": p.originated_share,
                "revenue_responsibility": p.revenue_responsibility, "mql_value": p.mql_value,
                "mqls_required": p.mqls_required, "risk_buffer_mqls": p.risk_buffer_mqls,
                "pipeline_needed": p.pipeline_needed,
                "influenced_share": (p.influenced_commitment or {}).get("share"),
            })  # fmt: skip
        return pd.DataFrame(rows)


# --------------------------------------------------------------------------- measured shares


def marketing_attribution(
    leads: ir.Table,
    touches: ir.Table,
    /,
    *,
    as_of: datetime | str | None = None,
    lookback_days: float = LOOKBACK_DAYS,
    segment: str | None = None,
) -> AttributionResult:
    """Marketing's share of won revenue per model from the touches of won leads.

    The engine joins touches to won leads with revenue (closed by ``as_of``) and keeps touches
    in ``[closed_at − lookback_days, closed_at]``; :func:`attribution.attribute` computes the
    shares. Won revenue without any touch in the window stays in the denominator with no
    marketing credit (the shares are scaled by touched ÷ all won revenue).
    """
    at = resolve_as_of(as_of)
    won = leads.filter((leads.status == "won") & leads.revenue.notnull() & (leads.revenue > 0))
    if at is not None:
        won = won.filter(won.closed_at <= ibis.literal(at, type="timestamp('UTC')"))
    if segment is not None:
        won = won.filter(won.segment == segment)
    total = won.aggregate(rev=won.revenue.sum(), n=won.lead_id.count()).execute().iloc[0]
    all_rev = float(total["rev"]) if pd.notna(total["rev"]) else 0.0
    j = touches.inner_join(won, touches.lead_id == won.lead_id)
    j = j.select(
        deal_id=won.lead_id, revenue=won.revenue, at=touches["at"], team=touches.team,
        channel=touches.channel.fill_null("unknown"), closed_at=won.closed_at,
    )  # fmt: skip
    j = j.filter(
        (j["at"] <= j.closed_at)
        & (j["at"] >= j.closed_at - ibis.interval(seconds=int(lookback_days * 86_400)))
    )
    df = j.order_by(["deal_id", "at"]).execute()
    if df.empty:
        shares = {
            m: (0.0 if all_rev > 0 else float("nan"))
            for m in ("originated", "influenced", "linear", "u_shaped", "time_decay", "last_touch")
        }
        return AttributionResult(
            shares, all_rev, int(total["n"]), 0, 0, pd.DataFrame().rename_axis("channel")
        )
    res = attribute(df, lookback_days=None)
    scale = res.total_revenue / all_rev if all_rev > 0 else float("nan")
    return dataclasses.replace(
        res,
        shares={k: v * scale for k, v in res.shares.items()},
        total_revenue=all_rev,
        deals=int(total["n"]),
    )


def _source_shares(leads: ir.Table, at: datetime | None) -> pd.DataFrame:
    """Per segment: won revenue, won revenue whose source is marketing, sources present."""
    won = leads.filter((leads.status == "won") & leads.revenue.notnull())
    if at is not None:
        won = won.filter(won.closed_at <= ibis.literal(at, type="timestamp('UTC')"))
    is_mk = won.source.lower().strip() == MARKETING
    return (
        won.group_by("segment")
        .aggregate(
            revenue=won.revenue.sum(),
            marketing=won.revenue.sum(where=is_mk),
            with_source=won.lead_id.count(where=won.source.notnull()),
        )
        .execute()
    )


def _win_rate_by_value(leads: ir.Table, at: datetime | None) -> pd.DataFrame:
    """Per segment: closed leads won and lost, by count and by amount (when lost ones have it)."""
    closed = leads.filter(leads.status.isin(["won", "lost"]))
    if at is not None:
        closed = closed.filter(closed.closed_at <= ibis.literal(at, type="timestamp('UTC')"))
    is_won, is_lost = closed.status == "won", closed.status == "lost"
    priced = closed.revenue > 0
    return (
        closed.group_by("segment")
        .aggregate(
            won_n=closed.count(where=is_won),
            lost_n=closed.count(where=is_lost),
            won=closed.revenue.sum(where=is_won & priced),
            lost=closed.revenue.sum(where=is_lost & priced),
            lost_priced=closed.count(where=is_lost & priced),
        )
        .execute()
    )


def lag_pmf(
    leads: ir.Table,
    /,
    *,
    period: Period = "month",
    as_of: datetime | str | None = None,
    cutoff: datetime | None = None,
    max_periods: int = MAX_LAG_PERIODS,
) -> pd.DataFrame:
    """Per segment, the MQL→close lag of won leads in whole periods: ``segment, lag, won``.

    Lag ``L = ⌊(closed_at − mql_at) / period⌋`` (a month is 365.25/12 days); lags of
    ``max_periods`` and more are lumped into ``max_periods``. With ``cutoff`` (the maturity
    cutoff of the value table) only leads created before it count: a recent cohort has only
    its fast wins yet, which would shorten the lags.
    """
    at = resolve_as_of(as_of)
    won = leads.filter((leads.status == "won") & leads.closed_at.notnull())
    if at is not None:
        won = won.filter(won.closed_at <= ibis.literal(at, type="timestamp('UTC')"))
    if cutoff is not None:
        won = won.filter(won.created_at < ibis.literal(cutoff, type="timestamp('UTC')"))
    seconds = epoch_seconds(won.closed_at) - epoch_seconds(won.mql_at)
    lag = (seconds / (PERIOD_DAYS[period] * 86_400)).floor().clip(lower=0, upper=max_periods)
    t = won.mutate(lag=lag.cast("int64"))
    return t.group_by(["segment", "lag"]).aggregate(won=t.lead_id.count()).execute()


def _pmf(df: pd.DataFrame, segment: str | None) -> list[float] | None:
    part = df if segment is None else df[df["segment"] == segment]
    if part.empty or part["won"].sum() == 0:
        return None
    counts = part.groupby("lag")["won"].sum()
    arr = np.zeros(int(counts.index.max()) + 1)
    arr[counts.index.to_numpy(dtype=int)] = counts.to_numpy(dtype=float)
    return list(arr / arr.sum())


# --------------------------------------------------------------------------- the plan


def plan_sla(
    leads: ir.Table | None = None,
    /,
    *,
    quota: float | None = None,
    quota_by_segment: Mapping[str, float] | None = None,
    period: Period = "month",
    originated_share: float | None = None,
    influenced_share: float | None = None,
    mql_value: float | None = None,
    close_rate: float | None = None,
    mean_revenue: float | None = None,
    stage_rates: Sequence[float] | None = None,
    win_rate_by_value: float | None = None,
    quota_by_period: Sequence[float] | None = None,
    touches: ir.Table | None = None,
    as_of: datetime | str | None = None,
    maturity_quantile: float = 0.9,
    maturity: MaturityRule = "cohort",
    seed: int = 0,
    draws: int = 10_000,
    lookback_days: float = LOOKBACK_DAYS,
    risk_probability: float = RISK_PROBABILITY,
    lag: bool = True,
    expected_attempts_per_lead: float | None = None,
    attempts_per_hour: float | None = None,
    team_hours: float | None = None,
    value: ValueResult | None = None,
) -> SlaPlan:
    """MQLs marketing must deliver per period (and segment), from given numbers or the data.

    ``quota`` is per ``period`` (or ``quota_by_segment``: segment → quota, which wins; or
    ``quota_by_period``: the quotas of the coming periods, for the lag spread). Without
    ``leads`` every number must be given (``mql_value`` and ``originated_share``; add
    ``close_rate`` for the risk buffer). With ``leads`` the missing ones are measured:
    MQL value, close rate and mean revenue of mature leads per segment, originated and
    influenced shares from ``touches`` (else originated from ``source``), the lag pmf.
    A given ``mql_value`` wins over the data; the risk buffer then uses the data's close
    rate and the mean revenue ``v / p`` that value implies. ``value``: a value table of
    ``leads`` by campaign and segment already computed (it is not computed again).

    Example: ``plan_sla(quota=400_000, originated_share=0.4, mql_value=1_600)`` → 100 MQLs.
    """
    if period not in PERIOD_DAYS:
        raise ConfigError(f'period "{period}" must be month or quarter.')
    quotas: dict[str | None, float]
    if quota_by_segment:
        quotas = {str(k): float(v) for k, v in quota_by_segment.items()}
        if quota_by_period:
            raise ConfigError(
                "quotas by period apply to the overall quota; drop the segment "
                "quotas or the period quotas."
            )
    elif quota_by_period:
        quotas = {None: float(quota if quota is not None else quota_by_period[0])}
    elif quota is not None:
        quotas = {None: float(quota)}
    else:
        raise ConfigError(
            "no quota: give --quota EUR (per period) or quotas per segment "
            "(--segment-quota NAME=EUR, or quota_by_segment in leadsla.toml)."
        )
    for name, q in quotas.items():
        if not (math.isfinite(q) and q >= 0):
            raise ConfigError(
                f"quota{' of ' + name if name else ''} must be a non-negative amount, got {q!r}."
            )
    warnings: list[str] = []
    if quota_by_segment and quota is not None:
        warnings.append(
            f"the quota {quota:,.0f} is replaced by the segment quotas (sum "
            f"{sum(quotas.values()):,.0f})"
        )
    if stage_rates is not None and win_rate_by_value is None and stage_rates:
        win_rate_by_value = float(stage_rates[-1])
        win_basis = "given (the last stage rate)"
    else:
        win_basis = "given"
    at = resolve_as_of(as_of)

    attr: dict[str | None, AttributionResult] = {}
    src: pd.DataFrame | None = None
    lags: pd.DataFrame | None = None
    wrv: pd.DataFrame | None = None
    if leads is not None and value is None:
        value = mql_value_table(
            leads,
            by=("campaign", "segment"),
            as_of=at,
            maturity_quantile=maturity_quantile,
            maturity=maturity,
            seed=seed,
            draws=draws,
        )
    if leads is not None and value is not None:
        if "segment" not in value.by:
            raise ConfigError("plan_sla(value=…) needs a value table grouped by segment.")
        at = value.maturity.as_of
        if touches is not None and (originated_share is None or influenced_share is None):
            for seg in quotas:
                attr[seg] = marketing_attribution(
                    leads, touches, as_of=at, lookback_days=lookback_days, segment=seg
                )
            if None not in attr:
                attr[None] = marketing_attribution(
                    leads, touches, as_of=at, lookback_days=lookback_days
                )
        elif originated_share is None:
            src = _source_shares(leads, at)
        if lag:
            lags = lag_pmf(leads, period=period, as_of=at, cutoff=value.maturity.cutoff)
        if win_rate_by_value is None:
            wrv = _win_rate_by_value(leads, at)

    inputs: dict[str, Any] = {"quota": {"value": dict(quotas) if quota_by_segment else
                                        quotas[None], "basis": "given"}}  # fmt: skip
    parts: list[PlanResult] = []
    for seg, q in quotas.items():
        row = _value_row(value, seg) if value is not None else None
        notes: dict[str, Any] = {}
        p, rbar, v = close_rate, mean_revenue, mql_value
        notes["close_rate"] = "given" if p is not None else None
        notes["mean_revenue"] = "given" if rbar is not None else None
        notes["mql_value"] = "given" if v is not None else None
        if row is not None:
            if p is None and row.estimate.leads > 0:
                p, notes["close_rate"] = row.estimate.close_rate, "measured (mature leads)"
            if rbar is None and math.isfinite(row.estimate.avg_revenue):
                rbar, notes["mean_revenue"] = row.estimate.avg_revenue, "measured (won leads)"
            if v is None and stage_rates is None:
                if not math.isfinite(row.estimate.mql_value) or row.estimate.mql_value <= 0:
                    raise ConfigError(
                        f"{row.label}: the data gives no MQL value ({row.estimate.won} won of "
                        f"{row.estimate.leads} mature leads, {row.won_with_revenue} with a "
                        "revenue). Give --mql-value EUR, or fill the revenue of won leads."
                    )
                v, notes["mql_value"] = row.estimate.mql_value, "measured (value table)"
        if v is None and stage_rates is not None:
            if rbar is None:
                raise ConfigError(
                    "the funnel option needs the mean revenue of won leads: give "
                    "--mean-revenue EUR or a SOURCE."
                )
            notes["mql_value"] = "funnel (mean revenue × stage rates)"
        elif v is None and p is not None and rbar is not None:
            v, notes["mql_value"] = p * rbar, "close rate × mean revenue (given)"
        elif v is None:
            raise ConfigError(
                "no MQL value: give --mql-value EUR, or a SOURCE to measure it "
                "on (or --close-rate and --mean-revenue)."
            )
        risk_rbar = rbar
        if (
            v is not None
            and notes["mql_value"] == "given"
            and notes["mean_revenue"] != "given"
            and p is not None
            and p > 0
        ):
            risk_rbar = v / p
            notes["mean_revenue"] = "implied by the given MQL value ÷ close rate"
        share, share_basis = _originated(originated_share, seg, attr, src)
        infl, infl_basis = influenced_share, "given" if influenced_share is not None else None
        if infl is None and seg in attr and math.isfinite(attr[seg].shares["influenced"]):
            infl, infl_basis = attr[seg].shares["influenced"], "measured from touches"
        wr, wr_basis = win_rate_by_value, win_basis if win_rate_by_value is not None else None
        if wr is None and wrv is not None:
            wr, wr_basis = _measured_win_rate(wrv, seg)
        pmf = _pmf(lags, seg) if lags is not None else None
        if pmf is None and lags is not None:
            pmf = _pmf(lags, None)
        rev_by_period = [x * share for x in quota_by_period] if quota_by_period else None
        part = build_plan(
            q, share, v, period=period, segment=seg, close_rate=p if p else None,
            mean_revenue=risk_rbar, risk_probability=risk_probability,
            influenced_share=infl, stage_rates=stage_rates, win_rate_by_value=wr,
            revenue_by_period=rev_by_period, lag_pmf=pmf,
            expected_attempts_per_lead=expected_attempts_per_lead,
            attempts_per_hour=attempts_per_hour, team_hours=team_hours,
        )  # fmt: skip
        if value is not None:
            part.euro_promise["campaign_values"] = _campaign_values(value, seg)
        parts.append(part)
        entry = {
            "originated_share": {"value": share, "basis": share_basis},
            "influenced_share": {"value": infl, "basis": infl_basis},
            "mql_value": {"value": part.mql_value, "basis": notes["mql_value"]},
            "close_rate": {"value": p, "basis": notes["close_rate"]},
            "mean_revenue": {"value": risk_rbar, "basis": notes["mean_revenue"]},
            "win_rate_by_value": {"value": wr, "basis": wr_basis},
            "lag_pmf": {"value": pmf, "basis": "measured (MQL→close lag of won leads, in "
                        f"{period}s)" if pmf else None},
        }  # fmt: skip
        if seg is None:
            inputs |= entry
        else:
            inputs.setdefault("by_segment", {})[seg] = entry

    if len(parts) == 1 and parts[0].segment is None:
        total = parts[0]
    else:
        total = combine_plans(parts, period=period)
        total.originated_share = (total.revenue_responsibility / total.quota
                                  if total.quota else None)  # fmt: skip
        infl_parts = [p.influenced_commitment for p in parts]
        if all(c is not None for c in infl_parts) and total.quota:
            won_touched = sum(c["won_revenue_with_marketing_touch"] for c in infl_parts if c)
            total.influenced_commitment = {
                "share": won_touched / total.quota,
                "won_revenue_with_marketing_touch": won_touched,
                "rule": "share of won revenue with a marketing touch; separate from, and "
                        "including, the originated share",
            }  # fmt: skip
    if value is not None:
        inputs["as_of"] = value.maturity.as_of.isoformat()
        inputs["mature_leads"] = value.maturity.mature_leads
        inputs["excluded"] = value.maturity.excluded()
    return SlaPlan(total, inputs, value, attr.get(None), warnings)


def _value_row(value: ValueResult, segment: str | None) -> ValueRow:
    if segment is None:
        return value.overall
    level = "group" if value.by == ("segment",) else "segment total"
    for r in value.rows:
        if r.level == level and r.keys.get("segment") == segment:
            return r
    have = sorted({str(r.keys.get("segment")) for r in value.rows if r.level == level})
    raise ConfigError(
        f'segment "{segment}" is not in the data; its segments are {", ".join(have)}.'
    )


def _campaign_values(value: ValueResult, segment: str | None) -> list[dict[str, Any]]:
    """The MQL value of each campaign (in the segment): the terms of ``Σ n_c · v_c ≥ R_M``."""
    if "campaign" not in value.by:
        return []
    out = []
    for r in value.groups:
        if segment is not None and r.keys.get("segment") != segment:
            continue
        if not math.isfinite(r.estimate.mql_value):
            continue
        d = r.to_dict()
        out.append({k: d.get(k) for k in ("campaign", "segment", "leads", "mql_value",
                                      "mql_value_ci")})  # fmt: skip
    if segment is None:  # one value per campaign over all segments would need another table
        return [d for d in out if d["segment"] is not None]
    return out


def _originated(
    given: float | None,
    segment: str | None,
    attr: dict[str | None, AttributionResult],
    src: pd.DataFrame | None,
) -> tuple[float, str]:
    if given is not None:
        return given, "given"
    if segment in attr:
        s = attr[segment].shares["originated"]
        if math.isfinite(s):
            return s, "measured from touches (first touch is marketing)"
    if src is not None:
        part = src if segment is None else src[src["segment"] == segment]
        rev = float(part["revenue"].fillna(0).sum())
        if rev > 0 and int(part["with_source"].sum()) > 0:
            return (
                float(part["marketing"].fillna(0).sum()) / rev,
                "measured from source (won revenue whose source is marketing)",
            )
    raise ConfigError(
        "cannot measure the originated share: the data has no touches table and "
        "its won leads have no source (or no revenue). Give --originated-share "
        "(e.g. 0.4)."
    )


def _measured_win_rate(df: pd.DataFrame, segment: str | None) -> tuple[float | None, str | None]:
    """Win rate by value of closed leads; by count when lost leads carry no amount."""
    part = df if segment is None else df[df["segment"] == segment]
    won, lost = float(part["won"].fillna(0).sum()), float(part["lost"].fillna(0).sum())
    if int(part["lost_priced"].sum()) > 0 and won > 0:
        return won / (won + lost), "measured (won ÷ won + lost amount of closed leads)"
    won_n, lost_n = int(part["won_n"].sum()), int(part["lost_n"].sum())
    if won_n > 0 and lost_n > 0:
        return won_n / (won_n + lost_n), (
            "measured by count (won ÷ closed leads; lost ones carry no amount, so they are "
            "taken as the size of won ones)"
        )
    return None, None  # no lost leads: nothing to measure a win rate on
