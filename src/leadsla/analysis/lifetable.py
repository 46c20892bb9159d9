"""How many contact attempts: the discrete life table on the attempt axis (METHODS.md §3).

The pure statistical core. Input, for one group (lead type), is three count arrays indexed by
``k = 0..K``, the number of contact attempts a lead received before it ended:

- ``won[k]``: leads won at their k-th (last) attempt (W),
- ``lost[k]``: leads lost after contact at their k-th attempt (L, a competing outcome),
- ``censored[k]``: leads open or abandoned after k attempts (C).

Leads with 0 attempts are never at risk of an attempt: they count as leads of the group but
not in the hazards (a lead won with no attempt is reported as ``won_without_attempt``). Every
function also accepts stacked arrays ``(..., K + 1)``; the leading axes are bootstrap
resamples, which is how :func:`bootstrap` stays free of Python loops over resamples.

Example (the METHODS.md fixture, 10 leads 1W 1L 2W 2C 3W 3C 4L 4C 5W 6C):

>>> t = life_table([0, 1, 1, 1, 0, 1, 0], [0, 1, 0, 0, 1, 0, 0], [0, 0, 1, 1, 1, 0, 1])
>>> [round(float(x), 4) for x in t.cumulative_conversion]
[0.1, 0.2, 0.3167, 0.3167, 0.5354, 0.5354]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from leadsla.analysis.hazard import (
    HazardModel,
    ModelName,
    exact_lower,
    exact_upper,
    isotonic_nonincreasing,
    value_draws,
)
from leadsla.analysis.hazard import fit as fit_hazard
from leadsla.errors import DataError

__all__ = [
    "Bootstrap",
    "Bounds",
    "GroupAttempts",
    "HazardFit",
    "Identification",
    "LifeTable",
    "bootstrap",
    "bounds",
    "from_hazards",
    "group_attempts",
    "identify",
    "posterior_optimum",
    "is_identified",
    "isotonic_nonincreasing",
    "knee",
    "last_observed_attempt",
    "life_table",
    "marginal_profit",
    "max_attempts_supported",
    "near_optimal",
    "optimal_attempts",
    "profit",
    "resample_counts",
    "sanity_warnings",
]

HazardFit = Literal["raw", "isotonic"]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

MIN_AT_RISK = 30
"""A k is 'supported' (enters the knee search) when at least this many leads are at risk."""
NEAR_OPTIMAL_SHARE = 0.99
CI_LEVEL = 0.95
PROFIT_BAND_PERCENTILES = (2.5, 50.0, 97.5)

_EPS = 1e-12  # |1 - h_W - h_L| below this is an exact zero lost to rounding
_TIE = 1e-9  # relative tolerance under which two profits are a tie (the smaller N wins)


@dataclass(frozen=True)
class LifeTable:
    """The life table for k = 1..K (arrays ``(..., K)``; leading axes are resamples).

    ``at_risk`` n_k = #{m_i >= k}; ``won``/``lost`` d_k^W, d_k^L; ``win_hazard`` h_k^W = d_k^W/n_k
    (isotonic when ``hazard_fit == "isotonic"``); ``lost_hazard`` h_k^L = d_k^L/n_k;
    ``survival`` S(k) = prod_{j<=k}(1 - h_j^W - h_j^L); ``survival_before`` S(k-1), S(0) = 1;
    ``cumulative_conversion`` F(k) = sum_{j<=k} S(j-1) h_j^W; ``expected_attempts``
    A(k) = sum_{j<=k} S(j-1). A hazard where n_k = 0 is 0 (nobody got that far).

    ``naive_cohort_rate`` is the guide's view, won with exactly k / closed (W + L) with exactly
    k, NaN where none closed. It is *biased* (it conditions on a count the outcome itself
    decides: a won lead stops being called) and is never used to choose N.

    The count fields are ``None`` for a table built by :func:`from_hazards`.
    """

    attempt: IntArray
    win_hazard: FloatArray
    lost_hazard: FloatArray
    survival: FloatArray
    survival_before: FloatArray
    cumulative_conversion: FloatArray
    expected_attempts: FloatArray
    hazard_fit: HazardFit = "raw"
    at_risk: IntArray | None = None
    won: IntArray | None = None
    lost: IntArray | None = None
    censored: IntArray | None = None
    naive_cohort_rate: FloatArray | None = None
    leads: IntArray | None = None
    won_without_attempt: IntArray | None = None

    @property
    def max_attempt(self) -> int:
        """K, the last attempt number in the table."""
        return int(self.attempt.size)


class Bounds(NamedTuple):
    """Life tables when L cannot be told from C: ``lower`` treats them as lost, ``upper`` as
    censored. F(N) of ``lower`` <= F(N) of ``upper`` for every N."""

    lower: LifeTable
    upper: LifeTable


@dataclass(frozen=True)
class Bootstrap:
    """The bootstrap by lead (B resamples, seeded).

    ``optimal_attempts``: N* of each resample, shape (B,); ``optimal_attempts_ci``: its 2.5 and
    97.5 percentiles (inverted-CDF, so both are attempt counts); ``knee``: the knee of each
    resample, 0 where none was found; ``profit_bands``: the 2.5/50/97.5 percentiles of Pi(N)
    across resamples, shape (3, K), for the chart.
    """

    optimal_attempts: IntArray
    optimal_attempts_ci: tuple[int, int]
    knee: IntArray
    profit_bands: FloatArray
    n_resamples: int
    seed: int

    def optimal_attempts_distribution(self) -> dict[int, float]:
        """Share of resamples per N*, e.g. ``{7: 0.21, 8: 0.43, 9: 0.36}``."""
        values, counts = np.unique(self.optimal_attempts, return_counts=True)
        return {int(v): float(c) / self.n_resamples for v, c in zip(values, counts, strict=True)}

    def knee_distribution(self) -> dict[int | None, float]:
        """Share of resamples per knee; ``None`` collects the resamples without a knee."""
        values, counts = np.unique(self.knee, return_counts=True)
        return {
            (int(v) if v > 0 else None): float(c) / self.n_resamples
            for v, c in zip(values, counts, strict=True)
        }


# --------------------------------------------------------------------------------------------
# The table


def _as_counts(*arrays: ArrayLike) -> list[IntArray]:
    """Validate count arrays (same shape, at least k = 0, whole numbers >= 0) as int64."""
    out: list[IntArray] = []
    for a in arrays:
        arr = np.asarray(a)
        if arr.ndim == 0 or arr.shape[-1] == 0:
            raise DataError("attempt counts must be arrays indexed by k = 0..K (at least k = 0)")
        if arr.dtype.kind not in "iub":
            if (
                arr.dtype.kind != "f"
                or not np.all(np.isfinite(arr))
                or np.any(arr != np.round(arr))
            ):
                raise DataError("attempt counts must be whole numbers of leads")
        if np.any(arr < 0):
            raise DataError("attempt counts must not be negative")
        out.append(arr.astype(np.int64))
    if len({a.shape for a in out}) > 1:
        shapes = ", ".join(str(a.shape) for a in out)
        raise DataError(f"won, lost and censored counts must have the same shape, not {shapes}")
    return out


def from_hazards(
    win_hazard: ArrayLike, lost_hazard: ArrayLike, /, *, hazard_fit: HazardFit = "raw"
) -> LifeTable:
    """Life table from hazards h^W, h^L for k = 1..K (the one place the formulas live).

    S(k) = prod_{j<=k} (1 - h_j^W - h_j^L), F(N) = sum_{k<=N} S(k-1) h_k^W,
    A(N) = sum_{k<=N} S(k-1).

    >>> t = from_hazards([0.1, 0.125], [0.1, 0.0])
    >>> [round(float(x), 3) for x in t.survival], [float(x) for x in t.expected_attempts]
    ([0.8, 0.7], [1.0, 1.8])
    """
    h_w = np.asarray(win_hazard, dtype=np.float64)
    h_l = np.asarray(lost_hazard, dtype=np.float64)
    if h_w.shape != h_l.shape or h_w.ndim == 0:
        raise DataError(f"hazard arrays must have the same shape, not {h_w.shape}, {h_l.shape}")
    if not (np.all(np.isfinite(h_w)) and np.all(np.isfinite(h_l))):
        raise DataError("hazards must be finite")
    if np.any(h_w < 0) or np.any(h_l < 0):
        raise DataError("hazards must not be negative")
    stay = 1.0 - h_w - h_l
    stay = np.asarray(np.where(np.abs(stay) < _EPS, 0.0, stay), dtype=np.float64)
    if np.any(stay < 0):
        raise DataError("h^W + h^L exceeds 1 at some attempt: hazards are shares of those at risk")
    survival = np.cumprod(stay, axis=-1, dtype=np.float64)
    survival_before = np.concatenate([np.ones_like(survival[..., :1]), survival[..., :-1]], -1)
    return LifeTable(
        attempt=np.arange(1, h_w.shape[-1] + 1, dtype=np.int64),
        win_hazard=h_w,
        lost_hazard=h_l,
        survival=survival,
        survival_before=survival_before,
        cumulative_conversion=np.cumsum(survival_before * h_w, axis=-1),
        expected_attempts=np.cumsum(survival_before, axis=-1),
        hazard_fit=hazard_fit,
    )


def life_table(
    won: ArrayLike, lost: ArrayLike, censored: ArrayLike, /, *, smooth: HazardFit = "raw"
) -> LifeTable:
    """Life table from counts per attempts k = 0..K (arrays ``(..., K + 1)``).

    n_k = #{m_i >= k} for k >= 1, h_k^W = d_k^W / n_k, h_k^L = d_k^L / n_k, then
    :func:`from_hazards`. ``smooth="isotonic"`` replaces h^W by its non-increasing weighted
    isotonic fit (weights n_k), capped at 1 - h^L, before S, F and A are computed. Trailing
    k with nobody at risk are kept, with hazards 0.

    >>> t = life_table([0, 1, 1], [0, 1, 0], [0, 0, 1])
    >>> t.at_risk.tolist(), t.win_hazard.tolist()
    ([4, 2], [0.25, 0.5])
    """
    if smooth not in ("raw", "isotonic"):
        raise ValueError(f'smooth must be "raw" or "isotonic", not {smooth!r}')
    w, lo, ce = _as_counts(won, lost, censored)
    total = w + lo + ce
    at_risk = np.cumsum(total[..., ::-1], axis=-1)[..., ::-1][..., 1:]
    d_w, d_l = w[..., 1:], lo[..., 1:]
    h_w = np.divide(d_w, at_risk, out=np.zeros(at_risk.shape), where=at_risk > 0)
    h_l = np.divide(d_l, at_risk, out=np.zeros(at_risk.shape), where=at_risk > 0)
    if smooth == "isotonic":
        h_w = np.minimum(isotonic_nonincreasing(h_w, at_risk), 1.0 - h_l)
    closed = d_w + d_l
    naive = np.divide(d_w, closed, out=np.full(closed.shape, np.nan), where=closed > 0)
    return replace(
        from_hazards(h_w, h_l, hazard_fit=smooth),
        at_risk=at_risk,
        won=d_w,
        lost=d_l,
        censored=ce[..., 1:],
        naive_cohort_rate=naive,
        leads=total.sum(axis=-1),
        won_without_attempt=w[..., 0],
    )


def bounds(
    won: ArrayLike,
    lost_or_censored: ArrayLike,
    /,
    *,
    censored: ArrayLike | None = None,
    smooth: HazardFit = "raw",
) -> Bounds:
    """Both tables when lost-after-contact cannot be told from censored (METHODS.md §3).

    ``lower``: the ambiguous leads treated as lost; ``upper``: treated as censored. Leads known
    to be censored (open) go in ``censored``.

    >>> b = bounds([0, 1, 0, 1], [0, 1, 1, 0])
    >>> float(b.lower.cumulative_conversion[-1]), float(b.upper.cumulative_conversion[-1])
    (0.5, 1.0)
    """
    w, amb = _as_counts(won, lost_or_censored)
    known = np.zeros_like(w) if censored is None else _as_counts(censored)[0]
    none = np.zeros_like(w)
    return Bounds(
        lower=life_table(w, amb, known, smooth=smooth),
        upper=life_table(w, none, known + amb, smooth=smooth),
    )


def last_observed_attempt(table: LifeTable, /) -> int:
    """The largest k with anyone at risk (K for a table built from hazards)."""
    if table.at_risk is None:
        return table.max_attempt
    return int(np.count_nonzero(table.at_risk > 0))


def is_identified(table: LifeTable, optimal_attempts: int, /) -> bool:
    """False when N* sits at the largest observed attempt count (or K = 0): then N* only says
    "at least N*: the data holds no longer sequences"."""
    return 0 < optimal_attempts < last_observed_attempt(table)


def max_attempts_supported(table: LifeTable, /, *, min_at_risk: int = MIN_AT_RISK) -> int:
    """N_max = the largest k with n_k >= ``min_at_risk`` (0 when there is none; K for a
    table built from hazards)."""
    if table.at_risk is None:
        return table.max_attempt
    return int(np.count_nonzero(table.at_risk >= min_at_risk))


# --------------------------------------------------------------------------------------------
# Isotonic (non-increasing) hazard


def _check_money(value: float, cost: float) -> None:
    if not (np.isfinite(value) and np.isfinite(cost)) or value < 0 or cost < 0:
        raise ValueError(f"value ({value}) and cost per attempt ({cost}) must be finite and >= 0")


def profit(table: LifeTable, /, value: float, cost: float) -> FloatArray:
    """Expected profit per lead if sales stops after N attempts, N = 1..K.

    Pi(N) = V F(N) - c A(N). The METHODS.md hazard fixture with V = 2,000 € and
    c = 60 €/h / 6 attempts/h = 10 € gives Pi(8) = 151.37 €, the maximum.
    """
    _check_money(value, cost)
    return value * table.cumulative_conversion - cost * table.expected_attempts


def marginal_profit(table: LifeTable, /, value: float, cost: float) -> FloatArray:
    """Delta Pi(N) = Pi(N) - Pi(N-1) = S(N-1) (V h_N^W - c): the N-th attempt pays when > 0."""
    _check_money(value, cost)
    return table.survival_before * (value * table.win_hazard - cost)


def optimal_attempts(expected_profit: ArrayLike, /) -> IntArray:
    """N* = argmax_N Pi(N) over N = 1..K along the last axis; ties (within a relative 1e-9)
    go to the smallest N. Returns an int array of the leading shape (0-d for one curve; 0 when
    K = 0).

    >>> int(optimal_attempts([5.0, 7.0, 7.0, 6.0]))
    2
    """
    pi = np.asarray(expected_profit, dtype=np.float64)
    if pi.shape[-1] == 0:
        return np.zeros(pi.shape[:-1], dtype=np.int64)
    best = pi.max(axis=-1, keepdims=True)
    tol = _TIE * np.maximum(1.0, np.abs(best))
    return np.asarray(np.argmax(pi >= best - tol, axis=-1) + 1, dtype=np.int64)


def near_optimal(expected_profit: ArrayLike, /, share: float = NEAR_OPTIMAL_SHARE) -> list[int]:
    """{N : Pi(N) >= Pi* - (1 - share) |Pi*|}, Pi* = Pi(N*), for one curve.

    With Pi* > 0 this is METHODS.md's {N : Pi(N) >= 0.99 Pi(N*)}. When no N pays (Pi* <= 0)
    the 0.99 rule would exclude N* itself, so the band is taken below Pi* (1.01 Pi* for
    Pi* < 0; the N with Pi(N) = 0 for Pi* = 0): still the N within 1% of the best.

    >>> near_optimal([50.0, 99.5, 100.0, 98.0])
    [2, 3]
    """
    pi = np.asarray(expected_profit, dtype=np.float64)
    if pi.ndim != 1:
        raise ValueError("near_optimal takes one profit curve")
    if pi.size == 0:
        return []
    best = float(pi.max())
    floor = best - (1.0 - share) * abs(best) - _TIE * max(1.0, abs(best))
    return [int(n) for n in np.flatnonzero(pi >= floor) + 1]


def _knee_of_curve(y: FloatArray) -> int | None:
    """Kneedle (kneed, concave, increasing, S=1) on y over N = 1..len(y); None when the
    curve has fewer than 3 points or is flat (kneed would divide by zero).

    The rule of :func:`knees_batch` (held equal to kneed by a test), so that a command does
    not import kneed, which imports matplotlib and scipy (a second or more per run)."""
    if y.size < 3 or not np.all(np.isfinite(y)) or float(np.ptp(y)) == 0.0:
        return None
    found = int(knees_batch(y[None, :], np.array([y.size]))[0])
    return found or None


def knees_batch(curves: FloatArray, lengths: IntArray, /) -> IntArray:
    """Kneedle on many curves at once (0 where none): row b on N = 1..lengths[b].

    The same rule as ``kneed.KneeLocator(curve="concave", direction="increasing", S=1)``
    (offline; local extrema as ``scipy.signal.argrelextrema``), vectorised over the rows
    that share a length; a test holds it equal to kneed on random and plateaued curves.
    """
    curves = np.asarray(curves, dtype=float)
    lengths = np.asarray(lengths, dtype=np.int64)
    out = np.zeros(curves.shape[0], dtype=np.int64)
    for n in np.unique(lengths):
        if n < 3:
            continue
        rows = np.flatnonzero(lengths == n)
        y = curves[rows, :n]
        lo, hi = y.min(axis=1, keepdims=True), y.max(axis=1, keepdims=True)
        ok = np.all(np.isfinite(y), axis=1) & (hi[:, 0] > lo[:, 0])
        rows, y, lo, hi = rows[ok], y[ok], lo[ok], hi[ok]
        if not rows.size:
            continue
        x = np.arange(n) / (n - 1)
        d = (y - lo) / (hi - lo) - x
        prev = np.concatenate([d[:, :1], d[:, :-1]], axis=1)  # mode="clip" at the ends
        nxt = np.concatenate([d[:, 1:], d[:, -1:]], axis=1)
        is_max = (d >= prev) & (d >= nxt)
        is_min = (d <= prev) & (d <= nxt)
        started = np.cumsum(is_max, axis=1) > 0
        step = 1.0 / (n - 1)  # S × mean spacing of the normalised x
        threshold = np.zeros(rows.size)
        at = np.zeros(rows.size, dtype=np.int64)
        active = np.zeros(rows.size, dtype=bool)
        found = np.zeros(rows.size, dtype=np.int64)
        for i in range(n - 1):
            on = started[:, i]
            mx, mn = on & is_max[:, i], on & is_min[:, i]
            threshold = np.where(mx, d[:, i] - step, threshold)
            at = np.where(mx, i, at)
            active = np.where(mx, True, active)
            threshold = np.where(mn, 0.0, threshold)
            active = np.where(mn, False, active)
            hit = on & active & (found == 0) & (d[:, i + 1] < threshold)
            found = np.where(hit, at + 1, found)
        out[rows] = found
    return out


def knee(table: LifeTable, /, value: float, *, min_at_risk: int = MIN_AT_RISK) -> int | None:
    """Where the cumulative return V F(N) flattens: Kneedle (Satopää et al. 2011, ``kneed``,
    ``curve="concave", direction="increasing", S=1``) on N in [1, N_max], N_max the largest k
    with n_k >= ``min_at_risk``. None when N_max < 3, the curve is flat or no knee is found.
    For one table (1-D)."""
    if table.cumulative_conversion.ndim != 1:
        raise ValueError("knee takes one table; bootstrap() handles stacks")
    n_max = max_attempts_supported(table, min_at_risk=min_at_risk)
    return _knee_of_curve(value * table.cumulative_conversion[:n_max])


# --------------------------------------------------------------------------------------------
# Bootstrap


def resample_counts(
    won: ArrayLike, lost: ArrayLike, censored: ArrayLike, /, *, B: int = 1000, seed: int = 0
) -> tuple[IntArray, IntArray, IntArray]:
    """B bootstrap resamples by lead, as counts ``(B, K + 1)`` each.

    Resampling n leads with replacement is one multinomial draw of n over the (k, state) cells
    with probabilities count / n; all B are drawn at once.
    """
    if B < 1:
        raise ValueError(f"B must be >= 1, not {B}")
    w, lo, ce = _as_counts(won, lost, censored)
    if w.ndim != 1:
        raise ValueError("resample_counts takes one group (1-D counts)")
    cells = np.concatenate([w, lo, ce])
    n = int(cells.sum())
    if n == 0:
        draws = np.zeros((B, cells.size), dtype=np.int64)
    else:
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(n, cells / n, size=B).astype(np.int64)
    k1 = w.size
    return draws[:, :k1], draws[:, k1 : 2 * k1], draws[:, 2 * k1 :]


def bootstrap(
    won: ArrayLike,
    lost: ArrayLike,
    censored: ArrayLike,
    /,
    value: float,
    cost: float,
    *,
    B: int = 1000,
    seed: int = 0,
    smooth: HazardFit = "raw",
    min_at_risk: int = MIN_AT_RISK,
) -> Bootstrap:
    """Bootstrap by lead of N*, the knee and Pi(N): B multinomial resamples, life tables
    vectorised over B; the knee by :func:`knees_batch` (kneed's rule, vectorised)."""
    rw, rl, rc = resample_counts(won, lost, censored, B=B, seed=seed)
    tables = life_table(rw, rl, rc, smooth=smooth)
    pi = profit(tables, value, cost)
    n_star = optimal_attempts(pi)
    lo, hi = np.quantile(n_star, [(1 - CI_LEVEL) / 2, (1 + CI_LEVEL) / 2], method="inverted_cdf")
    assert tables.at_risk is not None
    n_max = np.count_nonzero(tables.at_risk >= min_at_risk, axis=-1)
    curves = value * tables.cumulative_conversion
    knees = knees_batch(curves, n_max)
    if pi.shape[-1]:
        bands = np.percentile(pi, PROFIT_BAND_PERCENTILES, axis=0)
    else:
        bands = np.zeros((len(PROFIT_BAND_PERCENTILES), 0))
    return Bootstrap(
        optimal_attempts=n_star,
        optimal_attempts_ci=(int(lo), int(hi)),
        knee=knees,
        profit_bands=bands,
        n_resamples=B,
        seed=seed,
    )


# --------------------------------------------------------------------------------------------
# Identification (what the data can and cannot tell)


def _rate_text(x: float) -> str:
    """A small rate for people: per mille below 1% (two significant digits), else percent."""
    if x < 0.01:
        return f"{float(f'{x * 1000:.2g}'):g}‰"
    return f"{float(f'{x * 100:.3g}'):g}%"


@dataclass(frozen=True)
class Identification:
    """Whether the data rule out, with 95% confidence, that an attempt beyond N* pays.

    ``tail``: the attempts ``first..last`` beyond N* that the data reach, with their pooled
    ``wins`` and ``lead_attempts`` and the exact upper bound ``rate_upper`` of the pooled win
    rate (under a non-increasing hazard the first of them has the largest hazard, at least
    the pooled one: a pooled bound above c/V means one more attempt may pay); ``paying``: the
    largest N whose win hazard is shown (lower bound, forward-pooled) above c/V.
    """

    identified: bool
    optimal_attempts: int
    paying: int
    break_even: float
    reason: str | None
    tail: tuple[int, int] | None
    wins: int
    lead_attempts: int
    rate_upper: float | None
    level: float


def identify(
    won: ArrayLike,
    at_risk: ArrayLike,
    /,
    *,
    estimate: int,
    value: float,
    cost: float,
    value_range: tuple[float, float] | None = None,
    level: float = CI_LEVEL,
) -> Identification:
    """METHODS.md §3 identification for one group from d_k^W and n_k, k = 1..K.

    ``estimate`` N̂* (argmax of the fitted model's profit). Identified when N̂* < K and the
    exact one-sided upper bound of the win rate pooled over k = N̂*+1..K, times V, is below
    c. Otherwise N* = the largest N the data show still paying (exact lower bound of the
    hazard pooled forward from N — a lower bound of h_N when h does not increase — times V
    above c; at least 1) and ``reason`` says why in numbers. With V uncertain
    (``value_range`` = V's one-sided bounds at the same level), rate and V are each bounded at
    sqrt(level), so that the product bound keeps ``level``.
    """
    d = np.asarray(won, dtype=np.float64)
    n = np.asarray(at_risk, dtype=np.float64)
    k_max = int(np.count_nonzero(n > 0))
    d, n = d[:k_max], n[:k_max]
    rate_level = level if value_range is None else float(np.sqrt(level))
    v_lo, v_hi = (value, value) if value_range is None else value_range
    be = cost / value if value > 0 else float("inf")
    # attempts shown to pay: max over windows N..l (l >= N) of the exact lower bound
    paying = 0
    if k_max and v_lo > 0:
        cd = np.concatenate([[0.0], np.cumsum(d)])
        cn = np.concatenate([[0.0], np.cumsum(n)])
        lo_best = np.zeros(k_max)
        for length in _window_lengths(k_max):
            j = np.arange(k_max - length + 1)
            lb = exact_lower(cd[j + length] - cd[j], cn[j + length] - cn[j], rate_level)
            lo_best[j] = np.maximum(lo_best[j], lb)
        shown = np.flatnonzero(v_lo * lo_best > cost)
        paying = int(shown[-1]) + 1 if shown.size else 0
    if k_max == 0:
        return Identification(False, 0, 0, be, "no lead has a contact attempt", None, 0, 0,
                              None, level)  # fmt: skip
    est = int(estimate)
    if est < k_max:
        wins, exposure = int(d[est:].sum()), int(n[est:].sum())
        bound = float(exact_upper(wins, exposure, rate_level))
        if v_hi * bound < cost and paying <= est:
            return Identification(True, est, paying, be, None, (est + 1, k_max), wins,
                                  exposure, bound, level)  # fmt: skip
    n_star = max(paying, 1)
    lvl = f"{level:.0%} upper bound" + ("" if value_range is None else ", V at its upper bound")
    if n_star < k_max:
        wins, exposure = int(d[n_star:].sum()), int(n[n_star:].sum())
        ub: float | None = float(exact_upper(wins, exposure, rate_level))
        assert ub is not None
        span = f"k = {n_star + 1}" + (f"–{k_max}" if k_max > n_star + 1 else "")
        reason = (
            f"{wins:,} wins in {exposure:,} lead-attempts at {span}: the win rate there may be "
            f"up to {_rate_text(ub)} ({lvl}); one more attempt pays above c/V = "
            f"{_rate_text(be)}, so N* ≥ {n_star} is all the data say"
            + (f" (the model's best estimate is {est})." if est > n_star else ".")
        )
        tail: tuple[int, int] | None = (n_star + 1, k_max)
    else:
        wins, exposure, tail, ub = 0, 0, None, None
        reason = (
            f"the data show attempt {k_max} still paying (its win rate is above c/V = "
            f"{_rate_text(be)} with 95% confidence) and no lead got more than {k_max} "
            f"attempts, so N* ≥ {k_max} is all the data say."
        )
    if paying == 0:
        reason += " Not even the first attempt is shown to pay: the group is too small to say."
    return Identification(False, n_star, paying, be, reason, tail, wins, exposure, ub, level)


def _window_lengths(k: int) -> list[int]:
    """1, 2, 3, 4, 6, 8, 12, 16, … up to k, and k: the pooled windows tried for lower bounds."""
    out, x = [1, 2, 3], 4
    while x < k:
        out += [x, x + x // 2]
        x *= 2
    return sorted({w for w in [*out, k] if 1 <= w <= k})


# --------------------------------------------------------------------------------------------
# Warnings and the group result


def sanity_warnings(
    table: LifeTable,
    /,
    *,
    optimal_attempts: int,
    expected_profit: ArrayLike,
    knee: int | None,
    min_at_risk: int = MIN_AT_RISK,
    identification: Identification | None = None,
) -> list[str]:
    """METHODS.md §6 (warn, never fail), then the edge cases of this table.

    N* above 20 on wage cost alone; first-attempt win hazard above 50%; less than 80% of wins
    (F(6)/F(K)) by the 6th attempt; knee and N* more than one attempt apart; fewer than 30
    leads. Also: N* not identified (with the reason), N* beyond N_max, no N that pays.
    """
    out: list[str] = []
    n_star = optimal_attempts
    k_max = table.max_attempt
    leads = int(table.leads) if table.leads is not None else None
    if k_max == 0:
        return ["No lead in this group has a contact attempt: there is nothing to analyse."]
    if n_star > 20:
        out.append(
            f"N* = {n_star} attempts is above 20 on wage cost alone: the cost per attempt "
            "leaves out what else the rep could do with the time; check the cost and the value."
        )
    h1 = float(table.win_hazard[0])
    if h1 > 0.5:
        out.append(
            f"The first-attempt win hazard is {h1:.0%}, above 50%: check that attempts are "
            "counted strictly before the close and that won leads had real contact attempts."
        )
    f = table.cumulative_conversion
    if f[-1] > 0:
        share = float(f[min(6, k_max) - 1] / f[-1])
        if share < 0.8:
            out.append(
                f"Only {share:.0%} of wins come by the 6th attempt (below 80%): check for "
                "automated or duplicated activities inflating the attempt counts."
            )
    if knee is not None and abs(knee - n_star) > 1:
        out.append(
            f"The plateau (knee at {knee}) and the profit optimum (N* = {n_star}) are more "
            "than one attempt apart: choose by N*; the knee only shows where returns flatten."
        )
    if leads is not None and leads < 30:
        out.append(
            f"Only {leads} leads in this group (fewer than 30): the table is noise; "
            "pool it with a similar group."
        )
    if identification is None:
        if not is_identified(table, n_star):
            last = last_observed_attempt(table)
            out.append(
                f"N* is the largest observed attempt count: at least {last}, "
                "the data holds no longer sequences."
            )
    elif not identification.identified:
        out.append(f"N* is not identified: {identification.reason}")
    n_max = max_attempts_supported(table, min_at_risk=min_at_risk)
    if table.at_risk is not None and n_star > n_max:
        out.append(
            f"N* = {n_star} rests on fewer than {min_at_risk} leads at risk "
            f"(supported up to {n_max} attempts): treat it as indicative."
        )
    pi = np.asarray(expected_profit, dtype=np.float64)
    if pi.size and n_star and float(pi[n_star - 1]) <= 0:
        out.append(
            "No number of attempts pays for itself (expected profit <= 0 for every N): "
            "the value per win does not cover the cost of the attempts."
        )
    return out


FLAT_SET = 3
"""A near-optimal set of at least this many attempt counts makes the profit curve *flat*:
the output then leads with the set."""


@dataclass(frozen=True)
class GroupAttempts:
    """The attempts analysis of one group (METHODS.md §3); ``to_dict`` gives the SPEC.md keys.

    ``table`` is the life table of the counts (raw hazards, as counted); ``fitted`` the life
    table of the smooth non-increasing hazard model (``hazard``), whose profit
    ``expected_profit`` chooses N̂*. ``identified`` is true only when the data rule out, with
    95% confidence, that an attempt beyond N̂* pays; otherwise ``optimal_attempts`` is the
    largest N the data show still paying and ``reason`` says why in numbers.
    ``optimal_attempts_ci`` = the 2.5/97.5 percentiles of N* over posterior draws of the
    hazard and of V; its upper end is None (no bound) when N* is not identified.
    ``near_optimal`` = {N : Π(N) >= 0.99 Π(N*)} on the fitted profit curve.
    """

    table: LifeTable
    value: float
    cost_per_attempt: float
    expected_profit: FloatArray
    optimal_attempts: int
    optimal_attempts_ci: tuple[int, int | None]
    identified: bool
    knee: int | None
    max_attempts_supported: int
    near_optimal: list[int]
    warnings: list[str]
    posterior: Bootstrap
    fitted: LifeTable | None = None
    hazard: HazardModel | None = None
    identification: Identification | None = None
    value_se: float = 0.0

    @property
    def reason(self) -> str | None:
        """Why N* is not identified, in numbers (None when it is)."""
        return None if self.identification is None else self.identification.reason

    @property
    def won_without_attempt(self) -> int:
        """Leads won with no contact attempt (outside the attempt hazards)."""
        count = self.table.won_without_attempt
        return 0 if count is None else int(count)

    @property
    def flat(self) -> bool:
        """The profit curve is flat near its top (the near-optimal set is the message)."""
        return self.identified and len(self.near_optimal) >= FLAT_SET

    @property
    def interval_text(self) -> str:
        """N*'s interval for people: ``"7–9"``, or ``"≥ 5"`` when it has no upper end."""
        lo, hi = self.optimal_attempts_ci
        if hi is None:
            return f"≥ {lo}"
        return f"{lo}–{hi}" if hi != lo else str(lo)

    @property
    def optimal_attempts_text(self) -> str:
        """N* for people: ``"8"``; ``"anything from 7 to 12 attempts is within 1% of the best
        (N* = 9)"`` when the curve is flat; ``"at least 12: …the reason…"`` when not
        identified."""
        if not self.identified:
            why = self.reason or "the data holds no longer sequences"
            return f"at least {self.optimal_attempts}: {why}"
        if self.flat:
            lo, hi = self.near_optimal[0], self.near_optimal[-1]
            return (
                f"anything from {lo} to {hi} attempts is within 1% of the best "
                f"(N* = {self.optimal_attempts})"
            )
        return str(self.optimal_attempts)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict (python ints/floats/None only). ``naive_cohort_rate`` per row is the
        guide's biased view (won / closed with exactly k attempts), null where none closed;
        ``win_hazard_fit`` and its 95% interval are the model's, ``expected_profit`` its
        Π(N)."""
        t = self.table
        assert t.at_risk is not None and t.won is not None and t.lost is not None
        assert t.naive_cohort_rate is not None
        fit_h = self.fitted.win_hazard if self.fitted is not None else t.win_hazard
        if self.hazard is not None:
            h_lo, h_hi = self.hazard.interval()
        else:
            h_lo = h_hi = t.win_hazard
        rows: list[dict[str, object]] = []
        for i in range(t.max_attempt):
            naive = float(t.naive_cohort_rate[i])
            rows.append(
                {
                    "attempt": int(t.attempt[i]),
                    "at_risk": int(t.at_risk[i]),
                    "won": int(t.won[i]),
                    "lost": int(t.lost[i]),
                    "win_hazard": float(t.win_hazard[i]),
                    "win_hazard_fit": float(fit_h[i]),
                    "win_hazard_fit_ci": [float(h_lo[i]), float(h_hi[i])],
                    "cumulative_conversion": float(t.cumulative_conversion[i]),
                    "expected_attempts": float(t.expected_attempts[i]),
                    "expected_profit": float(self.expected_profit[i]),
                    "naive_cohort_rate": None if np.isnan(naive) else naive,
                }
            )
        ident = self.identification
        lo, hi = self.optimal_attempts_ci
        return {
            "optimal_attempts": int(self.optimal_attempts),
            "optimal_attempts_ci": [int(lo), None if hi is None else int(hi)],
            "identified": bool(self.identified),
            "reason": self.reason,
            "summary": self.optimal_attempts_text,
            "paying_attempts": None if ident is None else int(ident.paying),
            "knee": None if self.knee is None else int(self.knee),
            "max_attempts_supported": int(self.max_attempts_supported),
            "table": rows,
            "near_optimal": [int(n) for n in self.near_optimal],
            "warnings": list(self.warnings),
            "value": float(self.value),
            "value_se": float(self.value_se),
            "cost_per_attempt": float(self.cost_per_attempt),
            "hazard_fit": t.hazard_fit,
            "hazard_model": None if self.hazard is None else self.hazard.model,
            "won_without_attempt": self.won_without_attempt,
        }


def posterior_optimum(
    model: HazardModel,
    lost: ArrayLike,
    at_risk: ArrayLike,
    /,
    *,
    value: float,
    value_se: float,
    cost: float,
    seed: int,
    min_at_risk: int = MIN_AT_RISK,
) -> Bootstrap:
    """N*, the knee and Π(N) over posterior draws of the win hazard (``model.draws``), the
    lost hazard (Jeffreys Beta per k) and V (log-normal with V's standard error)."""
    draws, k = model.draws.shape
    rng = np.random.default_rng([seed, 7])
    d_l = np.asarray(lost, dtype=np.float64)
    n = np.asarray(at_risk, dtype=np.float64)
    reached = n > 0
    h_l = rng.beta(
        np.where(reached, d_l + 0.5, 1.0), np.where(reached, n - d_l + 0.5, 1.0), (draws, k)
    )
    h_l = np.where(reached, np.minimum(h_l, 1.0 - model.draws), 0.0)
    tables = from_hazards(model.draws, h_l)
    v = value_draws(value, value_se, draws, rng)
    pi = v[:, None] * tables.cumulative_conversion - cost * tables.expected_attempts
    n_star = optimal_attempts(pi)
    lo, hi = np.quantile(n_star, [(1 - CI_LEVEL) / 2, (1 + CI_LEVEL) / 2], method="inverted_cdf")
    n_max = np.full(draws, int(np.count_nonzero(n >= min_at_risk)))
    knees = knees_batch(v[:, None] * tables.cumulative_conversion, n_max)
    if k:
        bands = np.percentile(pi, PROFIT_BAND_PERCENTILES, axis=0)
    else:
        bands = np.zeros((len(PROFIT_BAND_PERCENTILES), 0))
    return Bootstrap(
        optimal_attempts=n_star,
        optimal_attempts_ci=(int(lo), int(hi)),
        knee=knees,
        profit_bands=bands,
        n_resamples=draws,
        seed=seed,
    )


def group_attempts(
    won: ArrayLike,
    lost: ArrayLike,
    censored: ArrayLike,
    /,
    *,
    value: float,
    cost_per_attempt: float,
    smooth: HazardFit = "raw",
    B: int = 1000,
    seed: int = 0,
    min_at_risk: int = MIN_AT_RISK,
    value_se: float = 0.0,
    model: ModelName | None = None,
    prior_hazard: ArrayLike | None = None,
    prior_strength: float = 0.0,
) -> GroupAttempts:
    """The whole analysis for one group from its counts per attempts k = 0..K.

    Trailing k with no lead are dropped, so K is the largest observed attempt count. Then the
    life table of the counts; the smooth non-increasing hazard model (``model``, or chosen by
    cross-validated likelihood; shrunk toward ``prior_hazard`` with ``prior_strength``
    pseudo lead-attempts per k); N̂* = argmax of its Π(N); identification (:func:`identify`);
    the interval of N* over ``B`` posterior draws of the hazards and of V (``value_se`` its
    standard error); the near-optimal set, the knee and the sanity warnings.

    >>> g = group_attempts([0, 1, 1, 1, 0, 1, 0], [0, 1, 0, 0, 1, 0, 0],
    ...                    [0, 0, 1, 1, 1, 0, 1], value=2000, cost_per_attempt=10, B=200)
    >>> g.optimal_attempts, g.identified
    (5, False)
    """
    _check_money(value, cost_per_attempt)
    if not np.isfinite(value_se) or value_se < 0:
        raise ValueError(f"value_se ({value_se}) must be finite and >= 0")
    w, lo, ce = _as_counts(won, lost, censored)
    if w.ndim != 1:
        raise ValueError("group_attempts takes one group (1-D counts)")
    observed = np.flatnonzero((w + lo + ce)[1:] > 0)
    k_max = int(observed[-1]) + 1 if observed.size else 0
    w, lo, ce = w[: k_max + 1], lo[: k_max + 1], ce[: k_max + 1]
    table = life_table(w, lo, ce, smooth=smooth)
    assert table.at_risk is not None and table.won is not None and table.lost is not None
    hz = fit_hazard(
        w,
        lo,
        ce,
        draws=B,
        seed=seed,
        model=model,
        prior_hazard=prior_hazard,
        prior_strength=prior_strength,
    )
    fitted = from_hazards(
        hz.win_hazard, np.minimum(table.lost_hazard, 1.0 - hz.win_hazard), hazard_fit=smooth
    )
    pi = profit(fitted, value, cost_per_attempt)
    estimate = int(optimal_attempts(pi))
    post = posterior_optimum(
        hz,
        table.lost,
        table.at_risk,
        value=value,
        value_se=value_se,
        cost=cost_per_attempt,
        seed=seed,
        min_at_risk=min_at_risk,
    )
    v_range = None
    if value_se > 0 and value > 0:
        rng = np.random.default_rng([seed, 11])
        vd = value_draws(value, value_se, 4000, rng)
        q = float(np.sqrt(CI_LEVEL))
        v_range = (float(np.quantile(vd, 1 - q)), float(np.quantile(vd, q)))
    ident = identify(
        table.won,
        table.at_risk,
        estimate=estimate,
        value=value,
        cost=cost_per_attempt,
        value_range=v_range,
    )
    n_star = ident.optimal_attempts
    lo_ci, hi_ci = post.optimal_attempts_ci
    ci: tuple[int, int | None] = (
        (min(lo_ci, n_star), max(hi_ci, n_star)) if ident.identified else (min(lo_ci, n_star), None)
    )
    plateau = knee(table, value, min_at_risk=min_at_risk)
    near = near_optimal(pi) if ident.identified else [n_star]
    return GroupAttempts(
        table=table,
        value=float(value),
        cost_per_attempt=float(cost_per_attempt),
        expected_profit=pi,
        optimal_attempts=n_star,
        optimal_attempts_ci=ci if k_max else (0, 0),
        identified=ident.identified,
        knee=plateau,
        max_attempts_supported=max_attempts_supported(table, min_at_risk=min_at_risk),
        near_optimal=near if k_max else [],
        warnings=sanity_warnings(
            table,
            optimal_attempts=n_star,
            expected_profit=pi,
            knee=plateau,
            min_at_risk=min_at_risk,
            identification=ident if k_max else None,
        ),
        posterior=post,
        fitted=fitted,
        hazard=hz,
        identification=ident,
        value_se=float(value_se),
    )
