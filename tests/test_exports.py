"""Exports as users really have them: the corpus of tests/exports/.

Each folder is a small export (CSV in several locales, spreadsheets, a re-saved HubSpot
sample) with ``expected.toml``: the canonical rows it must give, or the errors it must stop
with (file, row, column, value, fix). A number read the wrong way fails its case: every
expected value is compared, and every error the run reports must be expected.
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import leadsla
from leadsla.cli import app

EXPORTS = Path(__file__).resolve().parent / "exports"
CASES = sorted(p.name for p in EXPORTS.iterdir() if (p / "expected.toml").is_file())


def expected(case: str) -> dict[str, Any]:
    return tomllib.loads((EXPORTS / case / "expected.toml").read_text(encoding="utf-8"))


def mapping_of(case: str, exp: dict[str, Any]) -> str | None:
    m = exp.get("mapping")
    if m is None:
        return None
    path = EXPORTS / case / m
    return str(path) if path.is_file() else m


def source_of(case: str, exp: dict[str, Any]) -> Path:
    return EXPORTS / case / exp.get("source", "")


def test_the_corpus_covers_every_kind_of_export() -> None:
    assert len(CASES) >= 20
    suffixes = {p.suffix for c in CASES for p in (EXPORTS / c).iterdir()}
    assert {".csv", ".xlsx", ".ods"} <= suffixes
    codes = {i["code"] for c in CASES for i in expected(c).get("issues", [])}
    assert {
        "ambiguous-number",
        "number-style",
        "ambiguous-date",
        "date-order",
        "duplicate-header",
        "header-below-title",
        "empty-columns",
        "unknown-status",
    } <= codes


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float):
        return isinstance(got, int | float) and math.isclose(got, want, rel_tol=1e-12)
    return bool(got == want)


@pytest.mark.parametrize("case", CASES)
def test_export(case: str) -> None:
    exp = expected(case)
    source = source_of(case, exp)
    mapping = mapping_of(case, exp)
    with leadsla.connect(source, mapping=mapping, strict=False) as ws:
        issues = list(ws.issues)
        # every error is expected, and each expected issue is reported once, where expected
        assert sorted(i.code for i in issues if i.severity == "ERROR") == sorted(
            i["code"] for i in exp.get("issues", []) if i["severity"] == "ERROR"
        ), [str(i) for i in issues]
        for want in exp.get("issues", []):
            hits = [
                i
                for i in issues
                if i.code == want["code"]
                and i.file == want["file"]
                and i.row == want.get("row")
                and i.column == want.get("column")
                and all(m in str(i) for m in want["message"])
            ]
            assert len(hits) == 1, (want, [str(i) for i in issues])
            assert hits[0].severity == want["severity"]
            assert all(f in hits[0].fix for f in want["fix"]), hits[0].fix
            if "rows" in want:
                assert list(hits[0].rows) == want["rows"]
            if "count" in want:
                assert hits[0].count == want["count"]
        for table, acc in exp.get("accounting", {}).items():
            assert ws.accounting[table].to_dict() == {"table": table, **acc}
        if exp["exit"] != 0:
            return
        leads = ws.leads.execute().set_index("lead_id")
    rows = exp.get("rows", [])
    summary = exp.get("summary", {})
    assert len(leads) == summary.get("leads", len(rows))
    for row in rows:
        got = leads.loc[row["lead_id"]]
        for col, want in row.items():
            if col in ("lead_id", "null"):
                continue
            value = got[col]
            if col.endswith("_at"):
                value = value.tz_convert("UTC")
                want = pd.Timestamp(want).tz_convert("UTC")
            assert _same(value, want), (row["lead_id"], col, value, want)
        for col in row.get("null", []):
            assert pd.isna(got[col]), (row["lead_id"], col, got[col])
    won = leads[leads.status == "won"]
    if "won" in summary:
        assert len(won) == summary["won"]
    if "mean_revenue" in summary:
        assert math.isclose(won.revenue.mean(), summary["mean_revenue"], rel_tol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_export_through_validate(case: str) -> None:
    """The same folder through ``leadsla validate --format json``: exit code and issues."""
    exp = expected(case)
    args = ["validate", str(source_of(case, exp)), "--format", "json"]
    if (m := mapping_of(case, exp)) is not None:
        args += ["--mapping", m]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == exp["exit"], result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is (exp["exit"] == 0)
    assert sorted(i["code"] for i in doc["issues"] if i["severity"] == "ERROR") == sorted(
        i["code"] for i in exp.get("issues", []) if i["severity"] == "ERROR"
    )


# --- leaks and revenue concentration ---------------------------------------------------------

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_a_segment_filled_only_for_won_leads_is_a_leak(tmp_path: Path) -> None:
    rows = ["lead_id,created_at,status,closed_at,revenue,segment,campaign"]
    for i in range(40):
        won = i < 8
        segment = ["retail", "pharma"][i % 2] if won else ""
        closed = "2025-03-01" if won else ""
        revenue = "1000" if won else ""
        rows.append(
            f"L{i},2025-01-{1 + i % 28:02d},{'won' if won else 'open'},{closed},{revenue},"
            f"{segment},c{i % 3}"
        )
    (tmp_path / "leads.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    with leadsla.connect(tmp_path) as ws:
        [leak] = [i for i in ws.issues if i.code == "grouping-leak"]
        assert ws.leaks == {"segment"}  # the campaign, filled for all, is no leak
    assert leak.severity == "WARNING" and leak.column == "segment"
    assert "100% of the won leads but 0.0% of the others" in leak.message
    assert "left out of the default groupings" in leak.message


def test_olist_no_longer_takes_the_won_deals_segment() -> None:
    folder = DATA / "olist_marketing_funnel"
    with leadsla.connect(folder, mapping="olist") as ws:
        segments = ws.leads.segment.value_counts().execute()
        assert "segment" not in ws.leaks
    assert segments.segment.tolist() == ["all"]
    option = {"segment_column": "deals.business_segment"}
    with leadsla.connect(folder, mapping="olist", options=option) as ws:
        assert "segment" in ws.leaks
        [leak] = [i for i in ws.issues if i.code == "grouping-leak" and i.column == "segment"]
        n_segments = ws.leads.segment.nunique().execute()
    assert n_segments > 10 and "filled for 100% of the won leads" in leak.message


def test_revenue_concentration_is_warned_whatever_the_grouping(tmp_path: Path) -> None:
    from leadsla.analysis.value import mql_value_table

    rows = ["lead_id,created_at,status,closed_at,revenue,campaign"]
    for i in range(60):
        won = i % 6 == 0
        revenue = ("50000000" if i == 0 else "1000") if won else ""
        status = "won" if won else "lost"
        rows.append(f"L{i},2024-01-{1 + i % 28:02d},{status},2024-02-15,{revenue},c{i % 2}")
    (tmp_path / "leads.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    with leadsla.connect(tmp_path) as ws:
        for by in ("", "campaign"):
            result = mql_value_table(ws.leads, by=by, as_of="2025-01-01T00:00:00Z")
            hits = [w for w in result.warnings if w.startswith("all leads: one deal is")]
            assert len(hits) == 1, (by, result.warnings)
            assert "100% of the group's revenue" in hits[0]  # 50M of 50,009,000
