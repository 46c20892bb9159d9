"""The SLA planner on the data (METHODS §2): the guide's 100 MQLs, measured inputs, segments,
funnel, lag spread, attribution from touches."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from leadsla.analysis.attribution import attribute
from leadsla.analysis.plan import PERIOD_DAYS, SlaPlan, marketing_attribution, plan_sla
from leadsla.analysis.planstats import lagged_requirements, risk_buffer
from leadsla.analysis.value import mql_value_table
from leadsla.cli import app
from leadsla.errors import ConfigError
from leadsla.io.source import connect
from leadsla.render.charts import figure

runner = CliRunner()

#: METHODS §1's won revenues (k€): mean 160,000 €; 5 from marketing (330k), 3 from sales.
REVENUES_K = [40, 55, 60, 80, 95, 120, 230, 600]


def invoke(*args: str | Path) -> Any:
    result = runner.invoke(app, [str(a) for a in args])
    if result.exit_code != 0:
        raise AssertionError(f"exit {result.exit_code}: {result.output}\n{result.exception!r}")
    return result


def json_of(*args: str | Path) -> dict[str, Any]:
    return json.loads(invoke(*args, "--format", "json").stdout)


@pytest.fixture
def guide_crm(tmp_path: Path) -> Path:
    """1,200 mature leads, 12 won (8 with revenue, mean 160,000 €), two segments."""
    rng = np.random.default_rng(3)
    n = 1_200
    start = datetime(2024, 1, 1, tzinfo=UTC)
    created = [start + timedelta(seconds=int(x)) for x in rng.uniform(0, 180 * 86_400, n)]
    status = ["won"] * 12 + ["lost"] * 588 + ["open"] * 600
    lag_s = np.where(np.arange(n) < 12, rng.uniform(20, 70, n), rng.uniform(1, 60, n)) * 86_400
    closed = [c + timedelta(seconds=int(x)) if s != "open" else None
              for c, s, x in zip(created, status, lag_s, strict=True)]  # fmt: skip
    df = pd.DataFrame({
        "lead_id": [f"L{i:04d}" for i in range(n)],
        "created_at": created,
        "segment": ["enterprise" if i % 3 else "smb" for i in range(n)],
        "campaign": ["Webinar" if i % 2 else "Demo Request" for i in range(n)],
        "source": ["marketing"] * 5 + ["sales"] * 3 + ["marketing"] * (n - 8),
        "status": status,
        "closed_at": closed,
        "revenue": [r * 1_000.0 for r in REVENUES_K] + [None] * (n - 8),
    })  # fmt: skip
    folder = tmp_path / "crm"
    folder.mkdir()
    for c in ("created_at", "closed_at"):
        df[c] = pd.to_datetime(df[c], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    df.to_csv(folder / "leads.csv", index=False)
    (folder / "leadsla.toml").write_text('as_of = "2025-06-30T00:00:00+00:00"\n', "utf-8")
    return folder


# --------------------------------------------------------------------------- no data


def test_guide_example_100_mqls_a_month() -> None:
    out = json_of("plan", "--quota", "400000", "--originated-share", "0.4",
                  "--mql-value", "1600")  # fmt: skip
    assert out["mqls_required"] == 100
    assert out["period"] == "month"
    assert out["revenue_responsibility"] == pytest.approx(160_000)
    assert out["mql_value"] == pytest.approx(1_600)
    assert out["by_segment"] == []
    assert out["euro_promise"]["mql_value_to_deliver"] == pytest.approx(160_000)
    assert out["inputs"]["mql_value"]["basis"] == "given"
    text = " ".join(invoke("plan", "--quota", "400000", "--originated-share", "0.4",
                           "--mql-value", "1600").stdout.split())  # fmt: skip
    assert "100 MQLs a month" in text


def test_python_api_guide_example() -> None:
    plan = plan_sla(quota=400_000, originated_share=0.4, mql_value=1_600)
    assert isinstance(plan, SlaPlan) and plan.mqls_required == 100
    frame = plan.to_frame()
    assert list(frame["mqls_required"]) == [100]
    fig = figure(plan)
    assert list(fig.data[0].x) == [400_000, 160_000, 100]


def test_quarter_segments_influenced_funnel() -> None:
    q = json_of("plan", "--quota", "1200000", "--period", "quarter", "--originated-share",
                "0.4", "--mql-value", "1600")  # fmt: skip
    assert (q["mqls_required"], q["period"]) == (300, "quarter")
    seg = json_of("plan", "--segment-quota", "enterprise=250000", "--segment-quota",
                  "smb=150000", "--originated-share", "0.4", "--mql-value", "1600",
                  "--influenced-share", "0.3")  # fmt: skip
    parts = {p["segment"]: p for p in seg["by_segment"]}
    assert (parts["enterprise"]["mqls_required"], parts["smb"]["mqls_required"]) == (63, 38)
    assert seg["mqls_required"] == 101  # each segment rounds up
    assert seg["revenue_responsibility"] == pytest.approx(160_000)
    # influenced is its own commitment, never added to the originated responsibility
    assert seg["influenced_commitment"]["share"] == pytest.approx(0.3)
    assert any(
        "influenced share 30% is below the originated share 40%" in w for w in seg["warnings"]
    )
    funnel = json_of("plan", "--quota", "400000", "--originated-share", "0.4",
                     "--mean-revenue", "160000", "--stage-rate", "0.25", "--stage-rate", "0.4",
                     "--stage-rate", "0.1", "--close-rate", "0.01")  # fmt: skip
    assert funnel["mqls_required"] == 100
    assert funnel["funnel"]["mql_value"] == pytest.approx(1_600)
    assert funnel["pipeline_needed"] == pytest.approx(160_000 / 0.1)
    assert funnel["risk_buffer_mqls"] == risk_buffer(0.01, 1) == 161


def test_plan_errors_are_user_errors() -> None:
    r = runner.invoke(app, ["plan", "--originated-share", "0.4", "--mql-value", "1600"])
    assert r.exit_code != 0 and isinstance(r.exception, ConfigError)
    assert "no quota" in str(r.exception)
    r = runner.invoke(app, ["plan", "--quota", "400000", "--originated-share", "0.4"])
    assert isinstance(r.exception, ConfigError) and "no MQL value" in str(r.exception)
    with pytest.raises(ConfigError, match="originated share"):
        plan_sla(quota=1.0, mql_value=1.0)


# --------------------------------------------------------------------------- on the data


def test_measured_mql_value_and_risk_buffer(guide_crm: Path) -> None:
    out = json_of("plan", guide_crm, "--quota", "400000", "--originated-share", "0.4")
    assert out["mql_value"] == pytest.approx(1_600)
    assert out["mqls_required"] == 100
    assert out["inputs"]["mql_value"]["basis"] == "measured (value table)"
    assert out["inputs"]["close_rate"]["value"] == pytest.approx(0.01)
    assert out["risk_buffer_mqls"] == 161  # 1 win of 160,000 €, p = 1%: 1 − 0.99^N ≥ 80%
    assert out["inputs"]["excluded"]["total"] == 0
    # lost leads carry no amount here: the win rate is by count, 12 won of 600 closed
    assert out["pipeline_needed"] == pytest.approx(160_000 / (12 / 600))
    assert out["inputs"]["win_rate_by_value"]["basis"].startswith("measured by count")
    # the euro form lists each campaign's value: Σ n_c v_c ≥ R_M
    camps = {c["campaign"] for c in out["euro_promise"]["campaign_values"]}
    assert camps <= {"Webinar", "Demo Request"} and camps


def test_plan_reuses_a_value_table(guide_crm: Path) -> None:
    with connect(guide_crm) as ws:
        fresh = plan_sla(ws.leads, quota=400_000, originated_share=0.4, as_of=ws.as_of)
        by_seg = mql_value_table(ws.leads, by="segment", as_of=ws.as_of)
        reused = plan_sla(
            ws.leads, quota=400_000, originated_share=0.4, as_of=ws.as_of, value=by_seg
        )
        with pytest.raises(ConfigError, match="grouped by segment"):
            plan_sla(ws.leads, quota=1.0, originated_share=0.4,
                     value=mql_value_table(ws.leads, by="campaign"))  # fmt: skip
    assert reused.value is by_seg
    assert reused.mqls_required == fresh.mqls_required == 100
    assert reused.plan.euro_promise["campaign_values"] == []


def test_originated_share_measured_from_source(guide_crm: Path) -> None:
    out = json_of("plan", guide_crm, "--quota", "400000")
    assert out["originated_share"] == pytest.approx(330 / 1_280)
    assert out["inputs"]["originated_share"]["basis"].startswith("measured from source")
    assert out["revenue_responsibility"] == pytest.approx(400_000 * 330 / 1_280)
    assert out["mqls_required"] == math.ceil(round(400_000 * 330 / 1_280 / 1_600, 9))


def test_segment_plans_use_segment_values(guide_crm: Path) -> None:
    out = json_of("plan", guide_crm, "--segment-quota", "enterprise=300000",
                  "--segment-quota", "smb=100000", "--originated-share", "0.4")  # fmt: skip
    with connect(guide_crm) as ws:
        leads = ws.leads.execute()
    won = leads[leads["status"] == "won"]
    for part in out["by_segment"]:
        seg_won = won[won["segment"] == part["segment"]]
        n = int((leads["segment"] == part["segment"]).sum())
        v = len(seg_won) / n * seg_won["revenue"].mean()
        assert part["mql_value"] == pytest.approx(v)
        assert part["mqls_required"] == math.ceil(round(part["revenue_responsibility"] / v, 9))
    assert out["mqls_required"] == sum(p["mqls_required"] for p in out["by_segment"])
    with pytest.raises(ConfigError, match="not in the data"):
        with connect(guide_crm) as ws:
            plan_sla(ws.leads, quota_by_segment={"mid-market": 1.0}, originated_share=0.4)


def test_lag_spread_from_mature_won_leads(guide_crm: Path) -> None:
    out = json_of("plan", guide_crm, "--quota", "400000", "--originated-share", "0.4",
                  "--period-quotas", "400000,500000,600000")  # fmt: skip
    with connect(guide_crm) as ws:
        leads = ws.leads.execute()
    won = leads[leads["status"] == "won"]
    lag = ((won["closed_at"] - won["mql_at"]).dt.total_seconds()
           // (PERIOD_DAYS["month"] * 86_400)).astype(int)  # fmt: skip
    pmf = np.bincount(lag) / len(lag)
    assert out["lag"]["lag_pmf"] == pytest.approx(list(pmf))
    rev = [x * 0.4 for x in (400_000, 500_000, 600_000)]
    assert out["lag"]["revenue_by_period"] == pytest.approx(rev)
    assert out["lag"]["mqls_by_period"] == pytest.approx(
        list(lagged_requirements(rev, pmf, out["mql_value"]))
    )
    assert out["inputs"]["lag_pmf"]["basis"].startswith("measured")


# --------------------------------------------------------------------------- touches


@pytest.fixture(scope="module")
def synth_crm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from leadsla.synth import generate

    out = tmp_path_factory.mktemp("synth50k")
    generate(out, leads=50_000, seed=0)
    return out


@pytest.mark.slow
def test_shares_from_touches_match_a_direct_computation(synth_crm: Path) -> None:
    """Originated and influenced from touches = attribution.attribute on the touches of won
    leads read straight from the Parquet files (untouched won revenue in the denominator)."""
    leads = pd.read_parquet(synth_crm / "leads.parquet")
    touches = pd.read_parquet(synth_crm / "touches.parquet")
    won = leads[(leads["status"] == "won") & (leads["revenue"] > 0)]
    t = touches.merge(won[["lead_id", "revenue", "closed_at"]], on="lead_id")
    t = t[(t["at"] <= t["closed_at"]) & (t["at"] >= t["closed_at"] - pd.Timedelta(days=90))]
    t = t.rename(columns={"lead_id": "deal_id"}).sort_values(["deal_id", "at"])
    direct = attribute(t[["deal_id", "revenue", "at", "team", "channel"]], lookback_days=None)
    scale = direct.total_revenue / won["revenue"].sum()
    with connect(synth_crm) as ws:
        got = marketing_attribution(ws.leads, ws.table("touches"))
        plan = plan_sla(ws.leads, touches=ws.table("touches"), quota=400_000)
    for model, share in direct.shares.items():
        assert got.shares[model] == pytest.approx(share * scale, rel=1e-9)
    assert plan.plan.originated_share == pytest.approx(got.shares["originated"], rel=1e-9)
    assert plan.inputs["originated_share"]["basis"].startswith("measured from touches")
    infl = plan.plan.influenced_commitment
    assert infl is not None and infl["share"] == pytest.approx(got.shares["influenced"])
    assert plan.plan.revenue_responsibility == pytest.approx(
        400_000 * got.shares["originated"]
    )  # influenced never added


@pytest.mark.slow
def test_synthetic_plan_per_segment_cli(synth_crm: Path) -> None:
    out = json_of(
        "plan",
        synth_crm,
        "--segment-quota",
        "enterprise=300000",
        "--segment-quota",
        "mid-market=150000",
        "--segment-quota",
        "smb=50000",
    )
    assert [p["segment"] for p in out["by_segment"]] == ["enterprise", "mid-market", "smb"]
    assert out["mqls_required"] == sum(p["mqls_required"] for p in out["by_segment"])
    for p in out["by_segment"]:
        assert 0 < p["originated_share"] <= (p["influenced_commitment"] or {})["share"] <= 1
        assert p["risk_buffer_mqls"] >= p["mqls_required"]
        assert p["lag"]["lag_pmf"] and sum(p["lag"]["lag_pmf"]) == pytest.approx(1.0)
    text = " ".join(invoke("plan", synth_crm, "--quota", "400000").stdout.split())
    assert "MQLs a month" in text and "Where the numbers come from" in text
