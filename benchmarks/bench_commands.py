"""Time whole ``leadsla`` commands, as a user waits for them, against hand-written peers.

Run: ``uv run python benchmarks/bench_commands.py [--leads 1000000] [--quick] [--runs 3]
[--commands attempts,value] [--write]``.

For each of ``validate``, ``value``, ``attempts``, ``speed``, ``check`` and ``report`` it runs,
each in a fresh process, interleaved (A B C A B C …, so that a busy machine slows every case
alike), after one untimed warm-up round:

- ``leadsla CMD`` **cold**: a fresh, empty cache folder (``LEADSLA_CACHE_DIR``) each run, i.e.
  the first command a user runs on these files (reading, validating, staging, analysing);
- ``leadsla CMD`` **warm**: the cache folder primed by an earlier command on the same files;
- ``duckdb``: the same counting written by hand in DuckDB SQL on the Parquet files (a small
  script importing only duckdb); for ``validate`` a plain DuckDB read of the same files (every
  file loaded into an in-memory table and counted);
- ``polars`` (lazy) and ``pandas``: the same counting, for ``attempts`` and ``value``.

Reported per case: the median wall time of the whole process, the median over rounds of the
ratio to the DuckDB peer of the same round, the median CPU time (user + system, steadier on a
shared machine) and its ratio to the peer's, and the peak resident memory (``/usr/bin/time``'s
maximum RSS). The warm-up round runs every case but the cold one (whose every run is cold).

The data: the synthetic CRM of ``leadsla.synth`` (Parquet, seed 42; 1M leads give ~7.8M
activities), generated once into ``--data-root`` (default ``/tmp/leadsla-bench-data``) and
reused. Children get ``PYTHONPYCACHEPREFIX`` and bytecode is compiled once before timing, as a
user's install has its ``.pyc`` files.

The peers count what the command's engine query counts; the commands do more on top (the
statistics, the bootstrap, the output). ``speed`` and ``check`` peers measure elapsed time,
not business time (the commands use the business calendar).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

COMMANDS = ("validate", "value", "attempts", "speed", "check", "report")
KINDS = ("call", "email")
STALE_AFTER_DAYS = 90
POLICY_TOML = """\
schema = "leadsla.policy/1"
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

[marketing]
period = "month"
mqls = 40000
mql_value_eur = 1600
"""


# --------------------------------------------------------------------------------------------
# the peers (run as children: ``--peer ENGINE --cmd CMD``; they import only their engine)


def _paths(data: Path) -> tuple[str, str]:
    return (data / "leads.parquet").as_posix(), (data / "activities.parquet").as_posix()


def _as_of(data: Path) -> datetime:
    truth = json.loads((data / "truth.json").read_text(encoding="utf-8"))
    return datetime.fromisoformat(truth["as_of"]).astimezone(UTC)


def duckdb_sql(cmd: str, data: Path) -> list[str]:
    """The hand-written DuckDB SQL of each command (several statements for some)."""
    leads, acts = _paths(data)
    as_of = _as_of(data)
    ts = f"TIMESTAMPTZ '{as_of.isoformat()}'"
    kinds = ", ".join(f"'{k}'" for k in KINDS)
    if cmd == "validate":
        out = []
        for f in sorted(data.glob("*.parquet")):
            out.append(f"CREATE TABLE {f.stem} AS SELECT * FROM read_parquet('{f.as_posix()}')")
            out.append(f"SELECT count(*) FROM {f.stem}")
        return out
    if cmd == "attempts":
        cutoff = as_of - timedelta(days=STALE_AFTER_DAYS)
        return [
            f"""
WITH stale AS (
  SELECT lead_id, segment, status, closed_at FROM read_parquet('{leads}')
  WHERE created_at < TIMESTAMPTZ '{cutoff.isoformat()}'
), per_lead AS (
  SELECT a.lead_id,
         count(*) FILTER (WHERE a.kind IN ({kinds})
                          AND (s.closed_at IS NULL OR a.at < s.closed_at)) AS attempts,
         bool_or(a.outcome IN ('connected', 'replied')
                 AND (s.closed_at IS NULL OR a.at <= s.closed_at)) AS contact
  FROM read_parquet('{acts}') AS a JOIN stale AS s USING (lead_id)
  WHERE a.at <= {ts}
  GROUP BY a.lead_id
)
SELECT s.segment, coalesce(p.attempts, 0) AS attempts,
       CASE WHEN s.status = 'won' THEN 'W' WHEN s.status = 'lost' AND p.contact THEN 'L'
            ELSE 'C' END AS state,
       count(*) AS leads
FROM stale AS s LEFT JOIN per_lead AS p USING (lead_id)
GROUP BY ALL"""
        ]
    if cmd == "value":
        return [
            f"""
WITH lag AS (
  SELECT quantile_cont(epoch(closed_at) - epoch(created_at), 0.9)
           FILTER (WHERE status IN ('won', 'lost') AND closed_at <= {ts}) AS q
  FROM read_parquet('{leads}')
), l AS (
  SELECT coalesce(campaign, '(none)') AS campaign, coalesce(segment, 'all') AS segment,
         revenue,
         created_at <= {ts} AS created,
         created_at <= {ts} - to_seconds((SELECT q FROM lag)) AS mature,
         status = 'won' AND closed_at <= {ts} AS won
  FROM read_parquet('{leads}')
), w AS (SELECT segment, revenue FROM l WHERE mature AND won AND revenue IS NOT NULL)
SELECT 0 AS level, campaign, segment, count(*) FILTER (WHERE mature) AS leads,
       count(*) FILTER (WHERE mature AND won) AS won,
       count(revenue) FILTER (WHERE mature AND won) AS rev_n,
       sum(revenue) FILTER (WHERE mature AND won) AS rev_sum,
       sum(revenue * revenue) FILTER (WHERE mature AND won) AS rev_sumsq,
       median(revenue) FILTER (WHERE mature AND won) AS rev_median
FROM l GROUP BY campaign, segment
UNION ALL
SELECT 1, NULL, segment, NULL, NULL, NULL, NULL, NULL, median(revenue) FROM w GROUP BY segment
UNION ALL
SELECT 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, median(revenue) FROM w"""
        ]
    if cmd == "speed":
        return [
            f"""
WITH first AS (
  SELECT lead_id, min("at") AS first_at FROM read_parquet('{acts}')
  WHERE kind IN ({kinds}) AND "at" <= {ts} GROUP BY lead_id
), l AS (
  SELECT l.status, l.closed_at,
         epoch(f.first_at) - epoch(greatest(l.created_at, l.mql_at)) AS secs
  FROM read_parquet('{leads}') AS l LEFT JOIN first AS f USING (lead_id)
  WHERE l.created_at <= {ts}
)
SELECT CASE WHEN secs IS NULL THEN 'never' WHEN secs < 300 THEN '<5 min'
            WHEN secs < 1800 THEN '5-30 min' WHEN secs < 3600 THEN '30-60 min'
            WHEN secs < 14400 THEN '1-4 h' WHEN secs < 86400 THEN '4-24 h'
            WHEN secs < 259200 THEN '1-3 d' ELSE '>=3 d' END AS bucket,
       count(*) AS leads,
       count(*) FILTER (WHERE status = 'won' AND closed_at <= {ts}) AS won
FROM l GROUP BY ALL"""
        ]
    if cmd == "check":
        return [
            f"""
WITH l AS (
  SELECT lead_id, segment, mql_at FROM read_parquet('{leads}') WHERE mql_at <= {ts}
), per_lead AS (
  SELECT a.lead_id,
         min(a.at) FILTER (WHERE a.at >= l.mql_at) AS first_at,
         count(*) FILTER (WHERE a.at >= l.mql_at
                          AND a.at < l.mql_at + INTERVAL 14 DAY) AS attempts
  FROM read_parquet('{acts}') AS a JOIN l USING (lead_id)
  WHERE a.kind IN ({kinds}) AND a.at <= {ts}
  GROUP BY a.lead_id
), status AS (
  SELECT l.segment, date_trunc('month', l.mql_at) AS month,
         p.first_at IS NOT NULL AND p.first_at <= l.mql_at + INTERVAL 4 HOUR AS response_met,
         coalesce(p.attempts, 0) >= 6 AS attempts_met
  FROM l LEFT JOIN per_lead AS p USING (lead_id)
)
SELECT segment, month, count(*) AS mqls, count(*) FILTER (WHERE response_met) AS response_met,
       count(*) FILTER (WHERE attempts_met) AS attempts_met
FROM status GROUP BY ALL"""
        ]
    raise ValueError(cmd)


def run_duckdb(cmd: str, data: Path) -> int:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    rows = 0
    for sql in duckdb_sql(cmd, data):
        rows = len(con.execute(sql).fetchall())
    print(json.dumps({"rows": rows}))
    return 0


def run_polars(cmd: str, data: Path) -> int:
    import polars as pl

    leads_f, acts_f = _paths(data)
    as_of = _as_of(data)
    leads = pl.scan_parquet(leads_f)
    if cmd == "attempts":
        cutoff = as_of - timedelta(days=STALE_AFTER_DAYS)
        stale = leads.filter(pl.col("created_at") < cutoff).select(
            "lead_id", "segment", "status", "closed_at"
        )
        acts = pl.scan_parquet(acts_f).filter(pl.col("at") <= as_of)
        before = pl.col("closed_at").is_null() | (pl.col("at") < pl.col("closed_at"))
        upto = pl.col("closed_at").is_null() | (pl.col("at") <= pl.col("closed_at"))
        per_lead = (
            acts.join(stale, on="lead_id")
            .group_by("lead_id")
            .agg(
                attempts=(pl.col("kind").is_in(list(KINDS)) & before).sum(),
                contact=(pl.col("outcome").is_in(["connected", "replied"]) & upto).any(),
            )
        )
        out = (
            stale.join(per_lead, on="lead_id", how="left")
            .with_columns(
                attempts=pl.col("attempts").fill_null(0),
                state=pl.when(pl.col("status") == "won")
                .then(pl.lit("W"))
                .when((pl.col("status") == "lost") & pl.col("contact").fill_null(False))
                .then(pl.lit("L"))
                .otherwise(pl.lit("C")),
            )
            .group_by("segment", "attempts", "state")
            .agg(leads=pl.len())
            .collect()
        )
    elif cmd == "value":
        closed = pl.col("status").is_in(["won", "lost"]) & (pl.col("closed_at") <= as_of)
        lag = (
            leads.filter(closed)
            .select(q=(pl.col("closed_at") - pl.col("created_at")).dt.total_seconds())
            .select(pl.col("q").quantile(0.9, interpolation="linear"))
            .collect()
            .item()
        )
        cutoff = as_of - timedelta(seconds=float(lag))
        won = (pl.col("status") == "won") & (pl.col("closed_at") <= as_of)
        mature = leads.filter(pl.col("created_at") <= cutoff).with_columns(
            won=won.fill_null(False),
            campaign=pl.col("campaign").fill_null("(none)"),
            segment=pl.col("segment").fill_null("all"),
        )
        rev = pl.when(pl.col("won")).then(pl.col("revenue"))
        out = (
            mature.group_by("campaign", "segment")
            .agg(
                leads=pl.len(),
                won=pl.col("won").sum(),
                rev_n=rev.count(),
                rev_sum=rev.sum(),
                rev_sumsq=(rev * rev).sum(),
                rev_median=rev.median(),
            )
            .collect()
        )
        seg = mature.filter(pl.col("won")).group_by("segment").agg(pl.col("revenue").median())
        out = pl.concat([out.select("segment"), seg.collect().select("segment")])
    else:
        raise ValueError(cmd)
    print(json.dumps({"rows": out.height}))
    return 0


def run_pandas(cmd: str, data: Path) -> int:
    import pandas as pd

    leads_f, acts_f = _paths(data)
    as_of = pd.Timestamp(_as_of(data))
    if cmd == "attempts":
        cutoff = as_of - pd.Timedelta(days=STALE_AFTER_DAYS)
        leads = pd.read_parquet(leads_f, columns=["lead_id", "segment", "status", "closed_at",
                                                  "created_at"])  # fmt: skip
        stale = leads[leads.created_at < cutoff].drop(columns="created_at")
        acts = pd.read_parquet(acts_f, columns=["lead_id", "at", "kind", "outcome"])
        acts = acts[acts["at"] <= as_of].merge(stale, on="lead_id")
        open_ = acts.closed_at.isna()
        acts["attempt"] = acts.kind.isin(KINDS) & (open_ | (acts["at"] < acts.closed_at))
        acts["contact"] = acts.outcome.isin(["connected", "replied"]) & (
            open_ | (acts["at"] <= acts.closed_at)
        )
        per_lead = acts.groupby("lead_id").agg(attempts=("attempt", "sum"),
                                               contact=("contact", "any"))  # fmt: skip
        s = stale.merge(per_lead, on="lead_id", how="left")
        s["attempts"] = s.attempts.fillna(0).astype(int)
        contact = s.contact.astype("boolean").fillna(False).astype(bool)
        s["state"] = "C"
        s.loc[(s.status == "lost") & contact, "state"] = "L"
        s.loc[s.status == "won", "state"] = "W"
        out = s.groupby(["segment", "attempts", "state"]).size()
    elif cmd == "value":
        leads = pd.read_parquet(leads_f)
        closed = leads.status.isin(["won", "lost"]) & (leads.closed_at <= as_of)
        lag = (leads.closed_at - leads.created_at)[closed].dt.total_seconds().quantile(0.9)
        mature = leads[leads.created_at <= as_of - pd.Timedelta(seconds=lag)].copy()
        mature["won"] = (mature.status == "won") & (mature.closed_at <= as_of)
        mature["campaign"] = mature.campaign.fillna("(none)")
        mature["segment"] = mature.segment.fillna("all")
        mature["rev"] = mature.revenue.where(mature.won)
        mature["rev2"] = mature.rev**2
        g = mature.groupby(["campaign", "segment"])
        out = g.agg(leads=("won", "size"), won=("won", "sum"), rev_n=("rev", "count"),
                    rev_sum=("rev", "sum"), rev_sumsq=("rev2", "sum"),
                    rev_median=("rev", "median"))  # fmt: skip
        mature[mature.won].groupby("segment").revenue.median()
    else:
        raise ValueError(cmd)
    print(json.dumps({"rows": len(out)}))
    return 0


PEERS = {"duckdb": run_duckdb, "polars": run_polars, "pandas": run_pandas}
PEERS_OF = {
    "validate": ("duckdb",),
    "value": ("duckdb", "polars", "pandas"),
    "attempts": ("duckdb", "polars", "pandas"),
    "speed": ("duckdb",),
    "check": ("duckdb",),
    "report": (),
}


# --------------------------------------------------------------------------------------------
# the parent: data, cases, interleaved runs, the table


def ensure_data(root: Path, leads: int) -> Path:
    folder = root / f"crm{leads}"
    truth = folder / "truth.json"
    if truth.is_file() and json.loads(truth.read_text(encoding="utf-8")).get("leads") == leads:
        return folder
    started = time.perf_counter()
    code = (
        "import sys; from leadsla.synth import generate; "
        "generate(sys.argv[1], leads=int(sys.argv[2]), seed=42)"
    )
    subprocess.run([sys.executable, "-c", code, str(folder), str(leads)], check=True)
    print(f"generated {leads:,} leads in {time.perf_counter() - started:.0f} s into {folder}")
    return folder


def leadsla_args(cmd: str, data: Path, work: Path) -> list[str]:
    as_of = _as_of(data).isoformat()
    exe = str(Path(sys.executable).with_name("leadsla"))
    if cmd == "check":
        return [exe, "check", str(data), "--policy", str(work / "sla.toml"), "--as-of", as_of,
                "-f", "json", "-o", str(work / "check.json")]  # fmt: skip
    if cmd == "report":
        return [exe, "report", str(data), "--as-of", as_of, "--no-png",
                "-o", str(work / "report.html")]  # fmt: skip
    return [exe, cmd, str(data), "--as-of", as_of, "-f", "json", "-o", str(work / f"{cmd}.json")]


class Case:
    def __init__(self, name: str, args: list[str], env: dict[str, str], cold: Path | None = None):
        self.name, self.args, self.env, self.cold = name, args, env, cold
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.rss: list[float] = []

    def run(self, work: Path, *, record: bool = True) -> None:
        if self.cold is not None:  # a fresh, empty cache folder
            shutil.rmtree(self.cold, ignore_errors=True)
            self.cold.mkdir(parents=True)
        stats = work / "time.txt"
        cmd = ["/usr/bin/time", "-o", str(stats), "-f", "%U %S %M", *self.args]
        started = time.perf_counter()
        done = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode not in (0, 3):  # 3: check's breaches with --fail-on-breach
            raise SystemExit(f"{self.name} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        user, system, rss_kb = stats.read_text().split()[-3:]
        if record:
            self.wall.append(wall)
            self.cpu.append(float(user) + float(system))
            self.rss.append(int(rss_kb) / 1024)


def child_env(cache: Path | None, pyc: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pyc)
    if cache is not None:
        env["LEADSLA_CACHE_DIR"] = str(cache)
    return env


def cases_for(cmd: str, data: Path, work: Path, pyc: Path) -> list[Case]:
    args = leadsla_args(cmd, data, work)
    cold_dir = work / f"cache-cold-{cmd}"
    warm_dir = work / "cache-warm"
    cases = [
        Case(f"leadsla {cmd}, cold", args, child_env(cold_dir, pyc), cold=cold_dir),
        Case(f"leadsla {cmd}, warm", args, child_env(warm_dir, pyc)),
    ]
    for peer in PEERS_OF[cmd]:
        peer_args = [sys.executable, __file__, "--peer", peer, "--cmd", cmd, "--data", str(data)]
        cases.append(Case(peer, peer_args, child_env(None, pyc)))
    return cases


def machine() -> str:
    mem = "?"
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import duckdb

    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem} RAM, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, {platform.system()} {platform.release()}"
    )


def load_note() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load ?"
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f}"


def table(cmd: str, cases: list[Case]) -> str:
    peers = [c for c in cases if c.name == "duckdb"]
    base = peers[0].wall if peers else None
    lines = [
        f"| `{cmd}` | median wall | wall ratio to duckdb (paired median) | median CPU "
        "(user + sys) | CPU ratio | peak RSS |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    base_cpu = statistics.median(peers[0].cpu) if peers else None
    for c in cases:
        ratio = (
            f"{statistics.median(t / b for t, b in zip(c.wall, base, strict=True)):.2f}×"
            if base
            else "–"
        )
        cpu = statistics.median(c.cpu)
        cpu_ratio = f"{cpu / base_cpu:.2f}×" if base_cpu else "–"
        lines.append(
            f"| {c.name} | {statistics.median(c.wall):.2f} s | {ratio} | "
            f"{cpu:.2f} s | {cpu_ratio} | {max(c.rss):,.0f} MiB |"
        )
    return "\n".join(lines)


def compile_bytecode(pyc: Path) -> None:
    """Compile leadsla and its dependencies once, as an installed package has its .pyc."""
    import sysconfig

    env = child_env(None, pyc)
    dirs = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    src = Path(__file__).resolve().parents[1] / "src"
    dirs |= {str(src)} if src.is_dir() else set()
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", *sorted(dirs)],
                   env=env, check=False, capture_output=True)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="synthetic leads")
    parser.add_argument("--quick", action="store_true", help="100k leads, 3 runs (iterating)")
    parser.add_argument("--runs", type=int, default=3, help="timed rounds after a warm-up")
    parser.add_argument("--commands", default=",".join(COMMANDS), help="comma-separated")
    parser.add_argument("--data-root", type=Path, default=Path("/tmp/leadsla-bench-data"))
    parser.add_argument("--write", type=Path, help="append the results (Markdown) to this file")
    parser.add_argument("--peer", choices=sorted(PEERS), help=argparse.SUPPRESS)
    parser.add_argument("--cmd", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peer:
        return PEERS[args.peer](args.cmd, args.data)
    leads = 100_000 if args.quick else args.leads
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    unknown = set(commands) - set(COMMANDS)
    if unknown:
        parser.error(f"unknown command(s) {', '.join(sorted(unknown))}")
    data = ensure_data(args.data_root, leads)
    run_all(f"{leads:,} leads", commands, data, args.runs, cases_for, args.write)
    return 0


CasesFor = Callable[[str, Path, Path, Path], list[Case]]


def run_all(
    title: str, commands: list[str], data: Path, runs: int, make: CasesFor, write: Path | None
) -> None:
    """Each command's cases (``make(cmd, data, work, pycache)``): a warm-up round, then
    ``runs`` interleaved rounds; the tables printed and appended to ``write``."""
    pyc = data.parent / "pycache"
    compile_bytecode(pyc)
    out = [
        f"### {title}, {runs} interleaved runs ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {machine()}; at the start {load_note()}.",
        "",
    ]
    print("\n".join(out), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as tmp:
        work = Path(tmp)
        (work / "sla.toml").write_text(POLICY_TOML, encoding="utf-8")
        for cmd in commands:
            cases = make(cmd, data, work, pyc)
            for c in cases:  # the warm-up round: OS file cache, the warm cache (built here)
                if c.cold is None:
                    c.run(work, record=False)
            for _ in range(runs):
                for c in cases:
                    c.run(work)
            out += [table(cmd, cases), ""]
            print("\n".join(out[-2:]), flush=True)
    out.append(f"At the end: {load_note()}.")
    print(out[-1])
    if write:
        with write.open("a", encoding="utf-8") as f:
            f.write("\n" + "\n".join(out) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
