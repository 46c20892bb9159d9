"""Benchmark the business clock: elapsed() and due() on 2,000,000 rows each.

Run: ``uv run python benchmarks/bench_clock.py [--rows N] [--repeat R]``. Prints rows/second
for a cold call (builds the calendar table) and the best of R warm calls, plus peak memory
(``resource.getrusage`` max RSS). Target: >= 2,000,000 intervals/second.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from leadsla.clock import BusinessCalendar

CONFIG = {
    "time_zone": "Europe/Berlin",
    "hours": {"mon-thu": ["09:00-18:00"], "fri": ["09:00-12:30", "13:30-18:00"]},
    "holiday_country": "DE",
    "holiday_subdivision": "BE",
}


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (ru_maxrss is KB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(cold seconds, best warm seconds)."""
    t0 = time.perf_counter()
    fn()
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - t0)
    return cold, min(warm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.rows

    rng = np.random.default_rng(0)
    year_start = np.datetime64("2025-01-01T00:00:00", "ns").astype(np.int64)
    year_ns = 365 * 86_400 * 10**9
    a = (year_start + rng.integers(0, year_ns, n)).view("datetime64[ns]")
    b = a + rng.integers(0, 30 * 86_400 * 10**9, n).astype("timedelta64[ns]")  # up to 30 days
    seconds = rng.uniform(0, 5 * 9 * 3600, n)  # up to a business week
    print(f"rows: {n:,} (a uniform over 2025, b = a + U(0, 30 d); due targets U(0, 45 h))")
    print(f"calendar: {CONFIG}")
    print(f"peak RSS after making inputs: {peak_rss_mb():,.0f} MB")

    cal = BusinessCalendar.from_config(CONFIG)
    cold, warm = timed(lambda: cal.elapsed(a, b), args.repeat)
    print(
        f"elapsed(): cold {cold:.3f} s ({n / cold / 1e6:,.1f} M/s), "
        f"warm best {warm:.3f} s ({n / warm / 1e6:,.1f} M intervals/s)"
    )
    cal = BusinessCalendar.from_config(CONFIG)
    cold, warm = timed(lambda: cal.due(a, seconds), args.repeat)
    print(
        f"due():     cold {cold:.3f} s ({n / cold / 1e6:,.1f} M/s), "
        f"warm best {warm:.3f} s ({n / warm / 1e6:,.1f} M starts/s)"
    )
    table = cal._cache.table
    if table is not None:
        print(f"table: {table.starts.size:,} open intervals")
    print(f"peak RSS: {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
