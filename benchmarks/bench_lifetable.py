"""Time the attempts bootstrap: B = 1,000 resamples of one group with K = 60 attempts.

Run: ``uv run python benchmarks/bench_lifetable.py``. Prints seconds per call (best and median
of 7 runs after one warm-up call that also pays the one-off import of kneed/scipy.signal).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from leadsla.analysis.lifetable import HazardFit, bootstrap, group_attempts

K = 60
LEADS_WITH_ATTEMPTS = 5_000
VALUE_EUR = 2_000.0
COST_PER_ATTEMPT_EUR = 10.0
RUNS = 7


def group_counts() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected counts of a group with falling win hazard, 3% lost and 3% dropped per attempt."""
    won = np.zeros(K + 1, dtype=np.int64)
    lost = np.zeros(K + 1, dtype=np.int64)
    censored = np.zeros(K + 1, dtype=np.int64)
    won[0], censored[0] = 20, 150
    at_risk = LEADS_WITH_ATTEMPTS
    for k in range(1, K + 1):
        h_w = 0.05 * np.exp(-(k - 1) / 12)
        won[k] = round(at_risk * h_w)
        lost[k] = round(at_risk * 0.03)
        censored[k] = round(at_risk * 0.03) if k < K else at_risk - won[k] - lost[k]
        at_risk -= int(won[k] + lost[k] + censored[k])
    return won, lost, censored


def timed(label: str, call: Callable[[], object]) -> None:
    start = time.perf_counter()
    call()
    first = time.perf_counter() - start
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    print(
        f"{label:<44} best {min(times):.3f} s   median {statistics.median(times):.3f} s"
        f"   (first call {first:.3f} s)"
    )


def main() -> None:
    won, lost, censored = group_counts()
    print(f"group: {int((won + lost + censored).sum()):,} leads, K = {K}, B = 1,000")
    smooth: HazardFit
    for smooth in ("raw", "isotonic"):
        timed(
            f"bootstrap, hazard {smooth}",
            partial(
                bootstrap,
                won,
                lost,
                censored,
                VALUE_EUR,
                COST_PER_ATTEMPT_EUR,
                B=1000,
                smooth=smooth,
            ),
        )
    timed(
        "group_attempts (table + bootstrap + knee)",
        lambda: group_attempts(
            won, lost, censored, value=VALUE_EUR, cost_per_attempt=COST_PER_ATTEMPT_EUR, B=1000
        ),
    )
    result = group_attempts(
        won, lost, censored, value=VALUE_EUR, cost_per_attempt=COST_PER_ATTEMPT_EUR, B=1000
    )
    print(
        f"N* = {result.optimal_attempts} (95% {list(result.optimal_attempts_ci)}), "
        f"knee = {result.knee}, N_max = {result.max_attempts_supported}"
    )


if __name__ == "__main__":
    main()
