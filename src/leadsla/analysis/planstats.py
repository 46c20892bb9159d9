"""The SLA in euros (METHODS §2): how many MQLs marketing must deliver, with what margin.

Pure functions on a handful of numbers; :func:`build_plan` assembles them into a
:class:`PlanResult` whose ``to_dict()`` carries the SPEC ``plan`` keys.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from leadsla.errors import ConfigError

RISK_PROBABILITY = 0.8
# Ratios such as 400,000 × 0.4 / 1,600 land a hair above an integer in floating point; round
# to this many decimals before taking the ceiling so 100.00000000000001 MQLs stays 100.
_CEIL_DECIMALS = 9


def _ceil(x: float) -> int:
    return math.ceil(round(x, _CEIL_DECIMALS))


#: The command-line flag of each parameter a user gives (named in the error messages).
FLAGS = {
    "originated_share": "--originated-share", "influenced_share": "--influenced-share",
    "mql_value": "--mql-value", "mean_revenue": "--mean-revenue", "close_rate": "--close-rate",
    "win_rate_by_value": "--win-rate-by-value", "stage_rates": "--stage-rate",
    "quota": "--quota", "attempts_per_hour": "--attempts-per-hour",
    "expected_attempts_per_lead": "--attempts-per-lead", "team_hours": "--team-hours",
}  # fmt: skip


def _named(name: str) -> str:
    flag = FLAGS.get(name.split("[")[0])
    return f"{name} ({flag})" if flag else name


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, int | float) else repr(x)


def _check_rate(name: str, x: float, *, open_low: bool = False) -> None:
    """A user's share or rate: a :class:`ConfigError` (a ``ValueError``) naming the fix."""
    ok = (0.0 < x <= 1.0) if open_low else (0.0 <= x <= 1.0)
    if not (math.isfinite(x) and ok):
        bound = "above 0 and at most 1" if open_low else "between 0 and 1"
        raise ConfigError(
            f"{_named(name)} is {_num(x)}: it must be a rate {bound}. Write a share as a "
            "fraction: 0.4 for 40%."
        )


def _check_positive(name: str, x: float) -> None:
    if not (math.isfinite(x) and x > 0):
        raise ConfigError(
            f"{_named(name)} is {_num(x)}: it must be a positive number. Give an amount above "
            "0, or leave it out to measure it on the data."
        )


# --------------------------------------------------------------------------- requirement


class MqlRequirement(NamedTuple):
    """MQLs to deliver and the revenue responsibility they stand for."""

    mqls_required: int
    revenue_responsibility: float


def revenue_responsibility(quota: float, originated_share: float) -> float:
    """Marketing's revenue responsibility ``R_M = quota × originated_share``."""
    if not (math.isfinite(quota) and quota >= 0):
        raise ConfigError(
            f"{_named('quota')} is {_num(quota)}: it must be a non-negative amount. Give the "
            "sales quota per period in the workspace currency (e.g. 400000)."
        )
    _check_rate("originated_share", originated_share)
    return quota * originated_share


def mqls_required(quota: float, originated_share: float, mql_value: float) -> MqlRequirement:
    """MQLs marketing must deliver, ``N = ⌈quota × originated_share / v⌉``, and ``R_M``.

    >>> mqls_required(400_000, 0.40, 1_600)
    MqlRequirement(mqls_required=100, revenue_responsibility=160000.0)
    """
    r_m = revenue_responsibility(quota, originated_share)
    _check_positive("mql_value", mql_value)
    return MqlRequirement(_ceil(r_m / mql_value), r_m)


def wins_needed(revenue_resp: float, mean_revenue: float) -> int:
    """Won deals that cover the responsibility, ``⌈R_M / R̄⌉`` (160,000 / 20,000 → 8)."""
    _check_positive("mean_revenue", mean_revenue)
    if not (math.isfinite(revenue_resp) and revenue_resp >= 0):
        raise ValueError(f"revenue responsibility must be >= 0, got {revenue_resp!r}")
    return _ceil(revenue_resp / mean_revenue)


# --------------------------------------------------------------------------- risk buffer


def prob_at_least(mqls: npt.ArrayLike, p: float, wins: int) -> Any:
    """``P(Binomial(N, p) ≥ wins)`` (vectorised over N); 400 MQLs, p = 2%, 8 wins → 54.8%."""
    _check_rate("p", p)
    if wins <= 0:
        return np.ones_like(np.asarray(mqls, dtype=np.float64))[()]
    from scipy import stats  # 0.6 s of imports, paid by the functions that need it

    return stats.binom.sf(wins - 1, mqls, p)


def risk_buffer(p: float, wins_needed: int, prob: float = RISK_PROBABILITY) -> int:
    """Smallest ``N`` with ``P(Binomial(N, p) ≥ wins_needed) ≥ prob``.

    The probability rises with N, so: double an upper bound from ``wins / p``, then bisect
    (O(log N) calls of ``binom.sf``, fast for any N). Example: p = 2%, 8 wins, 80% → 511
    (510 MQLs give 79.9992%; METHODS rounds this to "520").
    """
    _check_rate("p", p, open_low=True)
    if not 0.0 < prob < 1.0:
        raise ValueError(f"prob must be between 0 and 1, got {prob!r}")
    if wins_needed <= 0:
        return 0
    from scipy import stats

    def ok(n: int) -> bool:
        return bool(stats.binom.sf(wins_needed - 1, n, p) >= prob)

    lo = wins_needed - 1  # P = 0 below `wins_needed` trials: never enough
    hi = max(wins_needed, math.ceil(wins_needed / p))
    while not ok(hi):
        lo, hi = hi, 2 * hi
    while hi - lo > 1:  # invariant: not ok(lo), ok(hi)
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


# --------------------------------------------------------------------------- funnel, lag


def funnel_value(mean_revenue: float, stage_rates: Sequence[float]) -> float:
    """MQL value through a funnel, ``v = R̄ · Π stage rates`` (160,000 × .25 × .4 × .1 = 1,600)."""
    for i, r in enumerate(stage_rates):
        _check_rate(f"stage_rates[{i}]", r)
    return float(mean_revenue * math.prod(stage_rates))


def pipeline_needed(revenue_resp: float, win_rate_by_value: float) -> float:
    """Opportunity value to open, ``R_M / win rate by value`` (160,000 / 0.25 = 640,000)."""
    _check_rate("win_rate_by_value", win_rate_by_value, open_low=True)
    return float(revenue_resp / win_rate_by_value)


def lagged_requirements(
    revenue_by_period: npt.ArrayLike, lag_pmf: npt.ArrayLike, mql_value: float
) -> npt.NDArray[np.float64]:
    """MQLs needed in each period when won MQLs close ``L`` periods later with prob. ``f_L``.

    ``N(t) = Σ_L f_L · R_M(t+L) / v`` for ``L = 0..Lmax``. ``lag_pmf`` is normalised to sum 1
    (the lag distribution of won MQLs). Periods beyond the horizon repeat the last given
    ``R_M`` (the plan is assumed to continue at its last rate). Returns unrounded MQLs per
    period; round up for display.

    Example: ``R_M`` = 160k, 200k; f = 0.5, 0.5; v = 1,600 → 112.5, 125.
    """
    r = np.asarray(revenue_by_period, dtype=np.float64).ravel()
    f = np.asarray(lag_pmf, dtype=np.float64).ravel()
    _check_positive("mql_value", mql_value)
    if r.size == 0:
        return np.zeros(0)
    if np.any(~np.isfinite(r)) or np.any(r < 0):
        raise ValueError("revenue_by_period must hold non-negative amounts")
    if f.size == 0 or np.any(~np.isfinite(f)) or np.any(f < 0) or f.sum() <= 0:
        raise ValueError("lag_pmf must hold non-negative probabilities with a positive sum")
    f = f / f.sum()
    t, lmax = r.size, f.size - 1
    extended = np.concatenate([r, np.full(lmax, r[-1])])
    # windows[t, L] = R_M(t + L)
    windows = np.lib.stride_tricks.sliding_window_view(extended, lmax + 1)[:t]
    return np.asarray(windows @ f / mql_value, dtype=np.float64)


# --------------------------------------------------------------------------- capacity


class CapacityCheck(NamedTuple):
    """Sales hours the MQLs need, whether the team's hours cover them, and a sentence."""

    hours_needed: float
    fits: bool
    message: str


def capacity_check(
    mqls: float, expected_attempts_per_lead: float, attempts_per_hour: float, team_hours: float
) -> CapacityCheck:
    """Hours = MQLs × A(N*) ÷ attempts per hour; it fits when hours ≤ the team's hours.

    >>> capacity_check(100, 3.5, 6, 80).fits
    True
    """
    _check_positive("attempts_per_hour", attempts_per_hour)
    for name, x in (("expected_attempts_per_lead", expected_attempts_per_lead),
                    ("team_hours", team_hours), ("mqls", mqls)):  # fmt: skip
        if not (math.isfinite(x) and x >= 0):
            raise ConfigError(f"{_named(name)} is {_num(x)}: it must be 0 or more.")
    hours = mqls * expected_attempts_per_lead / attempts_per_hour
    fits = hours <= team_hours
    if fits:
        msg = (
            f"{mqls:,.0f} MQLs × {expected_attempts_per_lead:.1f} attempts ÷ "
            f"{attempts_per_hour:g}/h = {hours:,.0f} h, within the team's {team_hours:,.0f} h"
        )
    else:
        short = hours - team_hours
        msg = (
            f"{mqls:,.0f} MQLs × {expected_attempts_per_lead:.1f} attempts ÷ "
            f"{attempts_per_hour:g}/h = {hours:,.0f} h, more than the team's "
            f"{team_hours:,.0f} h ({short:,.0f} h short): add capacity, lower the attempts "
            "per lead, or deliver fewer, higher-value MQLs"
        )
    return CapacityCheck(float(hours), bool(fits), msg)


# --------------------------------------------------------------------------- plan


def _json(x: Any) -> Any:
    """numpy scalars/arrays and tuples to plain JSON values; nan/inf → None."""
    if isinstance(x, dict):
        return {str(k): _json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_json(v) for v in x.tolist()]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x


@dataclass
class PlanResult:
    """The planner's answer for one period (and segment, or the total over ``by_segment``).

    ``influenced_commitment`` is a separate promise ("≥ x% of won revenue had a marketing
    touch"); it is never added to the originated responsibility.
    """

    period: str
    mqls_required: int
    revenue_responsibility: float
    mql_value: float
    segment: str | None = None
    quota: float | None = None
    originated_share: float | None = None
    euro_promise: dict[str, Any] = field(default_factory=dict)
    risk_buffer_mqls: int | None = None
    risk: dict[str, Any] | None = None
    influenced_commitment: dict[str, Any] | None = None
    pipeline_needed: float | None = None
    funnel: dict[str, Any] | None = None
    lag: dict[str, Any] | None = None
    capacity: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    by_segment: list[PlanResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: SPEC keys ``mqls_required, revenue_responsibility, mql_value,
        period, by_segment`` first, then the rest."""
        out: dict[str, Any] = {
            "mqls_required": self.mqls_required,
            "revenue_responsibility": self.revenue_responsibility,
            "mql_value": self.mql_value,
            "period": self.period,
            "by_segment": [s.to_dict() for s in self.by_segment],
            "segment": self.segment,
            "quota": self.quota,
            "originated_share": self.originated_share,
            "euro_promise": self.euro_promise,
            "risk_buffer_mqls": self.risk_buffer_mqls,
            "risk": self.risk,
            "influenced_commitment": self.influenced_commitment,
            "pipeline_needed": self.pipeline_needed,
            "funnel": self.funnel,
            "lag": self.lag,
            "capacity": self.capacity,
            "warnings": list(self.warnings),
        }
        return {k: _json(v) if k != "by_segment" else v for k, v in out.items()}


def _euro_promise(r_m: float) -> dict[str, Any]:
    return {
        "mql_value_to_deliver": r_m,
        "rule": "sum over campaigns of MQLs × MQL value >= revenue responsibility",
    }


def build_plan(
    quota: float,
    originated_share: float,
    mql_value: float | None = None,
    *,
    period: str = "month",
    segment: str | None = None,
    close_rate: float | None = None,
    mean_revenue: float | None = None,
    risk_probability: float = RISK_PROBABILITY,
    influenced_share: float | None = None,
    stage_rates: Sequence[float] | None = None,
    win_rate_by_value: float | None = None,
    revenue_by_period: Sequence[float] | None = None,
    lag_pmf: Sequence[float] | None = None,
    expected_attempts_per_lead: float | None = None,
    attempts_per_hour: float | None = None,
    team_hours: float | None = None,
) -> PlanResult:
    """Assemble a plan for one period/segment; each optional part appears when its inputs do.

    ``mql_value`` defaults to ``funnel_value(mean_revenue, stage_rates)`` or else
    ``close_rate × mean_revenue``. Risk buffer needs ``close_rate`` and ``mean_revenue``; the
    lag spread needs ``lag_pmf`` (and ``revenue_by_period``, default ``[R_M]``); the capacity
    check needs the three capacity numbers.

    Example: ``build_plan(400_000, 0.4, 1_600).mqls_required == 100``.
    """
    warnings: list[str] = []
    funnel: dict[str, Any] | None = None
    if close_rate is not None:
        _check_rate("close_rate", close_rate)
    if mean_revenue is not None:
        _check_positive("mean_revenue", mean_revenue)
    if stage_rates is not None and mean_revenue is not None:
        fv = funnel_value(mean_revenue, stage_rates)
        funnel = {"stage_rates": list(stage_rates), "mean_revenue": mean_revenue, "mql_value": fv}
    if mql_value is None:
        if funnel is not None:
            mql_value = funnel["mql_value"]
        elif close_rate is not None and mean_revenue is not None:
            mql_value = close_rate * mean_revenue
        else:
            raise ValueError(
                "no MQL value: pass mql_value, or close_rate and mean_revenue, or "
                "mean_revenue and stage_rates"
            )
    assert mql_value is not None
    req = mqls_required(quota, originated_share, mql_value)
    r_m = req.revenue_responsibility

    buffer: int | None = None
    risk: dict[str, Any] | None = None
    if close_rate is not None and mean_revenue is not None and close_rate > 0:
        w = wins_needed(r_m, mean_revenue)
        buffer = risk_buffer(close_rate, w, risk_probability)
        p_req = float(prob_at_least(req.mqls_required, close_rate, w))
        risk = {
            "probability_target": risk_probability,
            "close_rate": close_rate,
            "wins_needed": w,
            "probability_at_mqls_required": p_req,
        }
        if p_req < 0.5:
            warnings.append(
                f"delivering exactly {req.mqls_required} MQLs meets the responsibility with "
                f"only {p_req:.0%} probability; {buffer} MQLs give {risk_probability:.0%}"
            )

    influenced: dict[str, Any] | None = None
    if influenced_share is not None:
        _check_rate("influenced_share", influenced_share)
        influenced = {
            "share": influenced_share,
            "won_revenue_with_marketing_touch": quota * influenced_share,
            "rule": "share of won revenue with a marketing touch; separate from, and "
            "including, the originated share",
        }
        if influenced_share < originated_share:
            warnings.append(
                f"influenced share {influenced_share:.0%} is below the originated share "
                f"{originated_share:.0%}; influenced includes originated, so it cannot be lower"
            )

    pipeline = pipeline_needed(r_m, win_rate_by_value) if win_rate_by_value is not None else None

    lag: dict[str, Any] | None = None
    if lag_pmf is not None:
        rev = list(revenue_by_period) if revenue_by_period is not None else [r_m]
        need = lagged_requirements(rev, lag_pmf, mql_value)
        lag = {
            "lag_pmf": list(lag_pmf),
            "revenue_by_period": rev,
            "mqls_by_period": need,
            "mqls_by_period_rounded": [_ceil(float(x)) for x in need],
            "beyond_horizon": "repeats the last period's revenue responsibility",
        }

    capacity: dict[str, Any] | None = None
    cap_inputs = (expected_attempts_per_lead, attempts_per_hour, team_hours)
    if all(x is not None for x in cap_inputs):
        assert expected_attempts_per_lead is not None and attempts_per_hour is not None
        assert team_hours is not None
        mqls = buffer if buffer is not None else req.mqls_required
        cc = capacity_check(mqls, expected_attempts_per_lead, attempts_per_hour, team_hours)
        capacity = {"mqls": mqls, **cc._asdict()}
        if not cc.fits:
            warnings.append(cc.message)

    return PlanResult(
        period=period,
        segment=segment,
        mqls_required=req.mqls_required,
        revenue_responsibility=r_m,
        mql_value=float(mql_value),
        quota=quota,
        originated_share=originated_share,
        euro_promise=_euro_promise(r_m),
        risk_buffer_mqls=buffer,
        risk=risk,
        influenced_commitment=influenced,
        pipeline_needed=pipeline,
        funnel=funnel,
        lag=lag,
        capacity=capacity,
        warnings=warnings,
    )


def combine_plans(parts: Sequence[PlanResult], *, period: str | None = None) -> PlanResult:
    """Total over segments: MQLs, ``R_M``, buffers and pipelines add; ``by_segment`` = parts.

    The total's MQL value is the MQL-weighted mean ``Σ N_s v_s / Σ N_s``. The summed risk
    buffer gives each segment its own 80% (conservative for the total).
    """
    if not parts:
        raise ValueError("combine_plans needs at least one segment plan")
    n = sum(p.mqls_required for p in parts)
    r_m = sum(p.revenue_responsibility for p in parts)
    v = sum(p.mqls_required * p.mql_value for p in parts) / n if n else 0.0
    buffers = [p.risk_buffer_mqls for p in parts]
    pipes = [p.pipeline_needed for p in parts]
    quotas = [p.quota for p in parts]
    warnings = [f"{p.segment or 'segment'}: {w}" for p in parts for w in p.warnings]
    return PlanResult(
        period=period or parts[0].period,
        mqls_required=n,
        revenue_responsibility=r_m,
        mql_value=float(v),
        quota=sum(q for q in quotas if q is not None) if None not in quotas else None,
        euro_promise=_euro_promise(r_m),
        risk_buffer_mqls=sum(b for b in buffers if b is not None) if None not in buffers else None,
        pipeline_needed=sum(x for x in pipes if x is not None) if None not in pipes else None,
        warnings=warnings,
        by_segment=list(parts),
    )
