"""``leadsla attempts`` and ``leadsla check`` at scale, on DuckDB and on Spark (local mode).

Run: ``uv run python benchmarks/bench_scale.py [--leads 10000000] [--engines duckdb,pyspark]
[--commands attempts,check] [--spark-master local[2]] [--driver-memory 4g]``.

The data: the synthetic CRM of ``leadsla.synth`` (Parquet, seed 42; 10M leads give ~78M
activities), generated once into ``--data-root`` (default ``/tmp/leadsla-bench-data``) and
reused. Each case is one fresh ``python -m leadsla CMD SOURCE --format json`` process under
``/usr/bin/time``: the wall time a user waits (reading, validating, staging, analysing) and
the peak resident memory of the process tree's largest process (for Spark: the driver JVM,
which in local mode also runs the executors). DuckDB reads the folder; Spark reads it
through ``pyspark://MASTER?path=…``. Both runs' JSON must agree (the script says when not).

Results go to ``benchmarks/results/bench_scale-<leads>.json`` with the machine's description.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POLICY_TOML = """\
schema = "leadsla-sla/1"
name = "Benchmark SLA"

[calendar]
time_zone = "Europe/Berlin"
hours = "Mon-Fri 09:00-18:00"
holiday_country = "DE"

[sales]
first_response_hours = 4
attempt_kinds = ["call", "email"]

[sales.attempts]
count = 6
within_days = 14
"""


def data_folder(root: Path, leads: int) -> Path:
    from leadsla.synth import generate

    folder = root / f"synth-{leads}-seed42"
    if not (folder / "truth.json").exists():
        t0 = time.perf_counter()
        generate(folder, leads=leads, seed=42)
        print(f"generated {leads:,} leads in {time.perf_counter() - t0:.0f} s", flush=True)
    return folder


def run_case(engine: str, cmd: str, data: Path, policy: Path, args: argparse.Namespace) -> dict:
    as_of = json.loads((data / "truth.json").read_text(encoding="utf-8"))["as_of"]
    if engine == "duckdb":
        source = str(data)
    else:
        source = (
            f"pyspark://{args.spark_master}?path={data}"
            f"&spark.driver.memory={args.driver_memory}"
            "&spark.sql.shuffle.partitions=8"
        )
    extra = ["--policy", str(policy)] if cmd == "check" else ["--bootstrap", "200"]
    argv = [sys.executable, "-m", "leadsla", cmd, source, *extra, "--as-of", as_of,
            "--format", "json"]  # fmt: skip
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-v", *argv], capture_output=False, stdout=subprocess.PIPE,
            stderr=err, check=False, env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
        wall = time.perf_counter() - t0
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    out = {
        "engine": engine,
        "command": cmd,
        "exit_code": proc.returncode,
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(int(rss.group(1)) / 1024) if rss else None,
    }
    if proc.returncode == 0:
        out["json"] = json.loads(proc.stdout)
    else:
        out["error"] = stderr[-2000:]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--leads", type=int, default=10_000_000)
    p.add_argument("--engines", default="duckdb,pyspark")
    p.add_argument("--commands", default="attempts,check")
    p.add_argument("--spark-master", default="local[2]")
    p.add_argument("--driver-memory", default="4g")
    p.add_argument("--data-root", type=Path, default=Path("/tmp/leadsla-bench-data"))
    args = p.parse_args()
    data = data_folder(args.data_root, args.leads)
    policy = data / "bench-policy.toml"
    policy.write_text(POLICY_TOML, encoding="utf-8")
    acts = _rows(data / "activities.parquet")
    results = []
    for cmd in args.commands.split(","):
        by_engine = {}
        for engine in args.engines.split(","):
            r = run_case(engine, cmd, data, policy, args)
            print(f"{cmd:9} {engine:8} {r['wall_s']:8.1f} s  {r['peak_rss_mib']} MiB  "
                  f"exit {r['exit_code']}", flush=True)  # fmt: skip
            by_engine[engine] = r.pop("json", None)
            results.append(r)
        got = [j for j in by_engine.values() if j is not None]
        if len(got) > 1:
            same = all(_strip(j) == _strip(got[0]) for j in got[1:])
            results.append({"command": cmd, "engines_agree": same})
            print(f"{cmd:9} engines agree: {same}", flush=True)
    doc = {
        "leads": args.leads,
        "activities": acts,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_avg_at_start": os.getloadavg(),
        },  # fmt: skip
        "spark_master": args.spark_master,
        "results": results,
    }
    out = Path(__file__).parent / "results" / f"bench_scale-{args.leads}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def _strip(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "source"}


if __name__ == "__main__":
    main()
