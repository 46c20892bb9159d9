"""Originated / influenced / fractional marketing shares (METHODS §2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsla.analysis.attribution import MODELS, attribute

FIXTURE = [
    ("D1", 100_000, 0, "marketing", "webinar"),
    ("D1", 100_000, 3, "sales", "call"),
    ("D1", 100_000, 10, "sales", "demo"),
    ("D2", 60_000, 0, "sales", "call"),
    ("D2", 60_000, 20, "marketing", "webinar"),
    ("D2", 60_000, 30, "sales", "demo"),
    ("D3", 40_000, 0, "marketing", "search"),
    ("D3", 40_000, 5, "sales", "demo"),
    ("D4", 80_000, 0, "sales", "call"),
    ("D4", 80_000, 14, "sales", "demo"),
]
EXPECTED = {
    "originated": 0.500,
    "influenced": 0.714,
    "linear": 0.262,
    "u_shaped": 0.257,
    "time_decay": 0.181,
    "last_touch": 0.0,
}
COLUMNS = ["deal_id", "revenue", "at", "team", "channel"]


def fixture_frame(*, timestamps: bool = False) -> pd.DataFrame:
    df = pd.DataFrame(FIXTURE, columns=COLUMNS)
    if timestamps:
        df["at"] = pd.Timestamp("2025-03-01", tz="Europe/Berlin") + pd.to_timedelta(
            df["at"], unit="D"
        )
    return df


def by_hand_time_decay() -> float:
    def share(days: list[float], mk: list[bool]) -> float:
        w = [2 ** (-(days[-1] - d) / 7) for d in days]
        return sum(x for x, m in zip(w, mk, strict=True) if m) / sum(w)

    credit = (
        100 * share([0, 3, 10], [True, False, False])
        + 60 * share([0, 20, 30], [False, True, False])
        + 40 * share([0, 5], [True, False])
    )
    return credit / 280


@pytest.mark.parametrize("timestamps", [False, True])
def test_methods_fixture(timestamps: bool) -> None:
    res = attribute(fixture_frame(timestamps=timestamps))
    for model, share in EXPECTED.items():
        assert res.shares[model] == pytest.approx(share, abs=1e-3), model
    assert res.shares["time_decay"] == pytest.approx(by_hand_time_decay())
    assert res.shares["linear"] == pytest.approx((100 / 3 + 20 + 20) / 280)
    assert res.shares["u_shaped"] == pytest.approx((40 + 12 + 20) / 280)
    assert res.total_revenue == 280_000 and res.deals == 4


def test_row_order_does_not_matter_and_arrays_accepted() -> None:
    df = fixture_frame().sample(frac=1.0, random_state=3)
    res = attribute({c: df[c].to_numpy() for c in COLUMNS})
    for model, share in EXPECTED.items():
        assert res.shares[model] == pytest.approx(share, abs=1e-3)


def test_by_channel_credit_sums_to_revenue() -> None:
    res = attribute(fixture_frame())
    np.testing.assert_allclose(res.by_channel.sum().to_numpy(), 280_000)
    assert res.by_channel.loc["webinar", "first_touch"] == 100_000
    assert res.by_channel.loc["demo", "last_touch"] == 280_000


def test_u_shape_middle_split() -> None:
    df = pd.DataFrame(
        {
            "deal_id": ["A"] * 4,
            "revenue": [100.0] * 4,
            "at": [0, 1, 2, 3],
            "team": ["sales", "marketing", "marketing", "sales"],
        }
    )
    res = attribute(df)
    assert res.shares["u_shaped"] == pytest.approx(0.2)
    assert res.shares["linear"] == pytest.approx(0.5)
    assert res.shares["originated"] == 0 and res.shares["influenced"] == 1


def test_lookback_drops_old_touches() -> None:
    df = fixture_frame(timestamps=True)
    start = pd.Timestamp("2025-03-01", tz="Europe/Berlin")
    close = {
        "D1": start + pd.Timedelta(days=11),
        "D2": start + pd.Timedelta(days=104),  # the d0 sales call is 104 days before: dropped
        "D3": start + pd.Timedelta(days=6),
        "D4": start + pd.Timedelta(days=15),
    }
    res = attribute(df, closed_at=close)
    assert res.touches_dropped == 1
    # D2 now starts with the marketing webinar: originated gains D2's 60k
    assert res.shares["originated"] == pytest.approx(200 / 280)
    assert attribute(df, closed_at=close, lookback_days=None).shares == attribute(df).shares
    assert attribute(df, closed_at=close, lookback_days=200).touches_dropped == 0


def test_lookback_from_closed_at_column_and_deal_without_touches() -> None:
    df = fixture_frame().assign(
        closed_at=lambda d: d["deal_id"].map({"D1": 11, "D2": 31, "D3": 200, "D4": 15})
    )
    res = attribute(df)  # D3's touches are all older than 90 days: no credit, revenue kept
    assert res.total_revenue == 280_000
    assert res.shares["originated"] == pytest.approx(100 / 280)
    assert res.shares["influenced"] == pytest.approx(160 / 280)


def test_missing_column_message() -> None:
    with pytest.raises(ValueError, match="missing column"):
        attribute(pd.DataFrame({"deal_id": ["A"], "revenue": [1.0]}))


def test_inconsistent_revenue_rejected() -> None:
    df = fixture_frame()
    df.loc[0, "revenue"] = 1.0
    with pytest.raises(ValueError, match="D1"):
        attribute(df)


touch = st.tuples(
    st.integers(0, 5),  # deal
    st.floats(0, 120, allow_nan=False),  # day
    st.sampled_from(["marketing", "sales", "partner"]),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(touch, min_size=1, max_size=40), st.lists(st.floats(1, 1e6), min_size=6, max_size=6)
)
def test_share_invariants(touches: list[tuple[int, float, str]], revenues: list[float]) -> None:
    df = pd.DataFrame(touches, columns=["deal", "at", "team"])
    df["deal_id"] = "D" + df["deal"].astype(str)
    df["revenue"] = [revenues[d] for d in df["deal"]]
    s = attribute(df).shares
    eps = 1e-9
    for model in MODELS:
        assert -eps <= s[model] <= 1 + eps
    assert s["influenced"] >= s["originated"] - eps
    for model in ("linear", "u_shaped", "time_decay", "last_touch"):
        assert s["influenced"] >= s[model] - eps
