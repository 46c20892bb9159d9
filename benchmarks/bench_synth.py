"""Benchmark the synthetic CRM generator: wall time and peak memory for N leads as Parquet.

uv run python benchmarks/bench_synth.py                 # 1M leads (target <= 60 s)
uv run python benchmarks/bench_synth.py --leads 10000000  # the big run (target <= 8 GB)
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from leadsla.synth import generate


def _peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads to generate")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--chunk-size", type=int, default=500_000, help="leads per chunk")
    parser.add_argument("--out", type=Path, default=None, help="keep the files here")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)

    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            elapsed = time.perf_counter() - start
            print(
                f"  {done:>12,} / {total:,} leads  {elapsed:7.1f} s  "
                f"peak {_peak_rss_mb():,.0f} MiB",
                flush=True,
            )

    with tempfile.TemporaryDirectory(prefix="leadsla-bench-") as tmp:
        out = args.out if args.out is not None else Path(tmp)
        result = generate(
            out,
            leads=args.leads,
            seed=args.seed,
            format=args.format,
            chunk_size=args.chunk_size,
            progress=progress,
        )
        elapsed = time.perf_counter() - start
        size = sum(p.stat().st_size for p in result.files.values())
        rows = ", ".join(f"{name} {n:,}" for name, n in result.rows.items())
        print(f"leads={args.leads:,} format={args.format} chunk_size={args.chunk_size:,}")
        print(f"rows: {rows}")
        print(f"time: {elapsed:.1f} s ({args.leads / elapsed:,.0f} leads/s)")
        print(f"peak RSS: {_peak_rss_mb():,.0f} MiB")
        print(f"files: {size / 1e6:,.1f} MB in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
