"""The win hazard on the attempt axis as a smooth, non-increasing model (METHODS.md §3).

Everything here works on aggregates: ``d[k]`` wins and ``n[k]`` leads at risk at attempt
``k = 1..K`` (never one row per lead). Three candidate models of ``h_k``:

- ``"geometric"``: discrete-time logistic ``logit h_k = a + b (k - 1)``, ``b <= 0``
  (log-linear in k for small hazards: h_k ~ h_1 r^(k-1));
- ``"power"``: ``logit h_k = a + b log k``, ``b <= 0`` (a power law);
- ``"isotonic"``: the weighted non-increasing least-squares fit (the binomial maximum
  likelihood under a non-increasing hazard).

:func:`fit` chooses among them by 5-fold cross-validated binomial log-likelihood (the folds
split *leads*: every (k, state) cell is thinned multinomially, which is what assigning each
lead to a random fold does to the counts), then draws the hazard's posterior:

- isotonic: a projection posterior (Jeffreys Beta draws per k, or a parent-group prior,
  each draw projected onto non-increasing curves; Chakraborty & Ghosal 2021);
- logistic: the Laplace approximation of the posterior of ``(a, b)``, ``b`` kept ``<= 0``.

Bounds for identification are exact (Clopper–Pearson) on pooled counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "MODELS",
    "HazardModel",
    "exact_lower",
    "exact_upper",
    "fit",
    "fit_model",
    "isotonic_nonincreasing",
    "lead_folds",
    "value_draws",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_ISOTONIC_CHUNK = 4_000_000  # cells per block of the vectorised isotonic fit (rows * K * K)
ModelName = Literal["geometric", "power", "isotonic"]
MODELS: tuple[ModelName, ...] = ("geometric", "power", "isotonic")

FOLDS = 5
_CLIP = 1e-7  # hazards kept in [_CLIP, 1 - _CLIP] inside log-likelihoods
_NEWTON_STEPS = 40


def expit(x: ArrayLike) -> FloatArray:
    """The logistic function 1 / (1 + e^-x), without overflow warnings."""
    z = np.asarray(x, dtype=np.float64)
    return np.asarray(np.exp(-np.logaddexp(0.0, -z)))


def _betaincinv(a: FloatArray, b: FloatArray, q: float) -> FloatArray:
    # imported here: scipy.special costs a few tenths of a second to import, paid only by
    # the commands that compute bounds
    from scipy.special import betaincinv

    return np.asarray(betaincinv(a, b, q), dtype=np.float64)


# --------------------------------------------------------------------------- exact bounds


def exact_upper(d: ArrayLike, n: ArrayLike, level: float = 0.95) -> FloatArray:
    """One-sided exact (Clopper–Pearson) upper bound of a binomial rate; 1 where n = 0.

    >>> round(float(exact_upper(0, 1977)) * 1000, 2)  # 0 wins in 1,977: up to 1.5 per mille
    1.51
    """
    dd = np.asarray(d, dtype=np.float64)
    nn = np.asarray(n, dtype=np.float64)
    out = np.ones(np.broadcast(dd, nn).shape)
    ok = (nn > 0) & (dd < nn)
    if np.any(ok):
        db, nb = np.broadcast_arrays(dd, nn)
        out[ok] = _betaincinv(db[ok] + 1.0, nb[ok] - db[ok], level)
    return out


def exact_lower(d: ArrayLike, n: ArrayLike, level: float = 0.95) -> FloatArray:
    """One-sided exact (Clopper–Pearson) lower bound of a binomial rate; 0 where d = 0."""
    dd = np.asarray(d, dtype=np.float64)
    nn = np.asarray(n, dtype=np.float64)
    out = np.zeros(np.broadcast(dd, nn).shape)
    ok = (nn > 0) & (dd > 0)
    if np.any(ok):
        db, nb = np.broadcast_arrays(dd, nn)
        out[ok] = _betaincinv(db[ok], nb[ok] - db[ok] + 1.0, 1.0 - level)
    return out


# --------------------------------------------------------------------------- the models


def _logistic(d: FloatArray, n: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Binomial logistic ``logit h = a + b x`` with ``b <= 0`` for stacked rows ``(R, K)``,
    by Newton's method on the aggregates; returns ``(a, b)`` of shape ``(R,)``."""
    rows = d.shape[0]
    tot_d = d.sum(axis=-1)
    tot_n = n.sum(axis=-1)
    pooled = np.clip(np.divide(tot_d, tot_n, out=np.zeros(rows), where=tot_n > 0), _CLIP, 0.5)
    a0 = np.log(pooled / (1.0 - pooled))
    a = a0.copy()
    b = np.zeros(rows)
    for _ in range(_NEWTON_STEPS):
        p = expit(a[:, None] + b[:, None] * x)
        r = d - n * p
        w = n * p * (1.0 - p) + 1e-12
        ga, gb = r.sum(-1), (r * x).sum(-1)
        haa, hab, hbb = w.sum(-1), (w * x).sum(-1), (w * x * x).sum(-1)
        det = haa * hbb - hab * hab
        det = np.where(np.abs(det) < 1e-300, 1e-300, det)
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        step = np.maximum(1.0, np.abs(da) / 2.0, out=None)
        step = np.maximum(step, np.abs(db) * np.maximum(1.0, np.abs(x).max()) / 2.0)
        a += da / step
        b += db / step
        if np.all(np.abs(da) + np.abs(db) < 1e-10):
            break
    up = b > 0  # the constraint binds: a constant hazard, the pooled rate
    a = np.where(up, a0, a)
    b = np.where(up, 0.0, b)
    return a, b


def _covariate(model: ModelName, k: int) -> FloatArray:
    ks = np.arange(1, k + 1, dtype=np.float64)
    return ks - 1.0 if model == "geometric" else np.log(ks)


def _isotonic_rows(d: FloatArray, n: FloatArray) -> FloatArray:
    rate = np.divide(d, n, out=np.zeros(d.shape), where=n > 0)
    return isotonic_nonincreasing(rate, np.where(n > 0, n, 0.0))  # n_k = 0 only trailing


def fit_model(model: ModelName, d: ArrayLike, n: ArrayLike) -> FloatArray:
    """The fitted hazard of one model for (stacked) counts ``d, n`` of shape ``(..., K)``."""
    dd = np.asarray(d, dtype=np.float64)
    nn = np.asarray(n, dtype=np.float64)
    shape = dd.shape
    d2, n2 = dd.reshape(-1, shape[-1]), nn.reshape(-1, shape[-1])
    if model == "isotonic":
        out = _isotonic_rows(d2, n2)
    else:
        x = _covariate(model, shape[-1])
        a, b = _logistic(d2, n2, x)
        out = expit(a[:, None] + b[:, None] * x)
    return np.asarray(out, dtype=np.float64).reshape(shape)


def _loglik(d: FloatArray, n: FloatArray, h: FloatArray) -> FloatArray:
    hc = np.clip(h, _CLIP, 1.0 - _CLIP)
    return np.asarray((d * np.log(hc) + (n - d) * np.log1p(-hc)).sum(axis=-1))


def lead_folds(
    won: ArrayLike, lost: ArrayLike, censored: ArrayLike, /, *, folds: int = FOLDS, seed: int = 0
) -> tuple[FloatArray, FloatArray]:
    """Wins and at-risk counts per fold, ``(folds, K)`` each, for k = 1..K.

    Each lead goes to a random fold: every (k, state) cell count splits multinomially with
    equal shares, exactly as assigning the leads one by one would.
    """
    rng = np.random.default_rng(seed)
    cells = np.stack([np.asarray(a, dtype=np.int64) for a in (won, lost, censored)])
    split = rng.multinomial(cells.reshape(-1), np.full(folds, 1.0 / folds))  # (cells, folds)
    per = split.T.reshape(folds, 3, -1)
    total = per.sum(axis=1)
    at_risk = np.cumsum(total[:, ::-1], axis=-1)[:, ::-1][:, 1:]
    return per[:, 0, 1:].astype(np.float64), at_risk.astype(np.float64)


def cross_validate(
    won: ArrayLike, lost: ArrayLike, censored: ArrayLike, /, *, seed: int = 0
) -> dict[ModelName, float]:
    """Held-out binomial log-likelihood per lead, summed over the 5 folds, per model."""
    d_f, n_f = lead_folds(won, lost, censored, seed=seed)
    d_train = d_f.sum(0) - d_f
    n_train = n_f.sum(0) - n_f
    out: dict[ModelName, float] = {}
    for m in MODELS:
        h = fit_model(m, d_train, n_train)
        out[m] = float(_loglik(d_f, n_f, h).sum())
    return out


# --------------------------------------------------------------------------- the posterior


def value_draws(value: float, value_se: float, draws: int, rng: np.random.Generator) -> FloatArray:
    """Draws of V: log-normal with V's mean and standard error (constant when se = 0)."""
    if value_se <= 0 or value <= 0:
        return np.full(draws, float(value))
    s2 = np.log1p((value_se / value) ** 2)
    return np.asarray(value * np.exp(rng.normal(-s2 / 2.0, np.sqrt(s2), draws)))


@dataclass(frozen=True)
class HazardModel:
    """The chosen model: fitted ``win_hazard`` (k = 1..K), posterior ``draws`` ``(B, K)``,
    and the cross-validated log-likelihood of every candidate (``cv_loglik``)."""

    model: ModelName
    win_hazard: FloatArray
    draws: FloatArray
    cv_loglik: dict[ModelName, float]
    prior_strength: float

    def interval(self, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
        """Pointwise posterior interval of the hazard."""
        lo, hi = np.quantile(self.draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
        return np.asarray(lo), np.asarray(hi)


def fit(
    won: ArrayLike,
    lost: ArrayLike,
    censored: ArrayLike,
    /,
    *,
    draws: int = 1000,
    seed: int = 0,
    model: ModelName | None = None,
    prior_hazard: ArrayLike | None = None,
    prior_strength: float = 0.0,
) -> HazardModel:
    """Fit the non-increasing win hazard from counts per attempts k = 0..K and draw its
    posterior. ``model`` None: chosen by cross-validated likelihood. ``prior_hazard`` (k =
    1..K, the parent group's hazard) with ``prior_strength`` m adds m pseudo lead-attempts
    at each k (empirical-Bayes shrinkage of a small group toward its parent)."""
    w = np.asarray(won, dtype=np.int64)
    lo = np.asarray(lost, dtype=np.int64)
    ce = np.asarray(censored, dtype=np.int64)
    total = w + lo + ce
    n = np.cumsum(total[::-1])[::-1][1:].astype(np.float64)
    d = w[1:].astype(np.float64)
    k = d.size
    if k == 0:
        return HazardModel("isotonic", np.zeros(0), np.zeros((draws, 0)), {}, 0.0)
    m = float(prior_strength) if prior_hazard is not None else 0.0
    if m > 0:
        ph = np.clip(np.asarray(prior_hazard, dtype=np.float64)[:k], 0.0, 1.0)
        d_fit, n_fit = d + m * ph, n + m
    else:
        ph = np.zeros(k)
        d_fit, n_fit = d, n
    cv: dict[ModelName, float] = {}
    chosen: ModelName = "isotonic"
    if model is not None:
        chosen = model
    elif k >= 3 and float(d.sum()) > 0:
        cv = cross_validate(w, lo, ce, seed=seed)
        chosen = max(cv, key=lambda name: cv[name])
    h = fit_model(chosen, d_fit, n_fit)
    rng = np.random.default_rng(seed)
    if chosen == "isotonic":
        # Jeffreys' half counts; with a parent's pseudo counts, never fewer than them (a
        # parent without a win at k gives d + m·0 = 0, and Beta(0, ·) is no distribution)
        a = np.maximum(d_fit, 0.5) if m > 0 else d_fit + 0.5
        b = np.maximum(n_fit - d_fit, 0.5) if m > 0 else n_fit - d_fit + 0.5
        reached = n > 0
        raw = rng.beta(np.where(reached, a, 1.0), np.where(reached, b, 1.0), size=(draws, k))
        raw = np.where(reached, raw, 0.0)
        post = _isotonic_rows(raw * n_fit, np.broadcast_to(n_fit, raw.shape))
    else:
        x = _covariate(chosen, k)
        (a0,), (b0,) = _logistic(d_fit[None, :], n_fit[None, :], x)
        p = expit(a0 + b0 * x)
        wgt = n_fit * p * (1 - p) + 1e-12
        info = np.array([[wgt.sum(), (wgt * x).sum()], [(wgt * x).sum(), (wgt * x * x).sum()]])
        try:
            cov = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            cov = np.diag([1e6, 1e6])
        theta = rng.multivariate_normal([a0, b0], cov, size=draws, method="cholesky")
        slope = np.minimum(theta[:, 1], 0.0)
        post = expit(theta[:, :1] + slope[:, None] * x)
        post = np.where(n > 0, post, 0.0)
    return HazardModel(
        model=chosen,
        win_hazard=np.where(n > 0, h, 0.0),
        draws=np.asarray(post, dtype=np.float64),
        cv_loglik=cv,
        prior_strength=m,
    )


def isotonic_nonincreasing(y: ArrayLike, weights: ArrayLike, /) -> FloatArray:
    """Weighted least-squares non-increasing fit of ``y`` along the last axis.

    One curve: pool-adjacent-violators. Stacked curves ``(..., K)`` (bootstrap): the equivalent
    max-min formula, vectorised. Points with weight 0 carry no information and get 0; they must
    be trailing (in a life table they are the k nobody reached, n_k = 0). The fit preserves the
    weighted mean.

    >>> isotonic_nonincreasing([0.3, 0.1, 0.2, 0.0], [10, 8, 8, 0]).round(3).tolist()
    [0.3, 0.15, 0.15, 0.0]
    """
    yv = np.asarray(y, dtype=np.float64)
    wv = np.asarray(weights, dtype=np.float64)
    if yv.shape != wv.shape or yv.ndim == 0:
        raise ValueError(f"y and weights must have the same shape, not {yv.shape}, {wv.shape}")
    if np.any(wv < 0) or np.any(np.diff((wv > 0).astype(np.int8), axis=-1) > 0):
        raise ValueError("weights must be >= 0 and zero weights must be trailing")
    if yv.shape[-1] == 0:
        return yv.copy()
    if yv.ndim == 1:
        positive = int(np.count_nonzero(wv > 0))
        return np.concatenate(
            [_pava_nonincreasing(yv[:positive], wv[:positive]), np.zeros(yv.size - positive)]
        )
    flat_y = yv.reshape(-1, yv.shape[-1])
    flat_w = wv.reshape(-1, yv.shape[-1])
    step = max(1, _ISOTONIC_CHUNK // yv.shape[-1] ** 2)
    parts = [
        _minmax_nonincreasing(flat_y[i : i + step], flat_w[i : i + step])
        for i in range(0, flat_y.shape[0], step)
    ]
    return np.concatenate(parts, axis=0).reshape(yv.shape)


# --------------------------------------------------------------------------------------------
# Profit, N*, knee


def _pava_nonincreasing(y: FloatArray, w: FloatArray) -> FloatArray:
    """Pool-adjacent-violators for one curve (weights > 0): merge neighbours while they rise."""
    means: list[float] = []
    weights: list[float] = []
    sizes: list[int] = []
    for yi, wi in zip(y.tolist(), w.tolist(), strict=True):
        means.append(yi)
        weights.append(wi)
        sizes.append(1)
        while len(means) > 1 and means[-2] < means[-1]:
            wsum = weights[-2] + weights[-1]
            means[-2] = (means[-2] * weights[-2] + means[-1] * weights[-1]) / wsum
            weights[-2] = wsum
            sizes[-2] += sizes[-1]
            del means[-1], weights[-1], sizes[-1]
    return np.repeat(np.asarray(means, dtype=np.float64), sizes)


def _minmax_nonincreasing(y: FloatArray, w: FloatArray) -> FloatArray:
    """The same fit for stacked curves ``(R, K)``, vectorised: the max-min formula
    yhat_i = min_{j<=i} max_{l>=i} Av(j, l), Av = weighted mean of y_j..y_l
    (Robertson, Wright & Dykstra 1988, Thm 1.4.4). Zero weights must be trailing."""
    rows, k = y.shape
    zero = np.zeros((rows, 1))
    cw = np.concatenate([zero, np.cumsum(w, axis=-1)], axis=-1)
    cwy = np.concatenate([zero, np.cumsum(w * y, axis=-1)], axis=-1)
    num = cwy[:, None, 1:] - cwy[:, :-1, None]  # [r, j, l] = sum_{j..l} w y
    den = cw[:, None, 1:] - cw[:, :-1, None]
    upper = np.triu(np.ones((k, k), dtype=bool))  # l >= j
    valid = upper & (den > 0)
    avg = np.divide(num, den, out=np.full(num.shape, -np.inf), where=valid)
    best_after = np.maximum.accumulate(avg[:, :, ::-1], axis=-1)[:, :, ::-1]  # max_{l>=i}
    best_after = np.where(upper, best_after, np.inf)  # only j <= i
    return np.where(w > 0, best_after.min(axis=1), 0.0)
