"""Planner (METHODS §2): guide examples, risk buffer search, lag spread, PlanResult."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from leadsla.analysis.planstats import (
    PlanResult,
    build_plan,
    capacity_check,
    combine_plans,
    funnel_value,
    lagged_requirements,
    mqls_required,
    pipeline_needed,
    prob_at_least,
    risk_buffer,
    wins_needed,
)


def test_mqls_required_guide_example() -> None:
    req = mqls_required(400_000, 0.40, 1_600)
    assert req.mqls_required == 100
    assert req.revenue_responsibility == pytest.approx(160_000)
    assert mqls_required(400_000, 0.40, 1_599).mqls_required == 101  # rounds up


def test_mqls_required_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="mql_value"):
        mqls_required(400_000, 0.4, 0)
    with pytest.raises(ValueError, match="originated_share"):
        mqls_required(400_000, 1.4, 1_600)


def test_risk_buffer_methods_example() -> None:
    assert prob_at_least(400, 0.02, 8) == pytest.approx(0.548, abs=5e-4)
    n = risk_buffer(0.02, 8)
    # METHODS says "80% needs 520": 520 does reach 80%, and the smallest N that does is 511
    # (510 gives 79.9992%), so 520 is that number rounded up.
    assert prob_at_least(520, 0.02, 8) >= 0.8
    assert n == 511
    assert prob_at_least(510, 0.02, 8) < 0.8 <= prob_at_least(511, 0.02, 8)


def test_risk_buffer_edges() -> None:
    assert risk_buffer(0.02, 0) == 0
    assert risk_buffer(1.0, 5) == 5
    assert prob_at_least(10, 0.3, 0) == 1.0
    np.testing.assert_allclose(prob_at_least([0, 7, 8], 1.0, 8), [0, 0, 1])
    with pytest.raises(ValueError):
        risk_buffer(0.0, 3)


def test_risk_buffer_large_n_is_fast() -> None:
    n = risk_buffer(1e-6, 50, 0.95)
    assert prob_at_least(n, 1e-6, 50) >= 0.95 > prob_at_least(n - 1, 1e-6, 50)
    assert n > 50_000_000


@settings(max_examples=60, deadline=None)
@given(st.floats(1e-4, 1.0), st.integers(1, 200), st.floats(0.05, 0.99))
def test_risk_buffer_is_the_smallest_n(p: float, wins: int, prob: float) -> None:
    n = risk_buffer(p, wins, prob)
    assert prob_at_least(n, p, wins) >= prob
    assert prob_at_least(n - 1, p, wins) < prob


def test_wins_needed() -> None:
    assert wins_needed(160_000, 20_000) == 8
    assert wins_needed(160_001, 20_000) == 9


def test_funnel_and_pipeline() -> None:
    assert funnel_value(160_000, [0.25, 0.4, 0.1]) == pytest.approx(1_600)
    assert funnel_value(160_000, []) == pytest.approx(160_000)
    assert pipeline_needed(160_000, 0.25) == pytest.approx(640_000)


def test_lagged_requirements_by_hand() -> None:
    got = lagged_requirements([160_000, 200_000], [0.5, 0.5], 1_600)
    np.testing.assert_allclose(got, [112.5, 125.0])  # month 2 repeats 200k beyond the horizon
    # three months, lags 0..2, unnormalised pmf
    got = lagged_requirements([100, 200, 300], [2, 1, 1], 10)
    expected = [
        (0.5 * 100 + 0.25 * 200 + 0.25 * 300) / 10,
        (0.5 * 200 + 0.25 * 300 + 0.25 * 300) / 10,
        (0.5 * 300 + 0.25 * 300 + 0.25 * 300) / 10,
    ]
    np.testing.assert_allclose(got, expected)


def test_lagged_requirements_flat_plan_equals_plain_requirement() -> None:
    got = lagged_requirements([160_000] * 6, stats.poisson.pmf(np.arange(8), 2.0), 1_600)
    np.testing.assert_allclose(got, 100.0)


def test_capacity_check() -> None:
    hours, fits, msg = capacity_check(100, 3.5, 6, 80)
    assert hours == pytest.approx(100 * 3.5 / 6) and fits and "within" in msg
    cc = capacity_check(511, 6.0, 5, 300)
    assert not cc.fits and "short" in cc.message


def test_build_plan_json_keys() -> None:
    plan = build_plan(
        400_000,
        0.40,
        1_600,
        period="2026-01",
        segment="enterprise",
        close_rate=0.02,
        mean_revenue=20_000,
        influenced_share=0.7,
        win_rate_by_value=0.25,
        lag_pmf=[0.5, 0.3, 0.2],
        revenue_by_period=[160_000, 160_000],
        expected_attempts_per_lead=3.0,
        attempts_per_hour=6,
        team_hours=100,
    )
    d = plan.to_dict()
    for key in (
        "mqls_required",
        "revenue_responsibility",
        "mql_value",
        "period",
        "by_segment",
        "euro_promise",
        "risk_buffer_mqls",
        "influenced_commitment",
        "pipeline_needed",
        "funnel",
        "lag",
        "capacity",
        "warnings",
    ):
        assert key in d
    assert d["mqls_required"] == 100
    assert d["revenue_responsibility"] == pytest.approx(160_000)
    assert d["risk_buffer_mqls"] == 511
    assert d["risk"]["probability_at_mqls_required"] < 0.5
    assert d["influenced_commitment"]["share"] == 0.7
    assert d["revenue_responsibility"] == pytest.approx(400_000 * 0.4)  # influenced not added
    assert d["pipeline_needed"] == pytest.approx(640_000)
    assert d["lag"]["mqls_by_period_rounded"] == [100, 100]
    assert d["capacity"]["mqls"] == 511 and d["capacity"]["fits"] is False
    assert len(d["warnings"]) == 2
    json.dumps(d)


def test_build_plan_mql_value_from_funnel_or_rate() -> None:
    p = build_plan(400_000, 0.4, mean_revenue=160_000, stage_rates=[0.25, 0.4, 0.1])
    assert p.mql_value == pytest.approx(1_600) and p.mqls_required == 100
    assert p.funnel is not None
    q = build_plan(400_000, 0.4, close_rate=0.01, mean_revenue=160_000)
    assert q.mqls_required == 100 and q.risk_buffer_mqls is not None
    with pytest.raises(ValueError, match="no MQL value"):
        build_plan(400_000, 0.4)


def test_influenced_below_originated_warns() -> None:
    p = build_plan(400_000, 0.4, 1_600, influenced_share=0.3)
    assert any("influenced" in w for w in p.warnings)


def test_combine_plans() -> None:
    a = build_plan(400_000, 0.4, 1_600, segment="enterprise")
    b = build_plan(100_000, 0.5, 500, segment="smb")
    total = combine_plans([a, b], period="2026-01")
    assert isinstance(total, PlanResult)
    assert total.mqls_required == 200
    assert total.revenue_responsibility == pytest.approx(210_000)
    assert total.mql_value == pytest.approx((100 * 1_600 + 100 * 500) / 200)
    d = total.to_dict()
    assert [s["segment"] for s in d["by_segment"]] == ["enterprise", "smb"]
    assert math.isclose(d["quota"], 500_000)
    json.dumps(d)
