"""MQL value statistics (METHODS §1): fixtures, an independent MLE check, invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize, special, stats

from leadsla.analysis.valuestats import (
    BetaPrior,
    RevenueSummary,
    _neg_loglik,
    estimate_value,
    fit_beta_binomial,
    max_deal_share,
    mql_value,
    mql_value_interval,
    shrink,
    value_warnings,
    wilson_interval,
)

REVENUES_EUR = np.array([40, 55, 60, 80, 95, 120, 230, 600], dtype=float) * 1_000


# --------------------------------------------------------------------------- Wilson


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [(3, 40, 2.58, 19.86), (0, 25, 0.00, 13.32), (12, 1200, 0.57, 1.74)],
)
def test_wilson_fixtures(k: int, n: int, lo: float, hi: float) -> None:
    got_lo, got_hi = wilson_interval(k, n)
    assert round(100 * got_lo, 2) == lo
    assert round(100 * got_hi, 2) == hi


def test_wilson_vectorised_and_empty_group() -> None:
    lo, hi = wilson_interval([3, 0, 12, 0], [40, 25, 1200, 0])
    assert isinstance(lo, np.ndarray) and lo.shape == (4,)
    np.testing.assert_allclose(lo[:3], [0.025836, 0.0, 0.0057296], atol=1e-6)
    np.testing.assert_allclose(hi[:3], [0.198642, 0.133192, 0.0173976], atol=1e-6)
    assert (lo[3], hi[3]) == (0.0, 1.0)  # n = 0: no evidence


def test_wilson_scalar_is_float() -> None:
    lo, hi = wilson_interval(3, 40)
    assert isinstance(lo, float) and isinstance(hi, float)


def test_wilson_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="won <= leads"):
        wilson_interval(5, 3)


@given(st.integers(0, 10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_rate(kn: tuple[int, int]) -> None:
    k, n = kn
    lo, hi = wilson_interval(k, n)
    p = k / n if n else 0.5
    assert 0.0 <= lo <= hi <= 1.0
    if n:
        assert lo <= p + 1e-12 and p - 1e-12 <= hi


# --------------------------------------------------------------------------- MQL value


def test_mql_value_guide_example() -> None:
    assert mql_value(0.01, 160_000) == pytest.approx(1_600)
    assert REVENUES_EUR.mean() * 12 / 1200 == pytest.approx(1_600)
    np.testing.assert_allclose(mql_value([0.01, 0.02], [160_000, 50_000]), [1_600, 1_000])


def test_mql_value_interval_fixture() -> None:
    lo, hi = mql_value_interval(12, 1200, REVENUES_EUR)
    assert 450 <= lo <= 700
    assert 3_100 <= hi <= 4_200
    assert lo < 1_600 < hi


def test_mql_value_interval_is_seeded() -> None:
    a = mql_value_interval(12, 1200, REVENUES_EUR, seed=7)
    b = mql_value_interval(12, 1200, REVENUES_EUR, seed=7)
    assert a == b


def test_mql_value_interval_summary_matches_bootstrap_for_large_groups() -> None:
    rng = np.random.default_rng(3)
    rev = rng.lognormal(10, 1, 5_000)
    exact = mql_value_interval(500, 50_000, rev, draws=4_000)
    approx = mql_value_interval(500, 50_000, RevenueSummary.of(rev), draws=4_000)
    forced = mql_value_interval(500, 50_000, rev, draws=4_000, max_raw=1_000)
    np.testing.assert_allclose(approx, exact, rtol=0.03)
    assert forced == approx  # above max_raw the array is summarised: same draws


def test_mql_value_interval_without_revenue_is_nan() -> None:
    lo, hi = mql_value_interval(0, 40, [])
    assert np.isnan(lo) and np.isnan(hi)


def test_estimate_value_row() -> None:
    row = estimate_value(12, 1200, REVENUES_EUR).to_dict()
    assert row["close_rate"] == pytest.approx(0.01)
    assert row["avg_revenue"] == pytest.approx(160_000)
    assert row["median_revenue"] == pytest.approx(87_500)
    assert row["mql_value"] == pytest.approx(1_600)
    assert [round(100 * x, 2) for x in row["close_rate_ci"]] == [0.57, 1.74]
    assert 450 <= row["mql_value_ci"][0] <= 700
    empty = estimate_value(0, 0, []).to_dict()
    assert empty["close_rate"] is None and empty["mql_value_ci"] == [None, None]


# --------------------------------------------------------------------------- shrinkage


def _independent_mle(k: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Beta-binomial MLE with scipy.stats.betabinom and Nelder–Mead (no gradient)."""

    def nll(theta: np.ndarray) -> float:
        a, b = np.exp(theta)
        return -float(stats.betabinom.logpmf(k, n, a, b).sum())

    res = optimize.minimize(
        nll,
        np.log([1.0, 20.0]),
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 5_000},
    )
    a, b = np.exp(res.x)
    return float(a), float(b)


def test_fit_beta_binomial_matches_independent_mle() -> None:
    rng = np.random.default_rng(11)
    n = rng.integers(20, 400, 25)
    k = rng.binomial(n, rng.beta(3, 50, 25))
    prior = fit_beta_binomial(k, n)
    assert prior is not None and prior.source == "fitted"
    a, b = _independent_mle(k, n)
    assert prior.alpha == pytest.approx(a, rel=1e-3)
    assert prior.beta == pytest.approx(b, rel=1e-3)


def _lbfgsb_fit(k: np.ndarray, n: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """The earlier fit: scipy's L-BFGS-B on the same objective and box, from the same start."""

    def nll(theta: np.ndarray) -> float:
        a, b = np.exp(theta)
        return -float(np.sum(special.betaln(k + a, n - k + b) - special.betaln(a, b)))

    return optimize.minimize(nll, x0, method="L-BFGS-B", bounds=[(-12.0, 16.0)] * 2).x


def _scipy_nll(theta: np.ndarray, k: np.ndarray, n: np.ndarray) -> float:
    a, b = np.exp(theta)
    return -float(np.sum(special.betaln(k + a, n - k + b) - special.betaln(a, b)))


def test_fit_beta_binomial_is_at_least_as_good_as_lbfgsb() -> None:
    """On 300 random sibling sets the Newton fit's likelihood (by scipy's betaln) is never
    below L-BFGS-B's, and at an interior fit the gradient vanishes."""
    rng = np.random.default_rng(2026)
    fitted = 0
    for _ in range(300):
        g = int(rng.integers(2, 60))
        n = rng.integers(1, int(10 ** rng.uniform(0.5, 5)), g).astype(float)
        k = rng.binomial(n.astype(int), rng.beta(rng.uniform(0.2, 20), rng.uniform(2, 400), g))
        k = k.astype(float)
        prior = fit_beta_binomial(k, n)
        if prior is None:
            continue
        fitted += 1
        ours = np.log([prior.alpha, prior.beta])
        theirs = _lbfgsb_fit(k, n, ours + rng.normal(0, 0.3, 2))
        f_ours = _scipy_nll(ours, k, n)
        assert f_ours <= _scipy_nll(theirs, k, n) + 1e-9 * max(1.0, abs(f_ours))
        _, grad, _ = _neg_loglik(ours, k, n)
        assert np.max(np.abs(grad)) <= 1e-8 * max(1.0, abs(f_ours))
    assert fitted >= 200  # the rest: no spread beyond chance (a fixed prior)


@pytest.mark.parametrize(
    ("k", "n"),
    [
        ([0] * 10, [50] * 10),  # all zero
        ([2] * 10, [100] * 10),  # all equal
        ([5] * 10, [5] * 10),  # all won
        ([3], [10]),  # one group
        ([0, 0, 0], [0, 0, 0]),  # no leads
    ],
)
def test_fit_beta_binomial_degenerate_returns_none(k: list[int], n: list[int]) -> None:
    assert fit_beta_binomial(k, n) is None


def test_shrink_fixed_prior_with_few_siblings() -> None:
    res = shrink([2, 0, 30], [10, 0, 100], 0.05)
    assert res.prior == BetaPrior(5.0, 95.0, "fixed")
    np.testing.assert_allclose(res.shrunk, [7 / 110, 0.05, 35 / 200])
    assert np.isnan(res.raw[1]) and res.raw[0] == pytest.approx(0.2)
    assert "2 sibling groups" in res.note


def test_shrink_fitted_prior_with_enough_siblings() -> None:
    rng = np.random.default_rng(5)
    n = rng.integers(30, 300, 12)
    k = rng.binomial(n, rng.beta(2, 30, 12))
    res = shrink(k, n, 0.05)
    assert res.prior.source == "fitted"
    assert "12 sibling groups" in res.note


def test_shrink_falls_back_when_fit_is_degenerate() -> None:
    res = shrink([0] * 9, [40] * 9, 0.03)
    assert res.prior == BetaPrior(3.0, 97.0, "fixed")
    assert "degenerate" in res.note
    np.testing.assert_allclose(res.shrunk, 3 / 140)


@given(
    st.lists(st.integers(0, 500), min_size=1, max_size=15).flatmap(
        lambda ns: st.tuples(st.tuples(*[st.integers(0, x) for x in ns]), st.just(ns))
    ),
    st.floats(0.0, 1.0),
)
def test_shrunk_rate_between_raw_and_prior_mean(
    kn: tuple[tuple[int, ...], list[int]], parent_p: float
) -> None:
    k, n = np.array(kn[0]), np.array(kn[1])
    res = shrink(k, n, parent_p)
    mean = res.prior.mean
    has = n > 0
    lo = np.minimum(res.raw[has], mean) - 1e-12
    hi = np.maximum(res.raw[has], mean) + 1e-12
    assert np.all((lo <= res.shrunk[has]) & (res.shrunk[has] <= hi))
    np.testing.assert_allclose(res.shrunk[~has], mean)


# --------------------------------------------------------------------------- warnings


def test_value_warnings() -> None:
    assert value_warnings("segment=smb", 30, 0.30, 0) == []
    w = value_warnings("segment=smb", 29, 0.31, 2)
    assert len(w) == 3
    assert "29 mature leads" in w[0] and "31%" in w[1] and "2 won leads" in w[2]
    assert value_warnings("x", 100, float("nan"), 0) == []
    assert value_warnings("x", 100, None, 1)[0].startswith("x: 1 won lead without")


def test_max_deal_share() -> None:
    assert max_deal_share(REVENUES_EUR) == pytest.approx(600 / 1280)
    assert np.isnan(max_deal_share([]))
    assert np.isnan(max_deal_share([0.0, 0.0]))
