"""The statistics of speed to lead (METHODS §4), on aggregates: no engine, no calendar.

Input: counts per stratum (owner × segment) × fine response-time bin (leads, won, and the sum
of ``log(1 + business minutes)`` of the leads in the cell), built by :func:`aggregate` from
per-lead arrays or simulated directly (``benchmarks/calibrate_speed.py``).

- :func:`mantel_haenszel` — risk ratio of "first attempt within T" vs later, pooled over the
  strata (Mantel–Haenszel) with the Greenland–Robins (1985) variance of its logarithm:
  ``RR = Σ a·n0/N / Σ c·n1/N``, ``Var ln RR = Σ (n1·n0·(a+c) − a·c·N)/N² / (Σ a·n0/N · Σ c·n1/N)``.
- :func:`fit_curve` — the monotone model: ``logit p = α_stratum + β·log(1 + minutes)``, one
  slope, an intercept per stratum (maximum likelihood on the cells, Newton–Raphson); the
  trend is *evidence* when the 99% interval of β lies below 0.
- :func:`candidate_outcomes` — for each candidate target the leads that missed it, the
  modelled revenue gained if they had been reached by it, and the rep hours to do so.
- :func:`choose` — the target where faster stops paying (module doc of ``speed``).

Never-contacted leads are not in the effect or the model: their conversion measures whether
sales tries at all (the attempts analysis), not how fast. They count as missing every target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "Aggregates",
    "Candidate",
    "CandidateOutcome",
    "Curve",
    "Effect",
    "aggregate",
    "candidate_outcomes",
    "choose",
    "fine_edges_minutes",
    "fit_curve",
    "mantel_haenszel",
]

Z95 = 1.959963984540054
Z99 = 2.5758293035489004
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def fine_edges_minutes(day_minutes: float) -> F64:
    """Inner edges (business minutes) of the model's fine bins; every effect threshold and
    duration target (5, 15, 30, 60, 120, 240 min, one business day) is one of them."""
    d = float(day_minutes)
    base = [1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 360, 480]
    days = [d, 1.5 * d, 2 * d, 3 * d, 5 * d, 10 * d, 20 * d, 40 * d]
    return np.unique(np.array([m for m in base if m < d] + days, dtype=np.float64))


# --------------------------------------------------------------------------- aggregates


@dataclass(frozen=True)
class Aggregates:
    """Counts per stratum × fine bin of contacted leads, and the never-contacted per stratum."""

    strata: tuple[str, ...]
    edges_minutes: F64  # inner edges of the fine bins
    n: I64  # (S, B) leads
    k: I64  # (S, B) won
    xsum: F64  # (S, B) Σ log(1 + minutes)
    never_n: I64  # (S,)
    never_k: I64  # (S,)

    @property
    def upper_minutes(self) -> F64:
        return np.append(self.edges_minutes, math.inf)

    def subset(self, rows: npt.ArrayLike) -> Aggregates:
        r = np.asarray(rows)
        return Aggregates(tuple(np.asarray(self.strata, dtype=object)[r].tolist()),
                          self.edges_minutes, self.n[r], self.k[r], self.xsum[r],
                          self.never_n[r], self.never_k[r])  # fmt: skip


def aggregate(
    minutes: npt.ArrayLike,
    won: npt.ArrayLike,
    stratum: npt.ArrayLike,
    strata: Sequence[str],
    edges_minutes: F64,
) -> Aggregates:
    """Per-lead business minutes (NaN = never contacted), won flags and stratum codes → counts."""
    t = np.asarray(minutes, dtype=np.float64)
    w = np.asarray(won, dtype=bool)
    s = np.asarray(stratum, dtype=np.int64)
    S, B = len(strata), edges_minutes.size + 1
    never = np.isnan(t)
    b = np.searchsorted(edges_minutes, np.where(never, 0.0, t), side="right")
    cell = s * B + b
    c = ~never
    n = np.bincount(cell[c], minlength=S * B).reshape(S, B)
    k = np.bincount(cell[c], weights=w[c].astype(np.float64), minlength=S * B).reshape(S, B)
    x = np.bincount(cell[c], weights=np.log1p(np.maximum(t[c], 0.0)), minlength=S * B)
    return Aggregates(
        tuple(strata), edges_minutes, n.astype(np.int64), np.rint(k).astype(np.int64),
        np.asarray(x, dtype=np.float64).reshape(S, B),
        np.bincount(s[never], minlength=S).astype(np.int64),
        np.bincount(s[never], weights=w[never].astype(np.float64), minlength=S).astype(np.int64),
    )  # fmt: skip


# --------------------------------------------------------------------------- Mantel–Haenszel


@dataclass(frozen=True)
class Effect:
    """Risk ratio of winning, first attempt within ``within_minutes`` vs later, over strata."""

    within_minutes: float
    label: str
    risk_ratio: float | None
    ci: tuple[float, float] | None
    leads_within: int
    won_within: int
    leads_later: int
    won_later: int
    strata_used: int
    crude_risk_ratio: float | None

    @property
    def claimed(self) -> bool:
        """An effect is claimed only when the interval excludes 1."""
        return self.ci is not None and (self.ci[0] > 1.0 or self.ci[1] < 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "within_hours": self.within_minutes / 60.0,
            "within": self.label,
            "risk_ratio": self.risk_ratio,
            "risk_ratio_ci": list(self.ci) if self.ci is not None else None,
            "claimed": self.claimed,
            "leads_within": self.leads_within,
            "won_within": self.won_within,
            "leads_later": self.leads_later,
            "won_later": self.won_later,
            "strata_used": self.strata_used,
            "crude_risk_ratio": self.crude_risk_ratio,
        }


def mh_rr(
    a: npt.ArrayLike, n1: npt.ArrayLike, c: npt.ArrayLike, n0: npt.ArrayLike
) -> tuple[float | None, tuple[float, float] | None, int]:
    """Mantel–Haenszel risk ratio, its Greenland–Robins 95% interval, strata used.

    ``a`` of ``n1`` exposed and ``c`` of ``n0`` unexposed won, per stratum. Strata with an
    empty arm carry no information and are skipped. None when a sum is 0.
    """
    a_, n1_, c_, n0_ = (np.asarray(v, dtype=np.float64) for v in (a, n1, c, n0))
    use = (n1_ > 0) & (n0_ > 0)
    a_, n1_, c_, n0_ = a_[use], n1_[use], c_[use], n0_[use]
    N = n1_ + n0_
    R = float(np.sum(a_ * n0_ / N)) if N.size else 0.0
    S = float(np.sum(c_ * n1_ / N)) if N.size else 0.0
    if R <= 0 or S <= 0:
        return None, None, int(use.sum())
    rr = R / S
    v = float(np.sum((n1_ * n0_ * (a_ + c_) - a_ * c_ * N) / N**2)) / (R * S)
    half = Z95 * math.sqrt(max(v, 0.0))
    return rr, (rr * math.exp(-half), rr * math.exp(half)), int(use.sum())


def mantel_haenszel(agg: Aggregates, thresholds: Sequence[tuple[float, str]]) -> list[Effect]:
    """One :class:`Effect` per ``(minutes, label)`` threshold (each must be a fine-bin edge)."""
    upper = agg.upper_minutes
    out = []
    for minutes, label in thresholds:
        inside = upper <= minutes + 1e-9
        a = agg.k[:, inside].sum(axis=1)
        n1 = agg.n[:, inside].sum(axis=1)
        c = agg.k[:, ~inside].sum(axis=1)
        n0 = agg.n[:, ~inside].sum(axis=1)
        rr, ci, used = mh_rr(a, n1, c, n0)
        A, N1, C, N0 = int(a.sum()), int(n1.sum()), int(c.sum()), int(n0.sum())
        crude = (A / N1) / (C / N0) if N1 and N0 and C else None
        out.append(Effect(float(minutes), label, rr, ci, N1, A, N0, C, used, crude))
    return out


# --------------------------------------------------------------------------- the curve


@dataclass(frozen=True)
class Curve:
    """``logit p = α_s + β·log(1 + minutes)``; strata with no win (or only wins) are fixed at
    0 (or 1) and take no part in the fit."""

    strata: tuple[str, ...]
    alpha: F64  # −inf / +inf for the fixed strata
    beta: float
    beta_se: float
    cells: int

    @property
    def beta_ci(self) -> tuple[float, float]:
        return (self.beta - Z95 * self.beta_se, self.beta + Z95 * self.beta_se)

    @property
    def evidence(self) -> bool:
        """Conversion falls with response time: the 99% interval of β is below 0 (stricter
        than 95%: a false claim tightens every lead's target; benchmarks/calibrate_speed.py)."""
        return math.isfinite(self.beta_se) and self.beta + Z99 * self.beta_se < 0.0

    def p(self, stratum: npt.ArrayLike, minutes: npt.ArrayLike) -> F64:
        s = np.asarray(stratum, dtype=np.int64)
        eta = self.alpha[s] + self.beta * np.log1p(np.maximum(np.asarray(minutes, float), 0.0))
        with np.errstate(over="ignore"):
            return np.asarray(1.0 / (1.0 + np.exp(-eta)), dtype=np.float64)

    def average(self, minutes: npt.ArrayLike, weights: npt.ArrayLike) -> F64:
        """The close rate the model gives at each time, averaged over strata by ``weights``."""
        m = np.atleast_1d(np.asarray(minutes, dtype=np.float64))
        w = np.asarray(weights, dtype=np.float64)
        w = w / w.sum() if w.sum() > 0 else w
        s = np.arange(self.alpha.size)
        return np.asarray([float(w @ self.p(s, np.full(s.size, x))) for x in m], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.beta_ci
        return {
            "form": "logit p = a[owner x segment] + b * ln(1 + business minutes)",
            "slope": self.beta,
            "slope_ci": [lo, hi] if math.isfinite(self.beta_se) else None,
            "evidence": self.evidence,
            "strata": len(self.strata),
            "strata_fitted": int(np.isfinite(self.alpha).sum()),
        }


def fit_curve(agg: Aggregates, *, max_iter: int = 100) -> Curve:
    """Maximum likelihood of the one-slope logistic model on the cells (Newton, step halving).

    The Hessian is an arrowhead (diagonal in the intercepts), so each step is O(strata).
    """
    S = len(agg.strata)
    won = agg.k.sum(axis=1)
    tot = agg.n.sum(axis=1)
    alpha = np.full(S, -math.inf)
    alpha[(won == tot) & (tot > 0)] = math.inf
    fit = (won > 0) & (won < tot)
    rows, cols = np.nonzero((agg.n > 0) & fit[:, None])
    if not rows.size or np.unique(rows).size == 0:
        return Curve(agg.strata, alpha, 0.0, math.inf, 0)
    n = agg.n[rows, cols].astype(np.float64)
    k = agg.k[rows, cols].astype(np.float64)
    x = agg.xsum[rows, cols] / n
    idx = np.searchsorted(np.nonzero(fit)[0], rows).astype(np.int64)
    F = int(fit.sum())
    a: F64 = np.log(np.maximum(won[fit], 0.5) / np.maximum(tot[fit] - won[fit], 0.5))
    b = 0.0

    def loglik(a_: F64, b_: float) -> float:
        eta = a_[idx] + b_ * x
        return float(np.sum(k * eta - n * np.logaddexp(0.0, eta)))

    ll = loglik(a, b)
    for _ in range(max_iter):
        eta = a[idx] + b * x
        mu = 1.0 / (1.0 + np.exp(-eta))
        r = k - n * mu
        wgt = n * mu * (1.0 - mu)
        g_a = np.bincount(idx, weights=r, minlength=F)
        g_b = float(r @ x)
        h_aa = np.maximum(np.bincount(idx, weights=wgt, minlength=F), 1e-300)
        h_ab = np.bincount(idx, weights=wgt * x, minlength=F)
        h_bb = float(wgt @ (x * x))
        schur = h_bb - float(np.sum(h_ab**2 / h_aa))
        if schur <= 1e-12:
            db = 0.0
        else:
            db = (g_b - float(np.sum(h_ab * g_a / h_aa))) / schur
        da = (g_a - h_ab * db) / h_aa
        step = 1.0
        while step > 1e-6:
            a_new, b_new = a + step * da, b + step * db
            ll_new = loglik(a_new, b_new)
            if ll_new >= ll - 1e-12:
                break
            step /= 2
        a, b, improved = a_new, b_new, ll_new - ll
        ll = ll_new
        if abs(improved) < 1e-10 and max(float(np.abs(da).max(initial=0)), abs(db)) < 1e-7:
            break
    eta = a[idx] + b * x
    mu = 1.0 / (1.0 + np.exp(-eta))
    wgt = n * mu * (1.0 - mu)
    h_aa = np.maximum(np.bincount(idx, weights=wgt, minlength=F), 1e-300)
    h_ab = np.bincount(idx, weights=wgt * x, minlength=F)
    schur = float(wgt @ (x * x)) - float(np.sum(h_ab**2 / h_aa))
    se = 1.0 / math.sqrt(schur) if schur > 1e-12 else math.inf
    alpha[fit] = a
    return Curve(agg.strata, alpha, float(b), se, int(rows.size))


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Candidate:
    """A target said the way a sales leader says it; ``hours`` is what the policy file holds
    (for the calendar ones, the longest business time they allow)."""

    key: str
    text: str
    hours: float


@dataclass(frozen=True)
class CandidateOutcome:
    """One candidate on last period's leads: who missed it, what meeting it would bring."""

    candidate: Candidate
    leads: int
    met: int
    missed_contacted: int
    never: int
    gain_eur: float | None  # modelled revenue if every contacted miss had been reached in time
    gain_rate_points: float  # the same as close-rate points over all the period's leads
    rep_hours: float
    cost_eur: float

    @property
    def met_share(self) -> float:
        return self.met / self.leads if self.leads else math.nan

    @property
    def net_eur(self) -> float | None:
        return None if self.gain_eur is None else self.gain_eur - self.cost_eur

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.candidate.text,
            "key": self.candidate.key,
            "hours": self.candidate.hours,
            "leads": self.leads,
            "met": self.met,
            "met_share": self.met_share if self.leads else None,
            "missed_contacted": self.missed_contacted,
            "never_contacted": self.never,
            "gain_eur": self.gain_eur,
            "gain_rate_points": self.gain_rate_points,
            "rep_hours": self.rep_hours,
            "cost_eur": self.cost_eur,
            "net_eur": self.net_eur,
        }


def candidate_outcomes(
    curve: Curve,
    candidates: Sequence[Candidate],
    *,
    stratum: npt.ArrayLike,
    minutes: npt.ArrayLike,
    deadline_minutes: npt.ArrayLike,
    value: npt.ArrayLike | None,
    weight: npt.ArrayLike | None = None,
    late: npt.ArrayLike | None = None,
    hours_per_lead: float,
    hourly_cost: float,
) -> list[CandidateOutcome]:
    """Per candidate: met (``minutes ≤ deadline``), missed among the contacted, the modelled gain
    ``Σ V·(p(deadline) − p(minutes))`` over contacted misses, rep hours = misses ×
    ``hours_per_lead``. ``deadline_minutes``: (candidates, leads), each lead's own deadline;
    ``weight``: leads per row (for aggregated rows); ``late``: (candidates, leads), whether
    each contacted lead missed its deadline when that is decided by instants (a call at
    18:30 is the same business moment as 09:00 the next day, but not the same day)."""
    s = np.asarray(stratum, dtype=np.int64)
    t = np.asarray(minutes, dtype=np.float64)
    d = np.asarray(deadline_minutes, dtype=np.float64).reshape(len(candidates), t.size)
    w = np.ones(t.size) if weight is None else np.asarray(weight, dtype=np.float64)
    total = float(w.sum())
    never = np.isnan(t)
    late_all = None if late is None else np.asarray(late, dtype=bool).reshape(d.shape)
    p_now = curve.p(s, np.where(never, 0.0, t))
    v = None if value is None else np.asarray(value, dtype=np.float64)
    out = []
    for j, cand in enumerate(candidates):
        miss = ~never & (t > d[j] + 1e-9 if late_all is None else late_all[j])
        met = float(w[~never & ~miss].sum())
        gain_p = np.where(miss, curve.p(s, d[j]) - p_now, 0.0)
        gain_p = np.maximum(gain_p, 0.0) * w
        missed = float(w[miss].sum())
        rep_hours = missed * hours_per_lead
        out.append(CandidateOutcome(
            candidate=cand, leads=round(total), met=round(met), missed_contacted=round(missed),
            never=round(float(w[never].sum())),
            gain_eur=None if v is None else float(np.nansum(gain_p * v)),
            gain_rate_points=100.0 * float(gain_p.sum()) / total if total else 0.0,
            rep_hours=rep_hours, cost_eur=rep_hours * hourly_cost,
        ))  # fmt: skip
    return out


@dataclass(frozen=True)
class Choice:
    index: int  # into the candidates
    team_index: int | None  # the team's pace: tightest target ≥ 90% of leads met
    on_evidence: bool
    rule: str


def team_pace(outcomes: Sequence[CandidateOutcome], share: float = 0.9) -> int | None:
    """The tightest candidate that at least ``share`` of the period's leads met."""
    for i, o in enumerate(outcomes):
        if o.leads and o.met / o.leads >= share - 1e-12:
            return i
    return None


def choose(
    outcomes: Sequence[CandidateOutcome],
    *,
    evidence: bool,
    use_costs: bool,
    min_gain_points: float,
) -> Choice:
    """The recommended target (``outcomes`` from tightest to loosest).

    No evidence → the team's pace. With evidence and costs → the candidate of largest modelled
    net gain (gain − cost; ties go to the looser): tightening stops where the next step costs
    more rep time than the revenue it brings. With evidence, no costs (or no revenue) → from
    the loosest, tighten while a step raises the modelled close rate of the period's leads by
    at least ``min_gain_points`` percentage points.
    """
    team = team_pace(outcomes)
    fallback = team if team is not None else len(outcomes) - 1
    if not evidence:
        return Choice(fallback, team, False, "no evidence that faster pays: the team's pace")
    nets = [o.net_eur for o in outcomes]
    if use_costs and all(x is not None for x in nets):
        best = max(range(len(outcomes)), key=lambda i: (nets[i], i))
        return Choice(best, team, True, "largest modelled gain net of rep time")
    i = len(outcomes) - 1
    while i > 0:
        step = outcomes[i - 1].gain_rate_points - outcomes[i].gain_rate_points
        if step < min_gain_points:
            break
        i -= 1
    rule = f"tightened while each step adds ≥ {min_gain_points:g} close-rate points"
    return Choice(i, team, True, rule)
