"""``leadsla init``: a drafted mapping reads every shipped sample export and real data set.

Through the real command line (subprocesses, side by side): ``init --yes`` with only the
time zone answered, then ``validate`` of the same folder with no flags (leadsla.toml names the
drafted mapping). The data sets stay in place: the work folder links to their files.
Counts are the data sets' own (their READMEs, counted independently).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import leadsla

RunCli = Callable[..., subprocess.CompletedProcess[str]]
SHARED = Path(__file__).resolve().parents[2] / "shared"
EXPORTS = Path(__file__).resolve().parent / "exports"

# source, time zone answered, leads used, won leads (None: not checked), the shipped mapping
SOURCES = {
    "hubspot": (SHARED / "crm_exports" / "hubspot", "Europe/Berlin", 28, 5, "hubspot"),
    "salesforce": (
        SHARED / "crm_exports" / "salesforce",
        "America/New_York",
        30,
        3,
        "salesforce",
    ),  # fmt: skip
    "maven": (SHARED / "data" / "maven_crm_sales_opportunities", "UTC", 8800, 4238, "maven-crm"),
    "olist": (SHARED / "data" / "olist_marketing_funnel", "America/Sao_Paulo", 8000, 842, "olist"),
    "bank": (
        SHARED / "data" / "uci_bank_marketing",
        "Europe/Lisbon",
        41188,
        4640,
        "bank-marketing",
    ),  # fmt: skip
    "x-education": (SHARED / "data" / "x_education_leads", "UTC", 9240, 3561, None),
    "hubspot-resaved-eu": (EXPORTS / "hubspot-resaved-eu", "Europe/Berlin", 28, 5, "hubspot"),
    "hubspot-xlsx": (EXPORTS / "hubspot-xlsx", "Europe/Berlin", 28, 5, "hubspot"),
}


def linked(src: Path, work: Path) -> Path:
    """A work folder whose files link to the data (plus a leadsla.toml copied, if any)."""
    work.mkdir()
    for p in src.iterdir():
        if p.name == "leadsla.toml":
            (work / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
        elif p.name != "expected.toml" and p.is_file():
            (work / p.name).symlink_to(p)
    return work


@pytest.fixture(scope="module")
def inited(
    run_cli: RunCli, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, Any, Any]]:
    """Each source: its work folder, the init run and the validate run."""
    root = tmp_path_factory.mktemp("init")

    def one(name: str) -> tuple[Path, Any, Any]:
        src, tz, *_ = SOURCES[name]
        work = linked(src, root / name)
        first = run_cli("init", work, "--yes", "--time-zone", tz, "--currency", "EUR")
        second = run_cli("validate", work, "--format", "json")
        return work, first, second

    with ThreadPoolExecutor(max_workers=min(4, max(2, os.cpu_count() or 2))) as pool:
        return dict(zip(SOURCES, pool.map(one, SOURCES), strict=True))


@pytest.mark.parametrize("name", list(SOURCES))
def test_init_drafts_a_mapping_that_reads_the_source(
    name: str, inited: dict[str, tuple[Path, Any, Any]]
) -> None:
    src, tz, n_leads, n_won, shipped = SOURCES[name]
    work, first, second = inited[name]
    out = first.stdout + first.stderr
    assert first.returncode == 0, out
    assert "Traceback" not in out
    if shipped:
        assert f"the shipped mapping {shipped} fits" in out
    else:
        assert "(high:" in out and "Check:" in out  # guesses with confidence, what to check
    assert (work / "leadsla-mapping.toml").is_file()
    settings = (work / "leadsla.toml").read_text(encoding="utf-8")
    assert f'time_zone = "{tz}"' in settings and 'currency = "EUR"' in settings
    assert second.returncode == 0, second.stdout + second.stderr
    doc = json.loads(second.stdout)
    assert doc["ok"] is True
    assert not [i for i in doc["issues"] if i["severity"] == "ERROR"]
    leads = {a["table"]: a for a in doc["accounting"]}["leads"]
    if n_leads is not None:
        assert leads["used"] == n_leads
    if n_won is not None:
        with leadsla.connect(work) as ws:  # leadsla.toml names the drafted mapping
            won = int(ws.leads.filter(ws.leads.status == "won").count().execute())
        assert won == n_won


def test_init_on_the_resaved_hubspot_gives_the_true_mean_revenue(
    inited: dict[str, tuple[Path, Any, Any]],
) -> None:
    work, _, _ = inited["hubspot-resaved-eu"]
    with leadsla.connect(work) as ws:
        won = ws.leads.filter(ws.leads.status == "won").execute()
    assert won.revenue.mean() == pytest.approx(26620.0, rel=1e-12)


def test_a_mistyped_mapping_name_gets_a_did_you_mean(run_cli: RunCli) -> None:
    proc = run_cli("validate", SHARED / "crm_exports" / "hubspot", "--mapping", "hubspott")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert 'Did you mean "hubspot"?' in proc.stderr
