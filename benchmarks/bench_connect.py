"""Benchmark: connect + validate a synthetic CRM from Parquet (issue 2).

    uv run python benchmarks/bench_connect.py [--leads 1000000] [--dir /tmp/leadsla-bench-1m]

Generates the data once into --dir (kept for re-runs), then times ``leadsla.connect`` (read,
type, validate every check, publish the canonical tables) and a full count of each canonical
table, and prints peak memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import leadsla
from leadsla import synth


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--workspace", type=Path, default=None,
                    help="materialise the canonical tables into this DuckDB file")
    args = ap.parse_args()
    folder = args.dir or Path(f"/tmp/leadsla-bench-{args.leads}")
    if not (folder / "leads.parquet").exists():
        t = time.perf_counter()
        synth.generate(folder, leads=args.leads, seed=0)
        print(f"generated {args.leads:,} leads in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    ws = leadsla.connect(folder, workspace=args.workspace)
    t_connect = time.perf_counter() - t
    with ws:
        t = time.perf_counter()
        counts = {name: int(tab.count().execute()) for name, tab in ws.tables.items()}
        t_count = time.perf_counter() - t
        print(f"connect + validate: {t_connect:.2f} s; counting the tables: {t_count:.2f} s")
        print("rows:", {k: f"{v:,}" for k, v in counts.items()})
        print(f"issues: {len(ws.issues.errors)} errors, {len(ws.issues.warnings)} warnings")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
