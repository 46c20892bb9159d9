"""Benchmark ``check``: SLA compliance on 1,000,000 leads / ~8-10M activities (synthetic Parquet).

uv run python benchmarks/bench_check.py                      # 1M leads in a temp folder
uv run python benchmarks/bench_check.py --data crm/          # an existing source
uv run python benchmarks/bench_check.py --leads 1300000      # ~10M activities

Prints the wall time of ``connect`` (reading and validating the source, not part of the
check) and of ``check_compliance`` (targets: <= 10 s, peak RSS <= 2 GB), the JSON conversion,
and the peak resident memory of this process. The synthetic data are generated in a child
process so that the generator's memory does not count.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from leadsla.io.source import connect
from leadsla.render.output import to_json
from leadsla.settings import Settings
from leadsla.sla.compliance import check_compliance
from leadsla.sla.policy import SCHEMA, Policy

AS_OF = "2026-06-30T18:00:00+02:00"  # the synthetic CRM's default as-of
POLICY = Policy.from_dict(
    {
        "schema": SCHEMA,
        "name": "Benchmark SLA",
        "calendar": {
            "time_zone": "Europe/Berlin",
            "hours": "Mon-Fri 09:00-18:00",
            "holiday_country": "DE",
        },
        "sales": {
            "first_response_hours": 4,
            "attempt_kinds": ["call", "email"],
            "attempts": {
                "count": 6,
                "within_days": 14,
                "segments": {
                    "enterprise": {"count": 10, "within_days": 10, "day_kind": "business"}
                },
            },
        },
        "marketing": {
            "period": "month",
            "mqls": 40_000,
            "mql_value_eur": 1600,
            "segments": {"smb": {"mqls": 18_000}},
        },
    }
)


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def generate(out: Path, leads: int, seed: int) -> None:
    code = (
        "import sys; from leadsla.synth import generate; "
        "r = generate(sys.argv[1], leads=int(sys.argv[2]), seed=int(sys.argv[3])); "
        "print(f\"  generated {r.rows['leads']:,} leads, {r.rows['activities']:,} activities\")"
    )
    subprocess.run([sys.executable, "-c", code, str(out), str(leads), str(seed)], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="synthetic leads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=None, help="use this source instead")
    parser.add_argument("--as-of", default=AS_OF, help="as-of instant (ISO 8601)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of check_compliance")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="leadsla-bench-check-") as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "crm"
            t0 = time.perf_counter()
            generate(data, args.leads, args.seed)
            print(f"  generation: {time.perf_counter() - t0:.1f} s (child process)")
        settings = Settings(time_zone="Europe/Berlin", as_of=datetime.fromisoformat(args.as_of))
        t0 = time.perf_counter()
        with connect(data, settings=settings) as ws:
            t_connect = time.perf_counter() - t0
            print(f"connect (read + validate): {t_connect:.1f} s, peak {peak_rss_mb():,.0f} MiB")
            n_leads = int(ws.leads.count().execute())
            n_acts = int(ws.activities.count().execute()) if ws.activities is not None else 0
            print(f"source: {n_leads:,} leads, {n_acts:,} activities")
            times = []
            result = None
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                result = check_compliance(ws.leads, ws.activities, policy=POLICY, as_of=ws.as_of)
                times.append(time.perf_counter() - t0)
                print(f"check_compliance: {times[-1]:.2f} s, peak {peak_rss_mb():,.0f} MiB")
        assert result is not None
        t0 = time.perf_counter()
        text = to_json(result.to_dict())
        t_json = time.perf_counter() - t0
        s = result.status
        print(
            f"result: {result.leads:,} leads: {s.met:,} met, {s.breached:,} breached, "
            f"{s.pending:,} pending; {len(result.breaches):,} breaches"
        )
        print(f"JSON with every breach: {t_json:.2f} s, {len(text) / 1e6:,.0f} MB")
        best = min(times)
        peak = peak_rss_mb()
        print(
            f"check_compliance best {best:.2f} s (target <= 10 s: "
            f"{'ok' if best <= 10 else 'MISSED'}), peak RSS {peak:,.0f} MiB (target <= 2048: "
            f"{'ok' if peak <= 2048 else 'MISSED'})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
