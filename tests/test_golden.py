"""Golden outputs: the ``--format json`` of every analysis command, on a small synthetic CRM and
on the real data sets, compared byte for byte with ``tests/golden/*.json``.

They hold the behaviour still while the code moves: a refactoring that changes a number fails
here. Numbers are compared to 10 significant digits: the last bits of a float differ between
CPUs (numpy's SIMD kernels for exp, log and sums differ with AVX-512 and without, so a fit's
last digit moved between the CI machine and another), and no statistic here means anything
in its 11th digit; every count and every text is compared exactly. A change meant to alter
the output regenerates them (``LEADSLA_UPDATE_GOLDEN=1 pytest
tests/test_golden.py``) and says which fields changed and why in its commit message.

Every run passes an explicit ``--as-of`` so the wall clock cannot leak in; paths of the
temporary folder are written as ``<tmp>``. The commands run in-process (Typer's runner), in a
fixed order: ``check`` reads the policy ``agree`` wrote. X Education has no shipped mapping
(no dates), so it has no golden.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import DATA
from leadsla.cli import app

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("LEADSLA_UPDATE_GOLDEN") == "1"

DEMO_SETTINGS = """\
currency = "EUR"
time_zone = "Europe/Berlin"
hourly_cost_eur = 60
attempts_per_hour = 6
quota_eur = 400000
quota_period = "month"

[business_hours]
time_zone = "Europe/Berlin"
hours = "Mon-Fri 09:00-18:00"
holiday_country = "DE"
"""

# data set: (source, extra args (mapping), as-of, commands)
ALL = ("validate", "value", "plan", "attempts", "speed", "agree", "check")
SETS: dict[str, tuple[str, list[str], str, tuple[str, ...]]] = {
    "demo": (
        "<demo>",
        [],
        "2026-06-30T16:00:00+00:00",
        (*ALL, "attribution", "sql-value", "sql-attempts"),
    ),
    "olist": (
        "olist_marketing_funnel",
        ["-m", "olist"],
        "2018-11-14T20:04:19+00:00",
        ("validate", "value", "plan", "agree", "check"),
    ),
    "bank": (
        "uci_bank_marketing/bank-additional-full.csv",
        ["-m", "bank-marketing"],
        "2010-11-30T00:00:00+00:00",
        ("validate", "value", "attempts", "agree"),
    ),
    "maven": (
        "maven_crm_sales_opportunities",
        ["-m", "maven-crm"],
        "2017-12-31T00:00:00+00:00",
        ("validate", "value", "plan", "attempts", "agree", "check"),
    ),
}
CASES = [(s, c) for s, (_, _, _, cmds) in SETS.items() for c in cmds]


def args_of(command: str, source: str, extra: list[str], as_of: str, out: Path) -> list[str]:
    """The command line of one golden case."""
    common = [source, *extra, "--as-of", as_of]
    return {
        "validate": ["validate", *common, "-f", "json"],
        "value": ["value", *common, "--draws", "2000", "-f", "json"],
        "plan": ["plan", *common, "--quota", "250000", "--originated-share", "0.4", "-f", "json"],
        "attempts": ["attempts", *common, "--value", "1000", "--bootstrap", "40", "-f", "json"],
        "speed": ["speed", *common, "-f", "json"],
        "agree": [
            "agree",
            *common,
            "--quota",
            "250000",
            "--bootstrap",
            "40",
            "-o",
            str(out / "sla"),
            "-f",
            "json",
        ],
        "check": ["check", *common, "--policy", str(out / "sla" / "sla.toml"), "-f", "json"],
        "attribution": ["attribution", *common, "-f", "json"],
        "sql-value": ["sql", "value", *common],
        "sql-attempts": ["sql", "attempts", *common],
    }[command]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 4,000-lead synthetic CRM (fixed seed and as-of) with the demo's settings."""
    from leadsla import synth

    root = tmp_path_factory.mktemp("golden")
    synth.generate(root / "demo" / "crm", leads=4_000, seed=3, as_of="2026-06-30T18:00:00+02:00")
    (root / "demo" / "crm" / "leadsla.toml").write_text(DEMO_SETTINGS, encoding="utf-8")
    yield root


def normalise(text: str, root: Path) -> str:
    """Temporary paths as ``<tmp>``, the data sets' folder as ``<data>``."""
    return text.replace(str(root), "<tmp>").replace(str(DATA), "<data>")


SIGNIFICANT = 10


def rounded(data: Any) -> Any:
    """Every float of a JSON document to :data:`SIGNIFICANT` digits (integers and text as
    they are)."""
    if isinstance(data, float):
        return float(f"{data:.{SIGNIFICANT}g}")
    if isinstance(data, dict):
        return {k: rounded(v) for k, v in data.items()}
    if isinstance(data, list):
        return [rounded(v) for v in data]
    return data


def digest(data: dict[str, Any]) -> dict[str, Any]:
    """A long breach list as its first 20 rows, its length and the SHA-256 of all of it."""
    rows = data.get("breaches")
    if isinstance(rows, list) and len(rows) > 20:
        blob = json.dumps(rows, ensure_ascii=False).encode()
        data["breaches"] = {
            "first": rows[:20],
            "count": len(rows),
            "sha256": hashlib.sha256(blob).hexdigest(),
        }
    return data


@pytest.mark.parametrize(("data_set", "command"), CASES, ids=[f"{s}-{c}" for s, c in CASES])
def test_golden(data_set: str, command: str, workdir: Path) -> None:
    source, extra, as_of, _ = SETS[data_set]
    out = workdir / data_set
    out.mkdir(exist_ok=True)
    path = str(out / "crm") if source == "<demo>" else str(DATA / source)
    if command == "check" and not (out / "sla" / "sla.toml").exists():
        test_golden(data_set, "agree", workdir)  # run alone: agree writes the policy first
    r = CliRunner().invoke(app, args_of(command, path, extra, as_of, out))
    assert r.exit_code == 0, r.output
    text = normalise(r.stdout, workdir)
    if command.startswith("sql-"):
        name, got = f"{data_set}-{command}.sql", text
    else:
        name, got = (
            f"{data_set}-{command}.json",
            json.dumps(digest(rounded(json.loads(text))), indent=2, ensure_ascii=False) + "\n",
        )
    golden = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"no golden {golden.name}: run with LEADSLA_UPDATE_GOLDEN=1"
    assert got == golden.read_text(encoding="utf-8"), f"{name} differs from its golden"
