"""Statistics of MQL value (METHODS §1) on small, already aggregated inputs.

Pure functions: numbers and numpy arrays in, numbers and small dataclasses out. The engine
layer counts mature leads, wins and revenues per group; everything here is the arithmetic.

- close rate with a Wilson interval: :func:`wilson_interval`
- MQL value ``v = p · R̄``: :func:`mql_value`, its Monte Carlo interval :func:`mql_value_interval`
- one SPEC ``value`` row at once: :func:`estimate_value`
- empirical-Bayes shrinkage of small groups: :func:`fit_beta_binomial`, :func:`shrink`
- warnings: :func:`value_warnings`, :func:`max_deal_share`
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from leadsla.analysis.specfun import digamma, gammaln, trigamma

FloatArray = npt.NDArray[np.float64]
#: A float for scalar inputs (a ``numpy.float64``), an array for array inputs.
FloatOrArray = float | FloatArray

Z_95 = 1.959964
#: Above this many raw won revenues the bootstrap mean is replaced by its normal approximation.
MAX_BOOTSTRAP_REVENUES = 100_000
#: Elements per bootstrap chunk (bounds memory: draws × revenues indices are never all held).
_CHUNK_ELEMENTS = 4_000_000
MIN_MATURE_LEADS = 30
MAX_DEAL_SHARE = 0.30
MIN_SIBLINGS = 8
PRIOR_STRENGTH = 100.0
# Search box for the beta-binomial fit, on log α and log β; an optimum on its edge means the
# likelihood has no interior maximum (no between-group variation, or all groups at 0 or 1).
_LOG_BOUNDS = (-12.0, 16.0)


def _scalar_or_array(x: FloatArray) -> FloatOrArray:
    """A 0-d array becomes a ``numpy.float64`` (a ``float``); other arrays pass through."""
    return x[()] if x.ndim == 0 else x


def _counts(k: npt.ArrayLike, n: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    ka = np.asarray(k, dtype=np.float64)
    na = np.asarray(n, dtype=np.float64)
    if np.any(~np.isfinite(ka)) or np.any(~np.isfinite(na)):
        raise ValueError("won and lead counts must be finite numbers")
    if np.any(na < 0) or np.any(ka < 0) or np.any(ka > na):
        raise ValueError("counts must satisfy 0 <= won <= leads")
    return ka, na


# --------------------------------------------------------------------------- close rate


def wilson_interval(
    k: npt.ArrayLike, n: npt.ArrayLike, *, z: float = Z_95
) -> tuple[FloatOrArray, FloatOrArray]:
    """Wilson score interval for a close rate ``k / n`` (vectorised over groups).

    ``(p + z²/2n ± z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n)``, clipped to [0, 1].
    A group with ``n = 0`` gets ``(0, 1)``: no evidence, any rate is possible (kept finite so
    it serialises to JSON; show it beside ``leads = 0``).

    >>> lo, hi = wilson_interval(3, 40)
    >>> f"{lo:.2%} {hi:.2%}"
    '2.58% 19.86%'
    """
    ka, na = _counts(k, n)
    empty = na == 0
    ns = np.where(empty, 1.0, na)
    p = ka / ns
    z2 = z * z
    denom = 1.0 + z2 / ns
    centre = p + z2 / (2.0 * ns)
    half = z * np.sqrt(np.maximum(p * (1.0 - p) / ns + z2 / (4.0 * ns * ns), 0.0))
    lo = np.where(empty, 0.0, np.clip((centre - half) / denom, 0.0, 1.0))
    hi = np.where(empty, 1.0, np.clip((centre + half) / denom, 0.0, 1.0))
    # Exact ends: 0 won has lower bound 0, all won has upper bound 1 (no rounding residue).
    lo = np.where(ka == 0, 0.0, lo)
    hi = np.where((ka == na) & ~empty, 1.0, hi)
    return _scalar_or_array(lo), _scalar_or_array(hi)


# --------------------------------------------------------------------------- MQL value


def mql_value(p: npt.ArrayLike, mean_revenue: npt.ArrayLike) -> FloatOrArray:
    """MQL value ``v = p · R̄`` (close rate × mean revenue of won leads), vectorised.

    >>> float(mql_value(0.01, 160_000))
    1600.0
    """
    return _scalar_or_array(
        np.asarray(p, dtype=np.float64) * np.asarray(mean_revenue, dtype=np.float64)
    )


@dataclass(frozen=True)
class RevenueSummary:
    """Won revenues of a group as summary statistics (for groups too large to ship raw).

    ``variance`` is the *sample* variance (ddof = 1, SQL ``var_samp``); ``nan`` or any value is
    accepted when ``count == 1``.
    """

    count: int
    mean: float
    variance: float

    @classmethod
    def of(cls, revenues: npt.ArrayLike) -> RevenueSummary:
        """Summarise raw revenues (count, mean, sample variance)."""
        r = np.asarray(revenues, dtype=np.float64).ravel()
        if r.size == 0:
            return cls(0, float("nan"), float("nan"))
        var = float(np.var(r, ddof=1)) if r.size > 1 else 0.0
        return cls(int(r.size), float(np.mean(r)), var)


def _revenues(revenues: npt.ArrayLike | RevenueSummary) -> FloatArray | RevenueSummary:
    if isinstance(revenues, RevenueSummary):
        if revenues.count < 0:
            raise ValueError("revenue count must be >= 0")
        return revenues
    r = np.asarray(revenues, dtype=np.float64).ravel()
    if np.any(~np.isfinite(r)):
        raise ValueError("revenues must be finite numbers (drop won leads without revenue)")
    if np.any(r < 0):
        raise ValueError("revenues must be >= 0")
    return r


def _bootstrap_means(
    rng: np.random.Generator, revenues: FloatArray | RevenueSummary, draws: int, max_raw: int
) -> FloatArray:
    """``draws`` bootstrap means of the won revenues (exact resampling or normal approx.)."""
    if isinstance(revenues, np.ndarray) and revenues.size > max_raw:
        revenues = RevenueSummary.of(revenues)
    if isinstance(revenues, RevenueSummary):
        c = revenues.count
        var = revenues.variance if c > 1 and np.isfinite(revenues.variance) else 0.0
        # The bootstrap resamples the empirical distribution: Var(mean*) = σ²_emp / c with the
        # population variance σ²_emp = s² (c − 1) / c.
        sd = float(np.sqrt(max(var, 0.0) * (c - 1) / c / c)) if c > 0 else 0.0
        means = rng.normal(revenues.mean, sd, size=draws)
        return np.maximum(means, 0.0)  # revenues are >= 0, so is their mean
    m = revenues.size
    out = np.empty(draws, dtype=np.float64)
    step = max(1, _CHUNK_ELEMENTS // m)
    for start in range(0, draws, step):
        stop = min(draws, start + step)
        idx = rng.integers(0, m, size=(stop - start, m))
        out[start:stop] = revenues[idx].mean(axis=1)
    return out


def mql_value_interval(
    k: int,
    n: int,
    revenues: npt.ArrayLike | RevenueSummary,
    *,
    draws: int = 10_000,
    seed: int | None = 0,
    level: float = 0.95,
    max_raw: int = MAX_BOOTSTRAP_REVENUES,
) -> tuple[float, float]:
    """Monte Carlo interval for ``v = p · R̄`` of one group.

    Draw ``p⁽ᵇ⁾ ~ Beta(k+½, n−k+½)`` (Jeffreys) and ``R̄⁽ᵇ⁾`` = mean of a bootstrap resample of
    the won revenues; return the ``(1−level)/2`` and ``(1+level)/2`` percentiles of
    ``p⁽ᵇ⁾ · R̄⁽ᵇ⁾`` (vectorised over draws, seeded).

    ``revenues`` is an array of won revenues, or a :class:`RevenueSummary`. With a summary, or
    more than ``max_raw`` (100k) raw values, the bootstrap mean is drawn from its normal
    approximation ``N(R̄, σ²/count)`` (central limit theorem; exact resampling would hold
    draws × count indices), clipped at 0. With no revenues (nothing won, or won without
    revenue) ``R̄`` is unknown and the interval is ``(nan, nan)``: pass the parent group's
    revenues to borrow its ``R̄``.

    Example: revenues 40, 55, 60, 80, 95, 120, 230, 600 k€ and 12/1200 won → ``v`` = 1,600 €,
    interval ≈ [560, 3,650] €.
    """
    ka, na = _counts(k, n)
    if ka.ndim or na.ndim:
        raise ValueError("mql_value_interval takes one group: scalar won and lead counts")
    if not 0.0 < level < 1.0:
        raise ValueError("level must be between 0 and 1")
    if draws < 1:
        raise ValueError("draws must be >= 1")
    rev = _revenues(revenues)
    count = rev.count if isinstance(rev, RevenueSummary) else rev.size
    if count == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    p = rng.beta(float(ka) + 0.5, float(na - ka) + 0.5, size=draws)
    v = p * _bootstrap_means(rng, rev, draws, max_raw)
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(v, [tail, 1.0 - tail])
    return float(lo), float(hi)


@dataclass(frozen=True)
class ValueEstimate:
    """One SPEC ``value`` row (without its grouping columns)."""

    leads: int
    won: int
    close_rate: float
    close_rate_ci: tuple[float, float]
    avg_revenue: float
    median_revenue: float | None
    mql_value: float
    mql_value_ci: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the SPEC keys (``nan`` becomes ``None``)."""

        def clean(x: float | None) -> float | None:
            return None if x is None or not np.isfinite(x) else float(x)

        return {
            "leads": self.leads,
            "won": self.won,
            "close_rate": clean(self.close_rate),
            "close_rate_ci": [clean(x) for x in self.close_rate_ci],
            "avg_revenue": clean(self.avg_revenue),
            "median_revenue": clean(self.median_revenue),
            "mql_value": clean(self.mql_value),
            "mql_value_ci": [clean(x) for x in self.mql_value_ci],
        }


def estimate_value(
    k: int,
    n: int,
    revenues: npt.ArrayLike | RevenueSummary,
    *,
    draws: int = 10_000,
    seed: int | None = 0,
    level: float = 0.95,
) -> ValueEstimate:
    """Close rate, its Wilson interval, ``R̄`` (median beside it), ``v = p · R̄`` and its interval.

    ``k`` won of ``n`` mature leads; ``revenues`` as in :func:`mql_value_interval`. The close
    rate interval uses the Wilson z for ``level`` = 0.95 and the normal quantile otherwise.
    """
    ka, na = _counts(k, n)
    rev = _revenues(revenues)
    if isinstance(rev, RevenueSummary):
        avg, median = rev.mean if rev.count else float("nan"), None
    else:
        avg = float(np.mean(rev)) if rev.size else float("nan")
        median = float(np.median(rev)) if rev.size else float("nan")
    if level == 0.95:
        z = Z_95
    else:
        from scipy.stats import norm  # 0.6 s of imports, only for another level (issue 16)

        z = float(norm.ppf(0.5 + level / 2.0))
    lo, hi = wilson_interval(ka, na, z=z)
    p = float(ka / na) if na > 0 else float("nan")
    v = p * avg if np.isfinite(p) and np.isfinite(avg) else float("nan")
    v_ci = mql_value_interval(int(ka), int(na), rev, draws=draws, seed=seed, level=level)
    return ValueEstimate(
        leads=int(na),
        won=int(ka),
        close_rate=p,
        close_rate_ci=(float(lo), float(hi)),
        avg_revenue=float(avg),
        median_revenue=median,
        mql_value=float(v),
        mql_value_ci=v_ci,
    )


# --------------------------------------------------------------------------- shrinkage


@dataclass(frozen=True)
class BetaPrior:
    """A Beta(α, β) prior on close rates; ``source`` says where it came from."""

    alpha: float
    beta: float
    source: Literal["fitted", "fixed"]

    @property
    def mean(self) -> float:
        """Prior mean ``α / (α + β)``."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def strength(self) -> float:
        """Prior strength ``α + β`` (pseudo-leads)."""
        return self.alpha + self.beta


def _neg_loglik(
    theta: FloatArray, k: FloatArray, n: FloatArray
) -> tuple[float, FloatArray, FloatArray]:
    """Beta-binomial −log-likelihood over θ = (ln α, ln β) (binomial coefficients dropped),
    its gradient and its Hessian."""
    a, b = np.exp(theta)
    ll = np.sum(
        gammaln(k + a) + gammaln(n - k + b) - gammaln(n + a + b)
        - gammaln(a) - gammaln(b) + gammaln(a + b)
    )  # fmt: skip
    common = digamma(n + a + b) - digamma(a + b)
    ga = np.sum(digamma(k + a) - digamma(a) - common)
    gb = np.sum(digamma(n - k + b) - digamma(b) - common)
    common1 = trigamma(n + a + b) - trigamma(a + b)
    haa = np.sum(trigamma(k + a) - trigamma(a) - common1)
    hbb = np.sum(trigamma(n - k + b) - trigamma(b) - common1)
    hab = -np.sum(common1)
    # d/dθ of −ℓ(e^θ): chain rule through α = e^θ₁, β = e^θ₂
    grad = np.array([-a * ga, -b * gb])
    hess = np.array([[-a * ga - a * a * haa, -a * b * hab], [-a * b * hab, -b * gb - b * b * hbb]])
    return float(-ll), grad, hess


def _newton(
    k: FloatArray, n: FloatArray, x0: FloatArray, bounds: tuple[float, float]
) -> FloatArray | None:
    """Minimise :func:`_neg_loglik` from ``x0`` inside the box ``bounds`` by damped Newton
    steps with a backtracking line search. Returns the minimum, a point on the box's edge when
    the likelihood keeps rising beyond it, or None when it does not converge in 200 steps."""
    lo, hi = bounds
    x = np.clip(x0, lo, hi)
    f, g, h = _neg_loglik(x, k, n)
    eye = np.eye(2)
    for _ in range(200):
        if np.max(np.abs(g)) <= 1e-10 * max(1.0, abs(f)):
            return x
        scale = max(1.0, float(np.max(np.abs(h))))
        for lam in (0.0, *(scale * 10.0**e for e in range(-8, 9))):
            try:  # the Hessian, made positive definite (Levenberg) when it is not
                np.linalg.cholesky(h + lam * eye)
            except np.linalg.LinAlgError:
                continue
            step = -np.linalg.solve(h + lam * eye, g)
            break
        else:
            return None
        # a coordinate on the box's edge does not step outward; the step stays in the box
        step[((x <= lo) & (step < 0)) | ((x >= hi) & (step > 0))] = 0.0
        if not np.any(step):
            return x
        with np.errstate(divide="ignore"):  # the room to the box's edge along the step
            room = np.where(step < 0, (lo - x) / step, np.where(step > 0, (hi - x) / step, np.inf))
        slope = float(g @ step)
        t = min(1.0, float(np.min(room)))
        while True:
            x_new = np.clip(x + t * step, lo, hi)
            f_new, g_new, h_new = _neg_loglik(x_new, k, n)
            # Armijo, with room for the rounding of a sum of large log-gammas
            if f_new <= f + 1e-4 * t * slope + 1e-12 * max(1.0, abs(f)):
                break
            t *= 0.5
            if t < 1e-12:
                return x if np.max(np.abs(g)) <= 1e-6 * max(1.0, abs(f)) else None
        # on the box's edge with the likelihood still rising outward: the maximum is there
        outward = ((x_new <= lo) & (g_new > 0)) | ((x_new >= hi) & (g_new < 0))
        moved = float(np.max(np.abs(x_new - x)))
        if np.any(outward) or moved <= 1e-14 * max(1.0, float(np.max(np.abs(x)))):
            return x_new
        x, f, g, h = x_new, f_new, g_new, h_new
    return None


def fit_beta_binomial(k: npt.ArrayLike, n: npt.ArrayLike) -> BetaPrior | None:
    """Fit Beta(α, β) to sibling groups' ``k`` won of ``n`` by beta-binomial maximum likelihood.

    Maximises ``Σ_g [ln B(k_g+α, n_g−k_g+β) − ln B(α, β)]`` over (log α, log β) by Newton's
    method with the analytic gradient and Hessian (:mod:`leadsla.analysis.specfun`), to a
    gradient below 1e-10. Groups with ``n = 0`` carry no information and are dropped.
    Returns ``None`` when the likelihood has no interior maximum — fewer than two groups, no
    wins or only wins anywhere, rates no more spread than binomial noise (the fit runs off to
    α + β → ∞) — or the fit does not converge; callers then use a fixed prior (see
    :func:`shrink`).

    Example: 20 groups of 200 leads with rates spread around 5% → α/(α+β) ≈ 0.05.
    """
    ka, na = _counts(k, n)
    keep = na > 0
    ka, na = ka[keep].ravel(), na[keep].ravel()
    if ka.size < 2 or np.all(ka == 0) or np.all(ka == na):
        return None
    mu = float(ka.sum() / na.sum())
    # Tarone's score statistic for overdispersion at the binomial limit (α + β → ∞): when the
    # rates spread no more than binomial noise, the likelihood rises all the way to that limit.
    if np.sum((ka - na * mu) ** 2) / (mu * (1.0 - mu)) - na.sum() <= 0.0:
        return None
    rates = ka / na
    var = float(np.var(rates))
    # Method-of-moments start, else a weak prior at the pooled rate.
    strength = mu * (1.0 - mu) / var - 1.0 if var > 0 else 10.0
    strength = float(np.clip(strength, 1.0, 1e4))
    x0 = np.log([mu * strength, (1.0 - mu) * strength])
    lo_b, hi_b = _LOG_BOUNDS
    x = _newton(ka, na, x0, _LOG_BOUNDS)
    if x is None or not np.all(np.isfinite(x)):
        return None
    if np.any(x <= lo_b + 1e-3) or np.any(x >= hi_b - 1e-3):
        return None
    a, b = np.exp(x)
    return BetaPrior(float(a), float(b), "fitted")


@dataclass(frozen=True)
class ShrinkResult:
    """Raw and shrunk close rates side by side, and the prior that was used."""

    raw: FloatArray  # k / n; nan where n = 0
    shrunk: FloatArray  # (k + α) / (n + α + β)
    prior: BetaPrior
    note: str  # why this prior: fitted over N siblings, or why the fixed one


def shrink(
    k: npt.ArrayLike,
    n: npt.ArrayLike,
    parent_p: float,
    *,
    m: float = PRIOR_STRENGTH,
    min_siblings: int = MIN_SIBLINGS,
) -> ShrinkResult:
    """Empirical-Bayes close rates of sibling groups: ``p̃ = (k + α) / (n + α + β)``.

    With at least ``min_siblings`` (8) groups holding leads, α, β come from
    :func:`fit_beta_binomial`; with fewer, or when that fit is degenerate, the fixed prior
    ``α = m·p_parent, β = m·(1 − p_parent)`` (m = 100) is used. ``p̃`` always lies between the
    raw rate and the prior mean.

    Example: 2 of 10 leads, parent rate 5%, fixed prior → (2 + 5) / (10 + 100) = 6.4%.
    """
    ka, na = _counts(k, n)
    if not 0.0 <= parent_p <= 1.0:
        raise ValueError(f"parent_p must be a rate between 0 and 1, got {parent_p!r}")
    if m <= 0:
        raise ValueError("m (prior strength) must be > 0")
    siblings = int(np.count_nonzero(na > 0))
    prior: BetaPrior | None = None
    if siblings >= min_siblings:
        prior = fit_beta_binomial(ka, na)
        note = (
            f"beta-binomial prior fitted over {siblings} sibling groups"
            if prior is not None
            else f"fixed prior m = {m:g} around the parent rate: the fit over {siblings} "
            "sibling groups is degenerate (no spread beyond chance, or all rates 0 or 1)"
        )
    else:
        note = (
            f"fixed prior m = {m:g} around the parent rate: {siblings} sibling group"
            f"{'' if siblings == 1 else 's'} with leads, fewer than {min_siblings}"
        )
    if prior is None:
        prior = BetaPrior(m * parent_p, m * (1.0 - parent_p), "fixed")
    raw = np.divide(ka, na, out=np.full(na.shape, np.nan), where=na > 0)
    shrunk = (ka + prior.alpha) / (na + prior.strength)
    return ShrinkResult(raw=raw, shrunk=shrunk, prior=prior, note=note)


# --------------------------------------------------------------------------- warnings


def max_deal_share(revenues: npt.ArrayLike) -> float:
    """Largest single deal's share of the group's revenue, ``max r / Σ r`` (nan if Σ r = 0)."""
    r = np.asarray(revenues, dtype=np.float64).ravel()
    total = float(r.sum()) if r.size else 0.0
    return float(r.max()) / total if total > 0 else float("nan")


def revenue_concentration(
    group_label: str, max_deal_share: float | None, *, max_share: float = MAX_DEAL_SHARE
) -> str | None:
    """The warning when one deal is more than ``max_share`` (30%) of a group's revenue, else None.

    Shown for every group and for all leads whatever the grouping (and in the SLA document):
    one 50M declared-revenue deal that is 81% of all revenue makes the MQL value that deal.

    >>> revenue_concentration("all leads", 0.81)[:36]
    'all leads: one deal is 81% of the gr'
    """
    if max_deal_share is None or not np.isfinite(max_deal_share) or max_deal_share <= max_share:
        return None
    return (
        f"{group_label}: one deal is {max_deal_share:.0%} of the group's revenue (more than "
        f"{max_share:.0%}); the average revenue and MQL value rest on that deal"
    )


def value_warnings(
    group_label: str,
    n_mature: int,
    max_deal_share: float | None,
    won_without_revenue: int,
    *,
    min_mature: int = MIN_MATURE_LEADS,
    max_share: float = MAX_DEAL_SHARE,
) -> list[str]:
    """Plain-language warnings for one group's MQL value (METHODS §1; warn, never fail).

    Fewer than ``min_mature`` (30) mature leads; one deal above ``max_share`` (30%) of the
    group's revenue; won leads without a revenue. ``max_deal_share`` may be None/nan (no revenue).

    >>> value_warnings("segment=smb", 12, 0.1, 0)[0][:33]
    'segment=smb: only 12 mature leads'
    """
    out: list[str] = []
    if n_mature < min_mature:
        out.append(
            f"{group_label}: only {n_mature} mature leads (fewer than {min_mature}); its close "
            "rate and MQL value are uncertain, read the interval and the shrunk rate"
        )
    if (
        text := revenue_concentration(group_label, max_deal_share, max_share=max_share)
    ) is not None:
        out.append(text)
    if won_without_revenue > 0:
        s = "" if won_without_revenue == 1 else "s"
        out.append(
            f"{group_label}: {won_without_revenue} won lead{s} without a revenue; they count "
            "in the close rate but not in the average revenue. Fill in the revenue column"
        )
    return out
