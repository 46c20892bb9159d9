"""Time ``leadsla attempts`` end to end against the bare counting query written by hand in DuckDB.

Run: ``uv run python benchmarks/bench_attempts.py [--leads 1000000] [--data DIR] [--runs 3]``.

The data: a synthetic CRM from ``leadsla.synth`` (Parquet; 1M leads give ~7.8M activities),
written to ``DIR`` (kept, and reused when its truth.json says it has the asked-for size) or to
a temporary folder (generated in a subprocess, so its memory does not count below).

Measured in this process, each best (and median) of ``--runs`` after one warm-up call, runs
interleaved so that a busy machine slows both sides alike:

1. **hand query**: attempts per lead (calls and emails strictly before the close) and end
   state per stale lead, counted per (segment, attempts, state), in DuckDB SQL straight on
   the Parquet files;
2. **analysis, Parquet views**: ``attempt_analysis`` on ``connect(DIR)`` (the canonical views
   over the Parquet files) — the engine query, then per segment the life table, 1,000
   bootstrap resamples, N*, its interval and the knee;
3. **analysis, bare Parquet tables**: the same on ``read_parquet`` tables (no canonical
   views), which separates the cost of the source layer from the analysis;
4. **prepared DuckDB workspace**: ``connect(DIR, workspace="ws.duckdb")`` materialises the
   canonical tables once; then the analysis on them (target: ≤ 1 s).

Peak RSS is measured in fresh processes (``--child``): ``connect(DIR)`` plus the analysis,
as ``leadsla attempts DIR`` runs (with and without ``LEADSLA_MEMORY_LIMIT``), and the analysis
on the prepared workspace file.

Targets: 2. ≤ 1.2 × 1.; peak RSS ≤ 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

B = 1_000
KINDS = ("call", "email")
STALE_AFTER_DAYS = 90
MEMORY_LIMIT = "600MB"  # DuckDB's limit for the capped connect run (LEADSLA_MEMORY_LIMIT)


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB.

    VmHWM from /proc on Linux: it starts afresh at exec, whereas ru_maxrss carries over the
    parent's peak through fork and exec (a child of a big parent would report the parent's).
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def ensure_data(folder: Path, leads: int) -> dict[str, Any]:
    """The synthetic CRM in ``folder`` (generated in a subprocess unless already there)."""
    truth = folder / "truth.json"
    if truth.is_file():
        doc = json.loads(truth.read_text(encoding="utf-8"))
        if doc.get("leads") == leads and (folder / "activities.parquet").is_file():
            return dict(doc)
    started = time.perf_counter()
    code = (
        "import sys; from leadsla.synth import generate; "
        "generate(sys.argv[1], leads=int(sys.argv[2]), seed=42)"
    )
    subprocess.run([sys.executable, "-c", code, str(folder), str(leads)], check=True)
    print(f"generated {leads:,} leads in {time.perf_counter() - started:.1f} s ({folder})")
    return dict(json.loads(truth.read_text(encoding="utf-8")))


def hand_sql(folder: Path, cutoff: datetime) -> str:
    """The bare counting query, by hand: what the engine must do at the least."""
    leads = (folder / "leads.parquet").as_posix()
    acts = (folder / "activities.parquet").as_posix()
    kinds = ", ".join(f"'{k}'" for k in KINDS)
    return f"""
WITH stale AS (
  SELECT lead_id, segment, status, closed_at
  FROM read_parquet('{leads}')
  WHERE created_at < TIMESTAMPTZ '{cutoff.isoformat()}'
), per_lead AS (
  SELECT a.lead_id,
         count(*) FILTER (WHERE a.kind IN ({kinds})
                          AND (s.closed_at IS NULL OR a.at < s.closed_at)) AS attempts,
         bool_or(a.outcome IN ('connected', 'replied')
                 AND (s.closed_at IS NULL OR a.at <= s.closed_at)) AS contact
  FROM read_parquet('{acts}') AS a JOIN stale AS s USING (lead_id)
  GROUP BY a.lead_id
)
SELECT s.segment, coalesce(p.attempts, 0) AS attempts,
       CASE WHEN s.status = 'won' THEN 'W'
            WHEN s.status = 'lost' AND p.contact THEN 'L'
            ELSE 'C' END AS state,
       count(*) AS leads
FROM stale AS s LEFT JOIN per_lead AS p USING (lead_id)
GROUP BY ALL
"""


def measure(cases: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """One warm-up call each, then ``runs`` rounds, the cases interleaved within a round."""
    for call in cases.values():
        call()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, call in cases.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return times


def child(mode: str, folder: Path, workspace: Path | None) -> int:
    """One analysis in a fresh process; prints its seconds and peak RSS as JSON.

    ``connect``: what ``leadsla attempts DIR`` does (read and validate, then analyse);
    ``prepared``: open an imported workspace file and analyse its tables.
    """
    import ibis
    import kneed  # noqa: F401

    from leadsla.analysis.attempts import attempt_analysis
    from leadsla.io.source import connect
    from leadsla.settings import Settings

    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    as_of = datetime.fromisoformat(truth["as_of"])
    base = peak_rss_mib()
    started = time.perf_counter()
    opts: dict[str, Any] = {"as_of": as_of, "cost_per_attempt": truth["cost_per_attempt"], "B": B}
    connected = base
    if mode == "connect":
        with connect(folder, settings=Settings(as_of=as_of, time_zone=truth["time_zone"])) as ws:
            connected = peak_rss_mib()
            attempt_analysis(ws.leads, ws.activities, **opts)
    else:
        assert workspace is not None
        con = ibis.duckdb.connect(str(workspace), read_only=True)
        try:
            attempt_analysis(con.table("leads"), con.table("activities"), **opts)
        finally:
            con.disconnect()
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mib": peak_rss_mib(),
                "after_imports": base,
                "after_connect": connected,
            }
        )
    )
    return 0


def run_child(
    mode: str, folder: Path, workspace: Path | None = None, memory_limit: str | None = None
) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", mode, "--data", str(folder)]
    if workspace is not None:
        cmd += ["--workspace", str(workspace)]
    env = dict(os.environ)
    if memory_limit:
        env["LEADSLA_MEMORY_LIMIT"] = memory_limit
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="synthetic leads")
    parser.add_argument("--data", type=Path, help="folder for the synthetic CRM (kept)")
    parser.add_argument("--runs", type=int, default=3, help="timed rounds after a warm-up")
    parser.add_argument(
        "--bare-only",
        action="store_true",
        help="only the hand query and the analysis on bare Parquet tables (no connect, no "
        "workspace): for sizes whose staging would not fit in memory",
    )
    parser.add_argument("--child", choices=["connect", "prepared"], help=argparse.SUPPRESS)
    parser.add_argument("--workspace", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.data, args.workspace)

    import duckdb
    import ibis
    import kneed  # noqa: F401  (the one-off import of kneed/scipy.signal is not timed)

    from leadsla.analysis.attempts import attempt_analysis, count_attempts
    from leadsla.io.source import connect
    from leadsla.settings import Settings

    with tempfile.TemporaryDirectory(prefix="bench-attempts-") as tmp:
        folder = args.data or Path(tmp) / "crm"
        truth = ensure_data(folder, args.leads)
        as_of = datetime.fromisoformat(truth["as_of"])
        cutoff = as_of - timedelta(days=STALE_AFTER_DAYS)
        cost = float(truth["cost_per_attempt"])
        settings = Settings(as_of=as_of, time_zone=truth["time_zone"])
        acts_file = (folder / "activities.parquet").as_posix()
        with duckdb.connect() as probe:
            n_acts = probe.execute(f"SELECT count(*) FROM read_parquet('{acts_file}')").fetchall()
        print(f"data: {args.leads:,} leads, {n_acts[0][0]:,} activities; B = {B:,}")

        def analysis(leads: Any, acts: Any) -> Callable[[], Any]:
            return lambda: attempt_analysis(
                leads,
                acts,
                as_of=as_of,
                cost_per_attempt=cost,
                B=B,
                stale_after_days=STALE_AFTER_DAYS,
            )

        def counting(leads: Any, acts: Any) -> Callable[[], object]:
            return count_attempts(leads, acts, as_of=as_of).execute

        hand = duckdb.connect()
        sql = hand_sql(folder, cutoff)
        bare = ibis.duckdb.connect()
        leads_t = bare.read_parquet(folder / "leads.parquet", table_name="leads")
        acts_t = bare.read_parquet(folder / "activities.parquet", table_name="activities")
        cases: dict[str, Callable[[], Any]] = {
            HAND: lambda: hand.sql(sql).fetchall(),
            "analysis, bare Parquet tables": analysis(leads_t, acts_t),
            "  its engine query alone, bare": counting(leads_t, acts_t),
        }
        ws = None
        if not args.bare_only:
            started = time.perf_counter()
            ws = connect(folder, settings=settings)
            took = time.perf_counter() - started
            print(f"connect (read and validate the Parquet files): {took:.1f} s")
            cases["analysis, Parquet views (connect)"] = analysis(ws.leads, ws.activities)
            cases["  its engine query alone, views"] = counting(ws.leads, ws.activities)
        try:
            times = measure(cases, args.runs)
            res = cases["analysis, bare Parquet tables"]()
        finally:
            if ws is not None:
                ws.close()
            bare.disconnect()
            hand.close()
        report_times(times)
        if args.bare_only:
            print(f"peak RSS of this process (no staging): {peak_rss_mib():,.0f} MiB")
        else:
            prepared_and_memory(folder, Path(tmp), settings, analysis, counting, args.runs)
        print()
        for name, g in res.groups.items():
            a = g.analysis
            print(
                f"  {name:<12} N* {a.optimal_attempts_text:<48} interval "
                f"{a.optimal_attempts_ci}  knee {a.knee}  (truth N* "
                f"{truth['segments'][name]['optimal_attempts']})"
            )
    return 0


HAND = "hand query (DuckDB SQL on Parquet)"


def report_times(times: dict[str, list[float]]) -> None:
    """Best and median per case; ratios to the hand query: of the bests, and the median over
    rounds of (case ÷ hand query of the same round), which a busy machine disturbs least."""
    hand_times = times[HAND]
    print()
    print(f"{'':<38} {'best':>11} {'median':>13}   ratio: of bests, paired median")
    for name, ts in times.items():
        paired = statistics.median(t / h for t, h in zip(ts, hand_times, strict=True))
        print(
            f"{name:<38} {min(ts):9.2f} s {statistics.median(ts):11.2f} s"
            f"   {min(ts) / min(hand_times):4.2f}×  {paired:4.2f}×"
        )


def prepared_and_memory(
    folder: Path,
    tmp: Path,
    settings: Any,
    analysis: Callable[[Any, Any], Callable[[], Any]],
    counting: Callable[[Any, Any], Callable[[], object]],
    runs: int,
) -> None:
    """The prepared DuckDB workspace, then peak RSS in fresh processes."""
    from leadsla.io.source import connect

    ws_file = tmp / "ws.duckdb"
    started = time.perf_counter()
    prepared = connect(folder, settings=settings, workspace=ws_file)
    imported = time.perf_counter() - started
    try:
        first = time.perf_counter()
        analysis(prepared.leads, prepared.activities)()
        first = time.perf_counter() - first
        prep = measure(
            {
                "prepared": analysis(prepared.leads, prepared.activities),
                "query": counting(prepared.leads, prepared.activities),
            },
            runs,
        )
    finally:
        prepared.close()
    p, q = prep["prepared"], prep["query"]
    print(
        f"{'prepared DuckDB workspace (ws.duckdb)':<38} {min(p):9.2f} s "
        f"{statistics.median(p):11.2f} s   (import {imported:.1f} s, first analysis {first:.2f} s)"
    )
    print(f"{'  its engine query alone':<38} {min(q):9.2f} s {statistics.median(q):11.2f} s")
    full = run_child("connect", folder)
    capped = run_child("connect", folder, memory_limit=MEMORY_LIMIT)
    ready = run_child("prepared", folder, ws_file)
    print(
        f"peak RSS, fresh process, connect(DIR) + analysis: {full['peak_mib']:,.0f} MiB "
        f"({full['seconds']:.1f} s; {full['after_imports']:,.0f} MiB after the imports, "
        f"{full['after_connect']:,.0f} MiB after connect)"
    )
    print(
        f"peak RSS, the same with LEADSLA_MEMORY_LIMIT={MEMORY_LIMIT}: "
        f"{capped['peak_mib']:,.0f} MiB ({capped['seconds']:.1f} s)"
    )
    print(
        f"peak RSS, fresh process, prepared workspace + analysis: "
        f"{ready['peak_mib']:,.0f} MiB ({ready['seconds']:.1f} s)"
    )
    print(f"peak RSS of this process (all of the above in memory): {peak_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    raise SystemExit(main())
