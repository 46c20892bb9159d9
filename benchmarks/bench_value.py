"""Benchmark ``leadsla value`` on 10M leads from Parquet against the same aggregation in SQL.

uv run python benchmarks/bench_value.py            # 10M leads (targets: ≤ 1.3× SQL, ≤ 2 GB)
uv run python benchmarks/bench_value.py --leads 1000000 --repeat 5

Writes 10M synthetic leads in the canonical schema with numpy/pyarrow (``--data DIR`` keeps
them), then runs, each in a fresh child process, alternately:

- ``ibis``: :func:`leadsla.analysis.value.mql_value_table` on ``read_parquet`` (engine queries
  and the Python statistics: Wilson, Monte Carlo, shrinkage, warnings);
- ``sql``: the same aggregation written by hand in DuckDB SQL — the lag quantile, then one
  ``GROUPING SETS`` query with the per-group counts, sums, sum of squares, max and median for
  the groups, the segment totals and the overall row;
- ``sql-cte``: the same by hand the way ``value`` does it — per-group aggregates and the
  totals' medians as ``UNION ALL`` over one shared CTE (faster than GROUPING SETS in DuckDB);
- ``cli`` (with ``--cli``): ``leadsla value DIR`` end to end, validation included.

Reports wall time (median over ``--repeat`` runs), peak memory of each child (ru_maxrss) and
the ratio ibis ÷ sql.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

CAMPAIGNS = ["Webinar A", "Webinar B", "Demo Request", "Product Tour", "Trade Show",
             "Ebook", "Newsletter", "Search Ads", "LinkedIn", "Partner Day"]  # fmt: skip
SEGMENTS = ["enterprise", "mid-market", "smb"]
AS_OF_US = 1_782_835_200_000_000  # 2026-07-01 UTC, microseconds
DAY_US = 86_400 * 1_000_000


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (ru_maxrss: KiB on Linux, bytes on macOS).

    Each measured run is a fresh child of a parent that stays small (the data are written by
    another child): on Linux ru_maxrss survives fork + exec, so a big parent would leak its
    own peak into the child's figure.
    """
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _cpu_seconds() -> float:
    """CPU time of this process, all threads (user + system): steadier than wall time on a
    shared machine."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def write_leads(path: Path, n: int, seed: int = 0, chunk: int = 1_000_000) -> None:
    """``n`` canonical leads (18 months before 2026-07-01) as one Parquet file, in chunks."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    ts = pa.timestamp("us", tz="UTC")
    schema = pa.schema([("lead_id", pa.string()), ("created_at", ts), ("segment", pa.string()),
                        ("campaign", pa.string()), ("source", pa.string()),
                        ("owner", pa.string()), ("status", pa.string()), ("closed_at", ts),
                        ("revenue", pa.float64()), ("mql_at", ts)])  # fmt: skip
    rng = np.random.default_rng(seed)
    seg_rev = np.array([60_000.0, 15_000.0, 3_000.0])
    seg_rate = np.array([0.03, 0.06, 0.10])
    camp_q = rng.uniform(0.5, 1.6, len(CAMPAIGNS) + 1)
    with pq.ParquetWriter(path, schema) as w:
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            ids = pc.binary_join_element_wise(
                "L", pc.utf8_lpad(pc.cast(pa.array(np.arange(start, start + m)), pa.string()),
                                  9, "0"), "")  # fmt: skip
            created = AS_OF_US - rng.integers(0, 548 * DAY_US, m)
            seg = rng.choice(3, m, p=[0.25, 0.4, 0.35])
            camp = rng.integers(0, len(CAMPAIGNS) + 1, m)  # the last one: no campaign
            p_won = seg_rate[seg] * camp_q[camp]
            u = rng.random(m)
            status = np.where(u < p_won, 1, np.where(u < p_won + 0.6, 2, 0))  # won, lost, open
            lag = (rng.lognormal(np.log(20.0), 0.8, m) * DAY_US).astype(np.int64)
            closed_at = created + lag
            status = np.where((status > 0) & (closed_at > AS_OF_US), 0, status)
            closed = status > 0
            revenue = rng.lognormal(np.log(seg_rev[seg]) - 0.32, 0.8, m)
            camp_arr = pa.array(np.array([*CAMPAIGNS, ""], dtype=object)[camp])
            camp_arr = pc.if_else(pc.equal(camp_arr, ""), pa.scalar(None, pa.string()), camp_arr)
            w.write_table(pa.table({
                "lead_id": ids,
                "created_at": pa.array(created, ts),
                "segment": pa.array(np.array(SEGMENTS, dtype=object)[seg]),
                "campaign": camp_arr,
                "source": pa.array(np.where(camp < len(CAMPAIGNS), "marketing", "sales")),
                "owner": pa.array(np.char.add("rep ", rng.integers(0, 40, m).astype(str))),
                "status": pa.array(np.array(["open", "won", "lost"], dtype=object)[status]),
                "closed_at": pa.array(closed_at, ts, mask=~closed),
                "revenue": pa.array(revenue, pa.float64(), mask=status != 1),
                "mql_at": pa.array(created, ts),
            }, schema=schema))  # fmt: skip


HAND_LAG = """
SELECT quantile_cont(epoch(closed_at) - epoch(created_at), {q})
         FILTER (WHERE status IN ('won', 'lost') AND closed_at IS NOT NULL) AS lag_q,
       greatest(max(created_at), max(closed_at), max(mql_at)) AS as_of
FROM read_parquet('{path}')
"""

HAND_GROUPS = """
WITH l AS (
  SELECT coalesce(campaign, '(none)') AS campaign, coalesce(segment, '(none)') AS segment,
         revenue,
         created_at <= TIMESTAMPTZ '{as_of}' AS created,
         created_at <= TIMESTAMPTZ '{as_of}' AND created_at < TIMESTAMPTZ '{cutoff}' AS mature,
         status = 'won' AND (closed_at IS NULL OR closed_at <= TIMESTAMPTZ '{as_of}') AS won,
         status IN ('won', 'lost') AND (closed_at IS NULL OR closed_at <= TIMESTAMPTZ '{as_of}')
           AS closed
  FROM read_parquet('{path}')
)
SELECT campaign, segment, grouping(campaign, segment) AS level,
       count(*) AS read,
       count(*) FILTER (WHERE NOT created) AS future,
       count(*) FILTER (WHERE mature) AS leads,
       count(*) FILTER (WHERE created AND NOT mature AND closed) AS left_closed,
       count(*) FILTER (WHERE mature AND won) AS won,
       count(revenue) FILTER (WHERE mature AND won) AS rev_n,
       sum(revenue) FILTER (WHERE mature AND won) AS rev_sum,
       sum(revenue * revenue) FILTER (WHERE mature AND won) AS rev_sumsq,
       max(revenue) FILTER (WHERE mature AND won) AS rev_max,
       median(revenue) FILTER (WHERE mature AND won) AS rev_median
FROM l
GROUP BY GROUPING SETS ((campaign, segment), (segment), ())
ORDER BY level, segment, campaign
"""


HAND_GROUPS_CTE = """
WITH l AS (
  SELECT coalesce(campaign, '(none)') AS campaign, coalesce(segment, '(none)') AS segment,
         revenue,
         created_at <= TIMESTAMPTZ '{as_of}' AS created,
         created_at <= TIMESTAMPTZ '{as_of}' AND created_at < TIMESTAMPTZ '{cutoff}' AS mature,
         status = 'won' AND (closed_at IS NULL OR closed_at <= TIMESTAMPTZ '{as_of}') AS won,
         status IN ('won', 'lost') AND (closed_at IS NULL OR closed_at <= TIMESTAMPTZ '{as_of}')
           AS closed
  FROM read_parquet('{path}')
), w AS (SELECT segment, revenue FROM l WHERE mature AND won AND revenue IS NOT NULL)
SELECT 0 AS level, campaign, segment,
       count(*) AS read,
       count(*) FILTER (WHERE NOT created) AS future,
       count(*) FILTER (WHERE mature) AS leads,
       count(*) FILTER (WHERE created AND NOT mature AND closed) AS left_closed,
       count(*) FILTER (WHERE mature AND won) AS won,
       count(revenue) FILTER (WHERE mature AND won) AS rev_n,
       sum(revenue) FILTER (WHERE mature AND won) AS rev_sum,
       sum(revenue * revenue) FILTER (WHERE mature AND won) AS rev_sumsq,
       max(revenue) FILTER (WHERE mature AND won) AS rev_max,
       median(revenue) FILTER (WHERE mature AND won) AS rev_median
FROM l GROUP BY campaign, segment
UNION ALL
SELECT 1, NULL, segment, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, median(revenue)
FROM w GROUP BY segment
UNION ALL
SELECT 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, median(revenue)
FROM w
"""


def run_sql(path: Path, form: str = "sets") -> dict[str, object]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    t0, c0 = time.perf_counter(), _cpu_seconds()
    lag_q, as_of = con.execute(HAND_LAG.format(q=0.9, path=path)).fetchone()
    cutoff = as_of - __import__("datetime").timedelta(seconds=float(lag_q))
    sql = HAND_GROUPS if form == "sets" else HAND_GROUPS_CTE
    rows = con.execute(sql.format(path=path, as_of=as_of.isoformat(),
                                  cutoff=cutoff.isoformat())).fetchall()  # fmt: skip
    elapsed, cpu = time.perf_counter() - t0, _cpu_seconds() - c0
    con.close()
    return {"seconds": elapsed, "cpu": cpu, "rows": len(rows), "peak_mb": _peak_rss_mb()}


def run_ibis(path: Path) -> dict[str, object]:
    import ibis

    from leadsla.analysis.value import mql_value_table

    con = ibis.duckdb.connect()
    t = con.read_parquet(path, table_name="leads")
    t0, c0 = time.perf_counter(), _cpu_seconds()
    res = mql_value_table(t, by=("campaign", "segment"))
    elapsed, cpu = time.perf_counter() - t0, _cpu_seconds() - c0
    con.disconnect()
    basis = {b: sum(r.revenue_basis == b for r in res.rows) for b in ("raw", "summary")}
    return {
        "seconds": elapsed,
        "cpu": cpu,
        "rows": len(res.rows),
        "peak_mb": _peak_rss_mb(),
        "leads": res.maturity.mature_leads,
        "queries": len(res.queries),
        "basis": basis,
    }


def run_cli(folder: Path) -> dict[str, object]:
    from typer.testing import CliRunner

    from leadsla.cli import app

    t0, c0 = time.perf_counter(), _cpu_seconds()
    r = CliRunner().invoke(app, ["value", str(folder), "--format", "json"])
    elapsed, cpu = time.perf_counter() - t0, _cpu_seconds() - c0
    if r.exit_code != 0:
        raise SystemExit(f"leadsla value failed: {r.output[-2000:]}")
    return {
        "seconds": elapsed,
        "cpu": cpu,
        "rows": len(json.loads(r.stdout)["groups"]),
        "peak_mb": _peak_rss_mb(),
    }


def _child(kind: str, path: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--data", str(path)],
                         capture_output=True, text=True, check=False)  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leads", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each kind")
    ap.add_argument("--data", type=Path, default=None, help="folder for leads.parquet (kept)")
    ap.add_argument("--cli", action="store_true", help="also time `leadsla value DIR`")
    ap.add_argument(
        "--child", choices=("ibis", "sql", "sql-cte", "cli", "write"), help=argparse.SUPPRESS
    )
    args = ap.parse_args(argv)

    if args.child == "write":
        write_leads(args.data / "leads.parquet", args.leads)
        print(json.dumps({"peak_mb": _peak_rss_mb()}))
        return 0
    if args.child:
        path = args.data / "leads.parquet" if args.data.is_dir() else args.data
        fn = {"ibis": lambda: run_ibis(path), "sql": lambda: run_sql(path),
              "sql-cte": lambda: run_sql(path, "cte"),
              "cli": lambda: run_cli(args.data)}[args.child]  # fmt: skip
        print(json.dumps(fn()))
        return 0

    with tempfile.TemporaryDirectory(prefix="leadsla-bench-value-") as tmp:
        folder = args.data or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "leads.parquet"
        if not path.exists():
            t0 = time.perf_counter()
            cmd = [sys.executable, __file__, "--child", "write", "--data", str(folder)]
            subprocess.run([*cmd, "--leads", str(args.leads)], check=True)
            size = path.stat().st_size / 1e6
            print(f"wrote {args.leads:,} leads to {path} ({size:,.0f} MB) in "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip
        kinds = ["ibis", "sql", "sql-cte"]
        runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
        for i in range(args.repeat):
            for kind in kinds if i % 2 == 0 else kinds[::-1]:
                r = _child(kind, folder)
                runs[kind].append(r)
                print(f"  {kind:7} run {i + 1}: {r['seconds']:.2f} s wall, {r['cpu']:.2f} s CPU, "
                      f"peak {r['peak_mb']:,.0f} MiB, {r['rows']} rows", flush=True)  # fmt: skip

        def stat(kind: str, key: str, how: Any = statistics.median) -> float:
            return float(how(float(r[key]) for r in runs[kind]))

        extra = runs["ibis"][0]
        print(f"leads={args.leads:,}  mature={extra['leads']:,}  rows={extra['rows']}  "
              f"engine queries={extra['queries']}  revenue basis={extra['basis']}  "
              f"runs of each={args.repeat}")  # fmt: skip
        print(f"{'':34}{'wall median':>12}{'wall fastest':>13}{'CPU median':>12}{'peak MiB':>10}")
        names = {"ibis": "mql_value_table (Ibis + stats)", "sql": "hand SQL, GROUPING SETS",
                 "sql-cte": "hand SQL, shared CTE + UNION ALL"}  # fmt: skip
        for k in kinds:
            print(f"{names[k]:34}{stat(k, 'seconds'):>11.2f}s{stat(k, 'seconds', min):>12.2f}s"
                  f"{stat(k, 'cpu'):>11.2f}s{stat(k, 'peak_mb', max):>10,.0f}")  # fmt: skip
        ratios = {
            "wall median": stat("ibis", "seconds")
            / min(stat("sql", "seconds"), stat("sql-cte", "seconds")),
            "wall fastest": stat("ibis", "seconds", min)
            / min(stat("sql", "seconds", min), stat("sql-cte", "seconds", min)),
            "CPU median": stat("ibis", "cpu") / min(stat("sql", "cpu"), stat("sql-cte", "cpu")),
        }
        print("ratio to the faster hand SQL: "
              + ", ".join(f"{k} {v:.2f}×" for k, v in ratios.items())
              + f" (target ≤ 1.3×); peak memory {stat('ibis', 'peak_mb', max):,.0f} MiB "
              "(target ≤ 2 GB)")  # fmt: skip
        if args.cli:
            r = _child("cli", folder)
            print(
                f"leadsla value DIR (connect, validation, value, JSON): {r['seconds']:.1f} s, "
                f"peak {r['peak_mb']:,.0f} MiB"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
