"""Startup time of the ``leadsla`` command, whole process, against ``python -c pass``.

Fresh processes, bytecode compiled once first (``compileall`` into a private
PYTHONPYCACHEPREFIX, so the source tree and the virtualenv stay untouched), runs interleaved,
medians reported. Issue 9 asks ``leadsla --help`` ≤ 0.3 s.

    python benchmarks/bench_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "leadsla --help": [sys.executable, "-m", "leadsla", "--help"],
    "leadsla mappings": [sys.executable, "-m", "leadsla", "mappings"],
    "import leadsla": [sys.executable, "-c", "import leadsla"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="leadsla-startup-") as cache:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": cache, "COLUMNS": "100"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        # compile the package once (as an installed wheel is); the warm-up runs write the
        # bytecode of every library module they import into the same prefix
        sys.pycache_prefix = cache
        compileall.compile_dir(SRC, quiet=1)
        for cmd in CASES.values():
            subprocess.run(cmd, env=env, capture_output=True, check=True)
        times: dict[str, list[float]] = {name: [] for name in CASES}
        for _ in range(args.runs):
            for name, cmd in CASES.items():
                t0 = time.perf_counter()
                subprocess.run(cmd, env=env, capture_output=True, check=True)
                times[name].append(time.perf_counter() - t0)
    base = statistics.median(times["python -c pass"])
    print(f"{'case':<20} {'median s':>9} {'min s':>7} {'× python -c pass':>17}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<20} {med:>9.3f} {min(ts):>7.3f} {med / base:>17.1f}")


if __name__ == "__main__":
    main()
