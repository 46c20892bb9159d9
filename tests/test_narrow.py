"""Readable in 80 columns (issue 12): the value table of a real data set in a narrow terminal.

Through the real command line with COLUMNS=80: no line wider than the terminal, no cut cell
("7.49%–…"), warnings one line per kind; ``--top`` and ``--min-leads`` on a small export.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def run80(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leadsla", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**env, "COLUMNS": "80"},
        timeout=300,
        check=False,
    )


def test_olist_value_fits_80_columns(cli_env: dict[str, str]) -> None:
    folder = DATA / "olist_marketing_funnel"
    proc = run80("value", folder, "--mapping", "olist", env=cli_env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert not any("…" in line for line in lines)  # no cell is cut
    assert any("14.4%–35.4%" in line for line in lines)  # an interval whole on one line
    assert len(lines) < 120
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("WARNING")]
    codes = [w.split(":")[0] for w in warnings]
    assert len(warnings) <= 8, proc.stderr
    assert len(codes) == len(set(codes)) or "more like it" in proc.stderr
    loud = run80("--verbose", "value", folder, "--mapping", "olist", env=cli_env)
    assert len([x for x in loud.stderr.splitlines() if x.startswith("WARNING")]) > len(warnings)


@pytest.fixture
def many_campaigns(tmp_path: Path) -> Path:
    rows = ["lead_id,created_at,status,closed_at,revenue,campaign"]
    sizes = {"big": 40, "mid": 20, "s1": 3, "s2": 2, "s3": 1}
    i = 0
    for campaign, n in sizes.items():
        for j in range(n):
            won = j % 4 == 0
            rows.append(
                f"L{i},2024-01-{1 + i % 28:02d},{'won' if won else 'lost'},2024-02-20,"
                f"{'1000' if won else ''},{campaign}"
            )
            i += 1
    (tmp_path / "leads.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return tmp_path


def test_min_leads_folds_small_groups_into_other(
    many_campaigns: Path, cli_env: dict[str, str]
) -> None:
    args = ["value", many_campaigns, "--by", "campaign", "--as-of", "2025-01-01T00:00:00Z"]
    proc = run80(*args, "--min-leads", "10", "--format", "json", env=cli_env)
    assert proc.returncode == 0, proc.stderr
    groups = {g["campaign"]: g for g in json.loads(proc.stdout)["groups"] if g.get("campaign")}
    assert set(groups) >= {"big", "mid", "(other)"} and "s1" not in groups
    assert groups["(other)"]["leads"] == 6  # 3 + 2 + 1, estimated together
    assert groups["(other)"]["won"] == 3  # the first lead of each small campaign won


def test_top_shows_the_largest_groups(many_campaigns: Path, cli_env: dict[str, str]) -> None:
    args = ["value", many_campaigns, "--by", "campaign", "--as-of", "2025-01-01T00:00:00Z"]
    proc = run80(*args, "--top", "2", env=cli_env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "big" in out and "mid" in out and "s1" not in out and "s3" not in out
    assert "… and 3 smaller groups (--top 0 shows all)." in out
    assert max(len(x.rstrip()) for x in out.splitlines()) <= 80
