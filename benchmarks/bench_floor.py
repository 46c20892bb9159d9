"""How close can ``leadsla CMD`` come to a hand-written DuckDB query? Floors, measured.

Run: ``uv run python benchmarks/bench_floor.py [--commands attempts,value] [--runs 5]``.

Issue 16 asks the whole command to take at most 1.1× (warm) and 1.5× (cold) the whole process
of a hand-written DuckDB query. This benchmark measures what any implementation of the command
must pay beyond that query, by running stripped-down processes that do the *hand query itself*
plus one unavoidable part each — no validation, no Ibis, no statistics, no output unless
named — interleaved with the hand query (``bench_commands.py``'s peer) and the real command:

- ``duckdb``: the hand query (a script importing only duckdb): the reference, 1.00×;
- ``floor: CLI``: the process also loads the command-line layer every ``leadsla`` command
  loads before it reads an option (``leadsla.cli.app``: Typer and Rich, what ``leadsla
  --help`` costs) and numpy (the statistics' arrays): the least a ``leadsla`` command that
  computed nothing but the hand query's counts would take;
- ``floor: CLI + Ibis``: also loads Ibis and its DuckDB backend (the engine layer the
  architecture decided on; it loads pandas and sqlglot);
- ``floor: CLI + read every value``: ``floor: CLI`` plus one pass that decodes every column of
  every file the hand query does not read (``sum(hash(col))``; a column whose name appears in
  the hand SQL counts as read by it, which errs toward a lower floor): with the hand query's
  own reading, each value is looked at once — the least a cold run must read to validate it
  (validation does more: types, uniqueness, orphans, the row accounting);
- ``floor: CLI + Ibis + read every value``: both (the cold floor of the decided architecture);
- ``leadsla CMD, warm`` / ``cold``: the real command (cold: an empty cache folder).

The ratios are paired per round (median of ``case / duckdb`` over rounds). A floor above a
target means the target cannot be met by any ``leadsla`` built on these parts.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_commands as bc  # noqa: E402 - the sibling benchmark's data, peers and cases

FLOOR_COMMANDS = ("attempts", "value", "speed", "check")


def run_floor(cmd: str, data: Path, parts: str) -> int:
    """The hand query of ``cmd`` after loading ``parts`` (``cli``, ``ibis``, ``read``)."""
    which = set(parts.split("+"))
    if "cli" in which:
        import numpy  # noqa: F401 - the statistics' arrays

        import leadsla.cli.app  # noqa: F401 - Typer + Rich, what every command loads first
    if "ibis" in which:
        import ibis

        ibis.duckdb  # noqa: B018 - loads the backend (pandas, sqlglot's dialects)
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    queries = bc.duckdb_sql(cmd, data)
    if "read" in which:
        hand = " ".join(queries)
        for f in sorted(data.glob("*.parquet")):
            src = f"read_parquet('{f.as_posix()}')"
            cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
            rest = [c for c in cols if not re.search(rf"\b{re.escape(c)}\b", hand)]
            if rest:
                sums = ", ".join(f'sum(hash("{c}"))' for c in rest)
                con.execute(f"SELECT count(*), {sums} FROM {src}").fetchall()
    rows = 0
    for sql in queries:
        rows = len(con.execute(sql).fetchall())
    print(rows)
    return 0


def cases_for(cmd: str, data: Path, work: Path, pyc: Path) -> list[bc.Case]:
    real = {c.name: c for c in bc.cases_for(cmd, data, work, pyc)}
    env = bc.child_env(None, pyc)

    def floor(name: str, parts: str) -> bc.Case:
        args = [sys.executable, __file__, "--floor", parts, "--cmd", cmd, "--data", str(data)]
        return bc.Case(name, args, env)

    return [
        real["duckdb"],
        floor("floor: CLI", "cli"),
        floor("floor: CLI + Ibis", "cli+ibis"),
        floor("floor: CLI + read every value", "cli+read"),
        floor("floor: CLI + Ibis + read every value", "cli+ibis+read"),
        real[f"leadsla {cmd}, warm"],
        real[f"leadsla {cmd}, cold"],
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="synthetic leads")
    parser.add_argument("--runs", type=int, default=3, help="timed rounds after a warm-up")
    parser.add_argument("--commands", default=",".join(FLOOR_COMMANDS), help="comma-separated")
    parser.add_argument("--data-root", type=Path, default=Path("/tmp/leadsla-bench-data"))
    parser.add_argument("--write", type=Path, help="append the results (Markdown) to this file")
    parser.add_argument("--floor", help=argparse.SUPPRESS)
    parser.add_argument("--cmd", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor:
        return run_floor(args.cmd, args.data, args.floor)
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    if set(commands) - set(FLOOR_COMMANDS):
        parser.error(f"commands are among {', '.join(FLOOR_COMMANDS)}")
    data = bc.ensure_data(args.data_root, args.leads)
    bc.run_all(f"Floors, {args.leads:,} leads", commands, data, args.runs, cases_for, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
