"""The attempts life table (METHODS.md §3, §6): hand fixtures, invariants, the bootstrap."""

from __future__ import annotations

import json
from typing import cast

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import isotonic_regression

from leadsla.analysis.lifetable import (
    Bootstrap,
    HazardFit,
    LifeTable,
    bootstrap,
    bounds,
    from_hazards,
    group_attempts,
    is_identified,
    isotonic_nonincreasing,
    knee,
    last_observed_attempt,
    life_table,
    marginal_profit,
    max_attempts_supported,
    near_optimal,
    optimal_attempts,
    profit,
    resample_counts,
    sanity_warnings,
)
from leadsla.errors import DataError

# METHODS.md §3: 10 leads (attempts/state) 1W, 1L, 2W, 2C, 3W, 3C, 4L, 4C, 5W, 6C; index k = 0..6
WON = [0, 1, 1, 1, 0, 1, 0]
LOST = [0, 1, 0, 0, 1, 0, 0]
CENSORED = [0, 0, 1, 1, 1, 0, 1]

# METHODS.md §3 hazard fixture, k = 1..15
HAZARD_W = np.array(
    [3.0, 2.5, 2.0, 1.6, 1.2, 0.9, 0.7, 0.55, 0.45, 0.35, 0.30, 0.25, 0.20, 0.18, 0.15]
)
HAZARD_W = HAZARD_W / 100
HAZARD_L = np.full(15, 0.04)
COST = 60 / 6  # 60 €/h ÷ 6 attempts/h

# A mid-sized group (k = 0..8) for the bootstrap: 225 leads, 218 with an attempt
MID_WON = [2, 30, 20, 12, 8, 5, 3, 2, 1]
MID_LOST = [0, 20, 15, 10, 6, 4, 2, 1, 1]
MID_CENSORED = [5, 10, 10, 10, 10, 10, 10, 10, 8]

SPEC_KEYS = {
    "optimal_attempts",
    "optimal_attempts_ci",
    "identified",
    "knee",
    "max_attempts_supported",
    "table",
}
EXTRA_KEYS = {
    "reason",
    "summary",
    "paying_attempts",
    "value_se",
    "hazard_model",
    "near_optimal",
    "warnings",
    "value",
    "cost_per_attempt",
    "hazard_fit",
    "won_without_attempt",
}
ROW_KEYS = {
    "attempt",
    "at_risk",
    "won",
    "lost",
    "win_hazard",
    "win_hazard_fit",
    "win_hazard_fit_ci",
    "cumulative_conversion",
    "expected_attempts",
    "expected_profit",
    "naive_cohort_rate",
}


def assert_printed(actual: np.ndarray, printed: list[str]) -> None:
    """Each value equals the printed one to the printed precision ("0" means exactly 0)."""
    assert len(actual) == len(printed)
    for value, text in zip(actual.tolist(), printed, strict=True):
        decimals = len(text.split(".")[1]) if "." in text else None
        if decimals is None:
            assert value == float(text), (value, text)
        else:
            assert abs(value - float(text)) <= 0.5 * 10.0**-decimals + 1e-12, (value, text)


# ---------------------------------------------------------------------------- hand fixtures


def test_methods_fixture_every_column() -> None:
    t = life_table(WON, LOST, CENSORED)
    assert t.attempt.tolist() == [1, 2, 3, 4, 5, 6]
    assert t.at_risk is not None and t.won is not None and t.lost is not None
    assert t.at_risk.tolist() == [10, 8, 6, 4, 2, 1]
    assert t.won.tolist() == [1, 1, 1, 0, 1, 0]
    assert t.lost.tolist() == [1, 0, 0, 1, 0, 0]
    assert_printed(t.win_hazard, [".100", ".125", ".167", "0", ".500", "0"])
    assert_printed(t.lost_hazard, [".100", "0", "0", ".250", "0", "0"])
    assert_printed(t.survival_before, ["1.000", ".800", ".700", ".583", ".438", ".219"])
    assert_printed(t.cumulative_conversion, [".1000", ".2000", ".3167", ".3167", ".5354", ".5354"])
    assert_printed(t.expected_attempts, ["1.000", "1.800", "2.500", "3.083", "3.521", "3.740"])
    assert t.hazard_fit == "raw"
    assert t.leads == 10 and t.won_without_attempt == 0


def test_methods_fixture_naive_cohort_rate_is_the_guides_view() -> None:
    t = life_table(WON, LOST, CENSORED)
    assert t.naive_cohort_rate is not None
    # won / closed with exactly k: k=1 1/2, k=2 1/1, k=3 1/1, k=4 0/1, k=5 1/1, k=6 none closed
    assert t.naive_cohort_rate[:5].tolist() == [0.5, 1.0, 1.0, 0.0, 1.0]
    assert np.isnan(t.naive_cohort_rate[5])


def test_count_path_and_hazard_path_share_one_formula() -> None:
    t = life_table(WON, LOST, CENSORED)
    h = from_hazards(t.win_hazard, t.lost_hazard)
    for name in ("survival", "survival_before", "cumulative_conversion", "expected_attempts"):
        assert np.array_equal(getattr(t, name), getattr(h, name)), name
    assert h.at_risk is None


@pytest.mark.parametrize(
    ("value", "n_star"),
    [(2000.0, 8), (1000.0, 5), (160_000.0, 15)],
)
def test_hazard_fixture_optimal_attempts(value: float, n_star: int) -> None:
    t = from_hazards(HAZARD_W, HAZARD_L)
    pi = profit(t, value, COST)
    assert int(optimal_attempts(pi)) == n_star
    # with a non-increasing hazard, N* is the last N with h_N >= c / V
    assert int(np.flatnonzero(HAZARD_W >= COST / value)[-1]) + 1 == n_star


def test_hazard_fixture_profit_at_the_optimum() -> None:
    pi = profit(from_hazards(HAZARD_W, HAZARD_L), 2000.0, COST)
    assert round(float(pi[7]), 2) == 151.37


def test_hazard_fixture_optimum_at_the_edge_is_not_identified() -> None:
    t = from_hazards(HAZARD_W, HAZARD_L)
    n_star = int(optimal_attempts(profit(t, 160_000.0, COST)))
    assert n_star == 15 == last_observed_attempt(t)
    assert not is_identified(t, n_star)
    assert is_identified(t, int(optimal_attempts(profit(t, 2000.0, COST))))


def test_marginal_profit_sums_to_profit() -> None:
    t = from_hazards(HAZARD_W, HAZARD_L)
    for value in (1000.0, 2000.0, 160_000.0):
        np.testing.assert_allclose(
            np.cumsum(marginal_profit(t, value, COST)), profit(t, value, COST), rtol=1e-12
        )


def test_won_without_attempt_is_counted_apart_from_the_hazards() -> None:
    base = life_table(WON, LOST, CENSORED)
    with_zero = life_table([3, *WON[1:]], [1, *LOST[1:]], [2, *CENSORED[1:]])
    assert with_zero.at_risk is not None and base.at_risk is not None
    assert np.array_equal(with_zero.at_risk, base.at_risk)
    assert np.array_equal(with_zero.cumulative_conversion, base.cumulative_conversion)
    assert with_zero.won_without_attempt == 3
    assert with_zero.leads == 16
    g = group_attempts([3, *WON[1:]], LOST, CENSORED, value=2000.0, cost_per_attempt=COST, B=50)
    assert g.to_dict()["won_without_attempt"] == 3


def test_group_result_on_the_fixture() -> None:
    g = group_attempts(WON, LOST, CENSORED, value=2000.0, cost_per_attempt=COST, B=200)
    # attempt 5 is shown to pay (1 win in 2: at least 2.5% > c/V = 0.5%); attempt 6 has no
    # win in 1 lead-attempt, which cannot rule out that it pays: not identified
    assert g.optimal_attempts == 5
    assert not g.identified
    assert g.reason is not None
    assert g.reason.startswith(
        "0 wins in 1 lead-attempts at k = 6: the win rate there may be up to 95%"
    )
    assert "N* ≥ 5 is all the data say" in g.reason
    assert g.optimal_attempts_text.startswith("at least 5: 0 wins in 1")
    assert g.knee is None  # no k has 30 leads at risk
    assert g.max_attempts_supported == 0
    assert g.near_optimal == [5]
    assert any("fewer than 30" in w for w in g.warnings)
    lo, hi = g.optimal_attempts_ci
    assert 1 <= lo <= 5 and hi is None  # no upper end: the data cannot tell


def test_group_optimum_at_the_last_attempt_is_reported_as_at_least() -> None:
    # 1W 2C 3W 4W: the last observed attempt count is a win
    g = group_attempts(
        [0, 1, 0, 1, 1], [0, 0, 0, 0, 0], [0, 0, 1, 0, 0], value=2000.0, cost_per_attempt=COST, B=50
    )
    assert g.optimal_attempts == 4
    assert not g.identified
    assert g.optimal_attempts_text.startswith(
        "at least 4: the data show attempt 4 still paying (its win rate is above c/V = 5‰"
    )
    assert any("N* ≥ 4 is all the data say" in w for w in g.warnings)


def test_trailing_empty_attempts_are_dropped() -> None:
    padded = group_attempts(
        [*WON, 0, 0], [*LOST, 0, 0], [*CENSORED, 0, 0], value=2000.0, cost_per_attempt=COST, B=50
    )
    assert padded.table.max_attempt == 6
    rows = padded.to_dict()["table"]
    assert isinstance(rows, list) and len(rows) == 6


def test_group_without_any_attempt_warns_and_does_not_fail() -> None:
    g = group_attempts([2], [1], [4], value=2000.0, cost_per_attempt=COST, B=20)
    d = g.to_dict()
    assert d["optimal_attempts"] == 0 and d["table"] == [] and d["identified"] is False
    assert d["won_without_attempt"] == 2
    assert g.warnings == [
        "No lead in this group has a contact attempt: there is nothing to analyse."
    ]


def test_to_dict_has_the_spec_keys_and_is_json() -> None:
    g = group_attempts(MID_WON, MID_LOST, MID_CENSORED, value=2000.0, cost_per_attempt=COST, B=100)
    d = g.to_dict()
    assert set(d) == SPEC_KEYS | EXTRA_KEYS
    rows = d["table"]
    assert isinstance(rows, list) and len(rows) == 8
    assert all(set(r) == ROW_KEYS for r in rows)
    assert isinstance(d["optimal_attempts"], int) and isinstance(d["identified"], bool)
    ci = d["optimal_attempts_ci"]
    assert isinstance(ci, list) and type(ci[0]) is int and (ci[1] is None or type(ci[1]) is int)
    assert d["hazard_fit"] == "raw"
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    for row in rows:
        for key, value in row.items():
            if key == "win_hazard_fit_ci":
                assert isinstance(value, list) and all(type(x) is float for x in value)
                continue
            assert value is None or type(value) in (int, float), (key, type(value))
    first = dict(rows[0])
    h_fit = first.pop("win_hazard_fit")
    first.pop("win_hazard_fit_ci")
    assert first == {
        "attempt": 1,
        "at_risk": 218,
        "won": 30,
        "lost": 20,
        "win_hazard": 30 / 218,
        "cumulative_conversion": 30 / 218,
        "expected_attempts": 1.0,
        "expected_profit": pytest.approx(2000 * h_fit - COST),  # the model's profit
        "naive_cohort_rate": 30 / 50,
    }


def test_isotonic_fit_is_recorded_in_the_result() -> None:
    g = group_attempts(
        MID_WON,
        MID_LOST,
        MID_CENSORED,
        value=2000.0,
        cost_per_attempt=COST,
        B=50,
        smooth="isotonic",
    )
    assert g.to_dict()["hazard_fit"] == "isotonic"
    assert np.all(np.diff(g.table.win_hazard) <= 0)


# ---------------------------------------------------------------------------- near-optimal


def test_near_optimal_positive_profit_is_the_99_percent_rule() -> None:
    pi = profit(from_hazards(HAZARD_W, HAZARD_L), 2000.0, COST)
    expected = [n + 1 for n in range(15) if pi[n] >= 0.99 * pi.max()]
    assert near_optimal(pi) == expected
    assert 8 in expected


def test_near_optimal_when_nothing_pays() -> None:
    assert near_optimal([-10.0, -10.05, -20.0]) == [1, 2]  # within 1% below the best
    assert near_optimal([0.0, 0.0, -1.0]) == [1, 2]
    assert near_optimal([]) == []


def test_ties_go_to_the_smallest_n() -> None:
    assert int(optimal_attempts([1.0, 3.0, 3.0])) == 2
    assert optimal_attempts(np.array([[1.0, 3.0, 3.0], [4.0, 4.0, 0.0]])).tolist() == [2, 1]


# ---------------------------------------------------------------------------- knee


def test_knee_needs_supported_attempts() -> None:
    assert knee(life_table(WON, LOST, CENSORED), 2000.0) is None  # n_k < 30 everywhere


def test_knee_on_the_hazard_fixture_and_degenerate_curves() -> None:
    t = from_hazards(HAZARD_W, HAZARD_L)
    found = knee(t, 2000.0)
    assert found is not None and 1 <= found <= 15
    flat = from_hazards(np.zeros(10), np.full(10, 0.1))  # F = 0: no knee, and no warning
    assert knee(flat, 2000.0) is None
    short = from_hazards([0.3, 0.2], [0.0, 0.0])
    assert knee(short, 2000.0) is None


def test_knee_uses_only_supported_attempts() -> None:
    g = group_attempts(MID_WON, MID_LOST, MID_CENSORED, value=2000.0, cost_per_attempt=COST, B=50)
    assert g.table.at_risk is not None
    assert g.max_attempts_supported == int(np.count_nonzero(g.table.at_risk >= 30))
    assert g.knee is None or 1 <= g.knee <= g.max_attempts_supported


# ---------------------------------------------------------------------------- warnings


def _warnings_for(won: list[int], lost: list[int], censored: list[int], value: float) -> list[str]:
    g = group_attempts(won, lost, censored, value=value, cost_per_attempt=COST, B=20)
    return g.warnings


def test_warning_first_attempt_hazard_above_half() -> None:
    assert any("above 50%" in w for w in _warnings_for([0, 25, 1], [0, 5, 5], [0, 5, 4], 2000.0))


def test_warning_few_wins_by_the_sixth_attempt() -> None:
    won = [0, 1, 0, 0, 0, 0, 0, 0, 0, 5]
    censored = [0, 10, 10, 10, 10, 10, 10, 10, 10, 5]
    ws = _warnings_for(won, [0] * 10, censored, 2000.0)
    assert any("by the 6th attempt" in w for w in ws)


def test_warning_n_star_above_twenty_and_knee_apart() -> None:
    t = from_hazards(np.full(25, 0.02), np.zeros(25))
    pi = profit(t, 10_000.0, COST)
    n_star = int(optimal_attempts(pi))
    ws = sanity_warnings(t, optimal_attempts=n_star, expected_profit=pi, knee=3)
    assert n_star == 25
    assert any("above 20 on wage cost alone" in w for w in ws)
    assert any("more than one attempt apart" in w for w in ws)
    near = sanity_warnings(t, optimal_attempts=n_star, expected_profit=pi, knee=24)
    assert not any("more than one attempt apart" in w for w in near)


def test_warning_nothing_pays() -> None:
    t = from_hazards([0.001, 0.001], [0.0, 0.0])
    pi = profit(t, 100.0, COST)
    ws = sanity_warnings(
        t, optimal_attempts=int(optimal_attempts(pi)), expected_profit=pi, knee=None
    )
    assert any("No number of attempts pays" in w for w in ws)


def test_no_warnings_on_a_healthy_group_until_knee_and_optimum_part() -> None:
    # 20 x the leads of a small healthy group: enough to rule out a 6th attempt paying
    won = [20 * x for x in [0, 60, 40, 25, 15, 8, 4, 2, 1]]
    lost = [20 * x for x in [0, 30, 25, 20, 15, 10, 8, 6, 2]]
    censored = [20 * x for x in [0, 80, 70, 60, 50, 40, 30, 20, 400]]
    healthy = group_attempts(won, lost, censored, value=1000.0, cost_per_attempt=COST, B=50)
    assert (healthy.optimal_attempts, healthy.knee, healthy.identified) == (5, 4, True)
    assert healthy.warnings == []
    richer = group_attempts(won, lost, censored, value=1500.0, cost_per_attempt=COST, B=50)
    assert (richer.optimal_attempts, richer.knee) == (6, 4)
    assert len(richer.warnings) == 1 and "more than one attempt apart" in richer.warnings[0]


# ---------------------------------------------------------------------------- validation


def test_bad_input_is_refused() -> None:
    with pytest.raises(DataError, match="negative"):
        life_table([0, -1], [0, 0], [0, 0])
    with pytest.raises(DataError, match="same shape"):
        life_table([0, 1], [0, 0, 1], [0, 0])
    with pytest.raises(DataError, match="whole numbers"):
        life_table([0, 1.5], [0, 0], [0, 0])
    with pytest.raises(DataError, match="exceeds 1"):
        from_hazards([0.6], [0.5])
    with pytest.raises(ValueError, match="smooth"):
        life_table(WON, LOST, CENSORED, smooth=cast(HazardFit, "logistic"))
    with pytest.raises(ValueError, match="must be finite and >= 0"):
        profit(life_table(WON, LOST, CENSORED), -1.0, COST)


# ---------------------------------------------------------------------------- bounds


def test_bounds_on_a_fixture() -> None:
    b = bounds([0, 1, 0, 1], [0, 1, 1, 0])
    assert b.lower.cumulative_conversion.tolist() == [0.25, 0.25, 0.5]
    assert b.upper.cumulative_conversion.tolist() == [0.25, 0.25, 1.0]
    assert b.lower.lost is not None and b.upper.censored is not None
    assert b.lower.lost.tolist() == [1, 1, 0] and b.upper.censored.tolist() == [1, 1, 0]


# ---------------------------------------------------------------------------- properties

K_SIZES = st.integers(min_value=1, max_value=12)


@st.composite
def group_counts(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = draw(K_SIZES)
    cells = hnp.arrays(np.int64, k + 1, elements=st.integers(0, 15))
    return draw(cells), draw(cells), draw(cells)


def _check_table(t: LifeTable) -> None:
    f, s, a = t.cumulative_conversion, t.survival, t.expected_attempts
    assert np.all(f >= 0) and np.all(f <= 1 + 1e-12)
    assert np.all(np.diff(f) >= 0)
    assert np.all(np.diff(a) >= 0)
    assert np.all(np.diff(s) <= 0) and np.all(s >= 0)
    assert t.at_risk is not None
    assert np.all(np.diff(t.at_risk) <= 0)
    lost_by = np.cumsum(t.survival_before * t.lost_hazard)
    np.testing.assert_allclose(f + lost_by + s, 1.0, atol=1e-12)  # every lead ends somewhere


@settings(max_examples=200, deadline=None)
@given(group_counts(), st.sampled_from(["raw", "isotonic"]))
def test_table_invariants(counts: tuple[np.ndarray, ...], smooth: HazardFit) -> None:
    _check_table(life_table(*counts, smooth=smooth))


@settings(max_examples=200, deadline=None)
@given(group_counts(), st.floats(0, 1e6), st.floats(0, 100))
def test_n_star_maximises_profit(counts: tuple[np.ndarray, ...], value: float, cost: float) -> None:
    pi = profit(life_table(*counts), value, cost)
    n_star = int(optimal_attempts(pi))
    assert 1 <= n_star <= pi.size
    assert np.all(pi[n_star - 1] >= pi - 1e-9 * max(1.0, abs(pi.max())))
    assert n_star in near_optimal(pi)


@settings(max_examples=100, deadline=None)
@given(group_counts())
def test_lower_bound_never_above_upper(counts: tuple[np.ndarray, ...]) -> None:
    won, lost, _ = counts
    b = bounds(won, lost)
    assert np.all(b.lower.cumulative_conversion <= b.upper.cumulative_conversion + 1e-12)


@settings(max_examples=100, deadline=None)
@given(group_counts(), st.integers(2, 6), st.sampled_from(["raw", "isotonic"]))
def test_stacked_tables_equal_one_by_one(
    counts: tuple[np.ndarray, ...], copies: int, smooth: HazardFit
) -> None:
    won, lost, censored = counts
    rng = np.random.default_rng(int(won.sum()))
    stack = [rng.permutation(np.stack([won, lost, censored]), axis=1) for _ in range(copies)]
    w, lo, ce = (np.stack([s[i] for s in stack]) for i in range(3))
    many = life_table(w, lo, ce, smooth=smooth)
    for r in range(copies):
        one = life_table(w[r], lo[r], ce[r], smooth=smooth)
        for name in ("win_hazard", "survival", "cumulative_conversion", "expected_attempts"):
            np.testing.assert_allclose(
                getattr(many, name)[r], getattr(one, name), atol=1e-12, err_msg=name
            )


WEIGHTED = st.integers(1, 20).flatmap(
    lambda k: st.tuples(
        hnp.arrays(np.float64, k, elements=st.floats(0, 1)),
        hnp.arrays(np.float64, k, elements=st.floats(0.5, 1000)),
    )
)


@settings(max_examples=300, deadline=None)
@given(WEIGHTED)
def test_isotonic_is_non_increasing_and_keeps_the_weighted_mean(
    yw: tuple[np.ndarray, np.ndarray],
) -> None:
    y, w = yw
    fit = isotonic_nonincreasing(y, w)
    assert np.all(np.diff(fit) <= 1e-12)
    assert np.isclose(np.sum(w * fit), np.sum(w * y), rtol=1e-9, atol=1e-9)
    # an independent answer: scipy's own PAVA
    expected = isotonic_regression(y, weights=w, increasing=False).x
    np.testing.assert_allclose(fit, expected, atol=1e-9)
    # the vectorised max-min formula used for stacks agrees with PAVA
    np.testing.assert_allclose(isotonic_nonincreasing(y[None, :], w[None, :])[0], fit, atol=1e-9)


def test_isotonic_trailing_zero_weights_and_already_monotone() -> None:
    assert isotonic_nonincreasing([0.3, 0.1, 0.2, 0.5], [10, 8, 8, 0]).tolist() == pytest.approx(
        [0.3, 0.15, 0.15, 0.0]
    )
    y = np.array([0.5, 0.4, 0.4, 0.1])
    assert np.array_equal(isotonic_nonincreasing(y, [4.0, 3.0, 2.0, 1.0]), y)
    with pytest.raises(ValueError, match="trailing"):
        isotonic_nonincreasing([0.1, 0.2, 0.3], [1.0, 0.0, 1.0])


# ---------------------------------------------------------------------------- bootstrap


def test_bootstrap_shapes_and_seed() -> None:
    b = bootstrap(MID_WON, MID_LOST, MID_CENSORED, 2000.0, COST, B=300, seed=7)
    again = bootstrap(MID_WON, MID_LOST, MID_CENSORED, 2000.0, COST, B=300, seed=7)
    assert isinstance(b, Bootstrap)
    assert np.array_equal(b.optimal_attempts, again.optimal_attempts)
    assert b.optimal_attempts.shape == (300,) and b.knee.shape == (300,)
    assert b.profit_bands.shape == (3, 8)
    assert np.all(b.profit_bands[0] <= b.profit_bands[1])
    assert np.all(b.profit_bands[1] <= b.profit_bands[2])
    lo, hi = b.optimal_attempts_ci
    assert 1 <= lo <= hi <= 8
    assert sum(b.optimal_attempts_distribution().values()) == pytest.approx(1.0)
    assert sum(b.knee_distribution().values()) == pytest.approx(1.0)


def test_resampling_keeps_the_number_of_leads() -> None:
    w, lo, ce = resample_counts(MID_WON, MID_LOST, MID_CENSORED, B=100, seed=3)
    assert w.shape == (100, 9)
    assert np.all(w.sum(1) + lo.sum(1) + ce.sum(1) == 225)


@settings(max_examples=30, deadline=None)
@given(group_counts(), st.sampled_from(["raw", "isotonic"]), st.integers(0, 2**32 - 1))
def test_bootstrap_interval_is_ordered(
    counts: tuple[np.ndarray, ...], smooth: HazardFit, seed: int
) -> None:
    won, lost, censored = counts
    b = bootstrap(won, lost, censored, 2000.0, COST, B=40, seed=seed, smooth=smooth)
    lo, hi = b.optimal_attempts_ci
    assert lo <= hi
    assert np.all(b.optimal_attempts >= 0) and np.all(b.optimal_attempts <= counts[0].size - 1)


def test_multinomial_bootstrap_matches_resampling_leads() -> None:
    """Drawing cell counts equals, in distribution, resampling the leads one by one."""
    n_boot = 4000
    w, lo, ce = resample_counts(MID_WON, MID_LOST, MID_CENSORED, B=n_boot, seed=11)
    cells = np.concatenate([MID_WON, MID_LOST, MID_CENSORED])
    lead_cell = np.repeat(np.arange(cells.size), cells)  # one entry per lead
    rng = np.random.default_rng(12)
    picks = lead_cell[rng.integers(0, lead_cell.size, size=(n_boot, lead_cell.size))]
    naive = np.zeros((n_boot, cells.size), dtype=np.int64)
    np.add.at(naive, (np.arange(n_boot)[:, None], picks), 1)
    k1 = len(MID_WON)
    by_cell = life_table(w, lo, ce)
    by_lead = life_table(naive[:, :k1], naive[:, k1 : 2 * k1], naive[:, 2 * k1 :])
    for stat in (
        lambda t: t.cumulative_conversion[:, -1],
        lambda t: optimal_attempts(profit(t, 2000.0, COST)).astype(float),
        lambda t: t.at_risk[:, 4].astype(float),
    ):
        a, b = stat(by_cell), stat(by_lead)
        se = np.sqrt(a.var() / n_boot + b.var() / n_boot)
        assert abs(a.mean() - b.mean()) < 4 * se
        assert a.std() == pytest.approx(b.std(), rel=0.1)


def test_max_attempts_supported_counts_k_with_30_at_risk() -> None:
    t = life_table(MID_WON, MID_LOST, MID_CENSORED)
    assert t.at_risk is not None
    assert max_attempts_supported(t) == int(np.count_nonzero(t.at_risk >= 30))
    assert max_attempts_supported(t, min_at_risk=1) == 8
    assert max_attempts_supported(from_hazards(HAZARD_W, HAZARD_L)) == 15


def test_vectorised_knee_equals_kneed_on_many_curves() -> None:
    """knees_batch (the bootstrap's and the point estimate's) finds kneed's knees."""
    import warnings

    from kneed import KneeLocator

    from leadsla.analysis.lifetable import _knee_of_curve, knees_batch

    def kneed_knee(y: np.ndarray) -> int:
        if y.size < 3 or float(np.ptp(y)) == 0.0:
            return 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kneed warns on curves without a knee
            found = KneeLocator(
                np.arange(1, y.size + 1), y, S=1.0, curve="concave", direction="increasing"
            ).knee
        return 0 if found is None else int(found)

    rng = np.random.default_rng(7)
    curves, lengths = [], []
    for _ in range(600):
        n = int(rng.integers(1, 30))
        h = np.sort(rng.uniform(0, 0.3, n))[::-1] * rng.uniform(0.2, 1.5)
        if rng.random() < 0.3:  # plateaus and flat stretches, as bootstrap curves have
            h[rng.integers(0, n) :] = 0.0
        y = np.cumsum(h) * rng.uniform(10, 5000)
        if rng.random() < 0.1:
            y[:] = y[0]
        curves.append(np.pad(y, (0, 30 - n)))
        lengths.append(n)
    got = knees_batch(np.array(curves), np.array(lengths))
    want = [kneed_knee(np.array(c[:n])) for c, n in zip(curves, lengths, strict=True)]
    assert got.tolist() == want
    assert [
        _knee_of_curve(np.array(c[:n])) or 0 for c, n in zip(curves, lengths, strict=True)
    ] == want


# ---------------------------------------------------------------------------- identification


def _fixture_counts(leads: int = 5472, stop: float = 0.1) -> tuple[list[int], list[int], list[int]]:
    """The METHODS.md hazard fixture as expected counts (h^L 4%, reps stop with 10%): per k,
    d = round(n h^W), l = round(n 4%), c = round(n 10%); after k = 15 everyone left is
    censored."""
    won, lost, cens = [0], [0], [0]
    n = leads
    for k in range(15):
        d, lo = round(n * HAZARD_W[k]), round(n * 0.04)
        c = round(n * stop) if k < 14 else n - d - lo
        won.append(d)
        lost.append(lo)
        cens.append(c)
        n -= d + lo + c
    return won, lost, cens


def test_methods_fixture_at_least_15_now_with_its_reason() -> None:
    won, lost, cens = _fixture_counts(leads=200_000)
    g = group_attempts(won, lost, cens, value=160_000.0, cost_per_attempt=COST, B=300)
    assert g.optimal_attempts == 15 and not g.identified
    assert g.reason is not None and "attempt 15 still paying" in g.reason
    assert "N* ≥ 15 is all the data say" in g.reason
    assert g.optimal_attempts_ci[1] is None
    assert g.to_dict()["summary"].startswith("at least 15: ")
    for value, n_star in ((2000.0, 8), (1000.0, 5)):  # the same counts identify 8 and 5
        h = group_attempts(won, lost, cens, value=value, cost_per_attempt=COST, B=300)
        assert (h.optimal_attempts, h.identified) == (n_star, True), h.reason
        lo, hi = h.optimal_attempts_ci
        assert hi is not None and lo <= n_star <= hi


def test_methods_fixture_no_win_in_1977_lead_attempts_is_not_evidence() -> None:
    # the case: 0 wins in 1,977 lead-attempts at k = 13-15, V = 160,000 €, c = 10 €
    won, lost, cens = _fixture_counts()
    cens[13] -= 1  # one lead fewer: n_13 + n_14 + n_15 = 1,977
    for k in (13, 14, 15):  # no win beyond 12: those leads stay censored
        cens[k] += won[k]
        won[k] = 0
    t = life_table(won, lost, cens)
    assert t.at_risk is not None and int(t.at_risk[12:].sum()) == 1977 and won[12] > 0
    g = group_attempts(won, lost, cens, value=160_000.0, cost_per_attempt=COST, B=300)
    assert not g.identified and g.optimal_attempts == 12
    assert g.reason is not None
    assert g.reason.startswith(
        "0 wins in 1,977 lead-attempts at k = 13–15: the win rate there may be up to 1.5‰ "
        "(95% upper bound); one more attempt pays above c/V = 0.062‰, so N* ≥ 12 is all the "
        "data say"
    )
    ident = g.identification
    assert ident is not None and ident.rate_upper == pytest.approx(1 - 0.05 ** (1 / 1977))


def test_identification_uses_the_uncertainty_of_v() -> None:
    won = [20 * x for x in [0, 60, 40, 25, 15, 8, 4, 2, 1]]
    lost = [20 * x for x in [0, 30, 25, 20, 15, 10, 8, 6, 2]]
    cens = [20 * x for x in [0, 80, 70, 60, 50, 40, 30, 20, 400]]
    sure = group_attempts(won, lost, cens, value=1000.0, cost_per_attempt=COST, B=400)
    vague = group_attempts(
        won, lost, cens, value=1000.0, value_se=400.0, cost_per_attempt=COST, B=400
    )
    assert sure.identified and not vague.identified
    assert vague.reason is not None and "V at its upper bound" in vague.reason
    assert vague.optimal_attempts_ci[0] <= sure.optimal_attempts_ci[0]


def test_flat_profit_curve_leads_with_the_near_optimal_set() -> None:
    won, lost, cens = _fixture_counts(leads=400_000, stop=0.02)
    g = group_attempts(won, lost, cens, value=1600.0, cost_per_attempt=COST, B=300)
    assert g.identified and len(g.near_optimal) >= 3
    lo, hi = g.near_optimal[0], g.near_optimal[-1]
    assert g.optimal_attempts_text == (
        f"anything from {lo} to {hi} attempts is within 1% of the best (N* = {g.optimal_attempts})"
    )


def test_exact_bounds_are_clopper_pearson() -> None:
    from scipy.stats import beta

    from leadsla.analysis.hazard import exact_lower, exact_upper

    assert float(exact_upper(0, 1977)) == pytest.approx(1 - 0.05 ** (1 / 1977))
    assert float(exact_upper(3, 40)) == pytest.approx(beta.ppf(0.95, 4, 37))
    assert float(exact_lower(3, 40)) == pytest.approx(beta.ppf(0.05, 3, 38))
    assert float(exact_lower(0, 40)) == 0.0 and float(exact_upper(5, 5)) == 1.0


def test_shrinkage_toward_a_parent_without_wins_at_some_attempt() -> None:
    """A small group shrunk toward a parent whose hazard is 0 at some k (no win there) and
    with no win of its own at that k: the posterior is drawn (it failed with 'a <= 0' on the
    100k-lead benchmark CRM) and puts that hazard near 0."""
    from leadsla.analysis.hazard import fit

    won, lost, censored = [0, 2, 0, 1], [0, 3, 4, 2], [0, 1, 2, 3]
    hz = fit(won, lost, censored, model="isotonic", prior_hazard=[0.2, 0.0, 0.1],
             prior_strength=10.0, draws=500)  # fmt: skip
    assert hz.draws.shape == (500, 3)
    assert np.isfinite(hz.draws).all()
    assert float(np.median(hz.draws[:, 1])) < 0.1
