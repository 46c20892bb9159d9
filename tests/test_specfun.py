"""The numpy log-gamma family against scipy.special (an independent implementation)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from leadsla.analysis.specfun import digamma, gammaln, trigamma

CASES = [
    (gammaln, special.gammaln),
    (digamma, special.digamma),
    (trigamma, lambda x: special.polygamma(1, x)),
]


def _error(got: np.ndarray, want: np.ndarray) -> float:
    """Absolute error where |want| < 1, relative above (the functions cross 0)."""
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1.0)))


@pytest.mark.parametrize(("ours", "ref"), CASES, ids=["gammaln", "digamma", "trigamma"])
def test_matches_scipy_on_a_log_grid(ours, ref) -> None:  # type: ignore[no-untyped-def]
    x = np.concatenate([np.geomspace(1e-6, 1e12, 20_001), [0.5, 1.0, 2.0, 9.999999, 10.0]])
    assert _error(ours(x), ref(x)) <= 2e-15


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(1e-6, 1e9, allow_nan=False), min_size=1, max_size=50))
def test_matches_scipy_anywhere(xs: list[float]) -> None:
    x = np.asarray(xs)
    for ours, ref in CASES:
        assert _error(ours(x), ref(x)) <= 1e-14


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_outside_the_domain_is_an_error(bad: float) -> None:
    for ours, _ in CASES:
        with pytest.raises(ValueError, match="> 0"):
            ours(np.array([1.0, bad]))
