"""Speed to lead (METHODS §4): buckets at every boundary, the clock start, Mantel–Haenszel, the
curve, the value of speed and the target, the synthetic truth, calibration, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from leadsla.analysis.speed import (
    BUCKETS,
    CAVEAT,
    SpeedResult,
    assign_buckets,
    bucket_edges,
    business_day_seconds,
    candidates_for,
    first_attempts,
    speed_analysis,
)
from leadsla.analysis.speedstats import (
    Candidate,
    CandidateOutcome,
    aggregate,
    choose,
    fine_edges_minutes,
    fit_curve,
    mantel_haenszel,
    mh_rr,
)
from leadsla.analysis.valuestats import wilson_interval
from leadsla.cli import app
from leadsla.clock import BusinessCalendar
from leadsla.errors import ConfigError, DataError
from leadsla.io.source import connect
from leadsla.render.charts import figure
from leadsla.settings import Settings

HOURS_9_18 = {"hours": "Mon-Fri 09:00-18:00"}
BERLIN = BusinessCalendar.from_config(HOURS_9_18, time_zone="Europe/Berlin")
MIN = 1 / 60  # an hour's minute, in hours

# --------------------------------------------------------------------------- the fixture
# Europe/Berlin, Mon-Fri 09:00-18:00 (CET, +01:00 in November). Bucket edges in business time:
# 5 min, 30 min, 60 min, 4 h, 9 h (one business day), 27 h (three). Mon 10 Nov 2025.

LEADS_CSV = """\
lead_id,created_at,segment,source,status,closed_at,revenue
L01,2025-11-10T10:00:00+01:00,smb,marketing,won,2025-11-20T12:00:00+01:00,1000
L02,2025-11-15T11:00:00+01:00,smb,sales,lost,2025-11-20T12:00:00+01:00,
L03,2025-11-10T10:00:00+01:00,smb,marketing,won,2025-11-20T12:00:00+01:00,1000
L04,2025-11-10T10:00:00+01:00,smb,marketing,lost,2025-11-20T12:00:00+01:00,
L05,2025-11-14T17:55:00+01:00,smb,marketing,won,2025-11-20T12:00:00+01:00,1000
L06,2025-11-10T10:00:00+01:00,smb,sales,lost,2025-11-20T12:00:00+01:00,
L07,2025-11-10T10:00:00+01:00,enterprise,marketing,won,2025-11-20T12:00:00+01:00,1000
L08,2025-11-10T10:00:00+01:00,enterprise,sales,lost,2025-11-20T12:00:00+01:00,
L09,2025-11-10T10:00:00+01:00,enterprise,marketing,lost,2025-11-20T12:00:00+01:00,
L10,2025-11-10T10:00:00+01:00,enterprise,marketing,lost,2025-11-20T12:00:00+01:00,
L11,2025-11-10T10:00:00+01:00,enterprise,marketing,won,2025-11-20T12:00:00+01:00,1000
L12,2025-11-10T09:00:00+01:00,enterprise,sales,lost,2025-11-20T12:00:00+01:00,
L13,2025-11-10T09:00:00+01:00,smb,marketing,lost,2025-11-20T12:00:00+01:00,
L14,2025-11-10T09:00:00+01:00,smb,marketing,lost,2025-11-20T12:00:00+01:00,
L15,2025-11-10T09:00:00+01:00,smb,sales,lost,2025-11-20T12:00:00+01:00,
L16,2025-11-10T09:00:00+01:00,smb,marketing,won,2025-11-20T12:00:00+01:00,1000
L17,2025-11-10T09:00:00+01:00,smb,marketing,lost,2025-11-20T12:00:00+01:00,
L18,2025-11-10T09:00:00+01:00,smb,,lost,2025-11-20T12:00:00+01:00,
L19,2025-12-30T10:00:00+01:00,smb,marketing,open,,
L20,2025-11-10T09:00:00+01:00,smb,marketing,open,,
"""

ACTIVITIES_CSV = """\
activity_id,lead_id,at,kind,rep,outcome
A01,L01,2025-11-10T10:04:59+01:00,call,ana,connected
A02,L02,2025-11-17T09:03:00+01:00,call,ana,no_answer
A03a,L03,2025-11-10T09:50:00+01:00,call,ana,no_answer
A03b,L03,2025-11-10T10:20:00+01:00,call,ana,connected
A04,L04,2025-11-10T10:05:00+01:00,call,ben,no_answer
A05,L05,2025-11-17T09:05:00+01:00,call,ben,connected
A06,L06,2025-11-10T10:29:59+01:00,email,ben,sent
A07m,L07,2025-11-10T10:01:00+01:00,meeting,ben,
A07,L07,2025-11-10T10:30:00+01:00,email,ben,replied
A08,L08,2025-11-10T10:59:59+01:00,call,ana,connected
A09,L09,2025-11-10T11:00:00+01:00,call,ana,connected
A10,L10,2025-11-10T13:59:59+01:00,call,ana,voicemail
A11,L11,2025-11-10T14:00:00+01:00,call,ana,connected
A12,L12,2025-11-10T17:59:59+01:00,call,ben,no_answer
A13,L13,2025-11-11T09:00:00+01:00,call,ben,no_answer
A14,L14,2025-11-12T17:59:59+01:00,call,ben,no_answer
A15,L15,2025-11-13T09:00:00+01:00,call,ben,no_answer
A15b,L15,2025-11-14T09:00:00+01:00,call,ben,connected
A17,L17,2025-11-11T10:00:00+01:00,meeting,ben,
"""

SETTINGS_TOML = """\
time_zone = "Europe/Berlin"
as_of = "2025-12-31T18:00:00+01:00"

[business_hours]
hours = "Mon-Fri 09:00-18:00"
"""

#: lead → (business seconds to first attempt or None, bucket), each chosen at an edge
EXPECTED_LEADS: dict[str, tuple[float | None, str]] = {
    "L01": (299, "<5 min"),  # 4 min 59 s
    "L02": (180, "<5 min"),  # created Saturday, called Monday 09:03
    "L03": (1200, "5–30 min"),  # a call dated before creation is no response; 10:20 is
    "L04": (300, "5–30 min"),  # exactly 5 min
    "L05": (600, "5–30 min"),  # Fri 17:55 -> Mon 09:05 = 10 business minutes (METHODS §5)
    "L06": (1799, "5–30 min"),  # 29:59, an email
    "L07": (1800, "30–60 min"),  # 30:00; the earlier meeting is not an attempt
    "L08": (3599, "30–60 min"),
    "L09": (3600, "1–4 business hours"),
    "L10": (14399, "1–4 business hours"),
    "L11": (14400, "4 h–end of business day"),
    "L12": (32399, "4 h–end of business day"),  # Mon 09:00 -> Mon 17:59:59
    "L13": (32400, "1–3 business days"),  # Mon 09:00 -> Tue 09:00 = 9 business hours
    "L14": (97199, "1–3 business days"),  # -> Wed 17:59:59
    "L15": (97200, "≥3 business days"),  # -> Thu 09:00 = 27 business hours
    "L16": (None, "never"),
    "L17": (None, "never"),  # only a meeting
    "L18": (None, "never"),
    "L20": (None, "never"),  # open but old enough: mature, never called
}

#: bucket → (leads, won) over the 19 mature leads (L19 is open and recent: left out)
EXPECTED_BUCKETS = {
    "<5 min": (2, 1),
    "5–30 min": (4, 2),
    "30–60 min": (2, 1),
    "1–4 business hours": (2, 0),
    "4 h–end of business day": (2, 1),
    "1–3 business days": (2, 0),
    "≥3 business days": (1, 0),
    "never": (4, 1),
}


def write_fixture(folder: Path, *, activities: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leads.csv").write_text(LEADS_CSV, encoding="utf-8")
    if activities:
        (folder / "activities.csv").write_text(ACTIVITIES_CSV, encoding="utf-8")
    (folder / "leadsla.toml").write_text(SETTINGS_TOML, encoding="utf-8")
    return folder


@pytest.fixture
def crm(tmp_path: Path) -> Path:
    return write_fixture(tmp_path / "crm")


def analyse(folder: Path, **kwargs: Any) -> SpeedResult:
    with connect(folder) as ws:
        assert ws.activities is not None
        cal = BusinessCalendar.from_config(
            ws.settings.business_hours, time_zone=ws.settings.time_zone
        )
        return speed_analysis(ws.leads, ws.activities, calendar=cal, as_of=ws.as_of, **kwargs)


# --------------------------------------------------------------------------- buckets


def test_bucket_edges_follow_the_business_day() -> None:
    assert business_day_seconds(BERLIN) == 9 * 3600
    np.testing.assert_array_equal(bucket_edges(BERLIN), [300, 1800, 3600, 14400, 32400, 97200])
    nine_to_five = BusinessCalendar.default("Europe/Berlin")  # the default: Mon-Fri 09-17
    assert bucket_edges(nine_to_five)[-2:].tolist() == [8 * 3600, 24 * 3600]
    short = BusinessCalendar.from_config({"hours": "Mon-Fri 09:00-12:00"})
    edges = bucket_edges(short)  # a 3 h day: "4 h–end of business day" is empty
    assert np.all(np.diff(edges) >= 0) and edges[3] == edges[4] == 4 * 3600


def test_assign_buckets_is_half_open() -> None:
    edges = bucket_edges(BERLIN)
    got = assign_buckets([0, 299.9, 300, 1800, 3600, 14400, 32400, 97200, 1e9, math.nan], edges)
    assert got.tolist() == [0, 0, 1, 2, 3, 4, 5, 6, 6, 7]


def test_first_attempt_of_every_lead_at_the_edges(crm: Path) -> None:
    with connect(crm) as ws:
        assert ws.activities is not None
        df = (
            first_attempts(ws.leads, ws.activities, attempt_kinds=("call", "EMAIL"))
            .select("lead_id", "clock_start", "first_attempt_at", "attempts_before_start")
            .order_by("lead_id")
            .execute()
        )
    df = df[df.lead_id != "L19"].reset_index(drop=True)
    seconds = BERLIN.elapsed(df.clock_start, df.first_attempt_at).to_numpy()
    buckets = [BUCKETS[i] for i in assign_buckets(seconds, bucket_edges(BERLIN))]
    got = {
        lid: (None if math.isnan(s) else s, b)
        for lid, s, b in zip(df.lead_id, seconds, buckets, strict=True)
    }
    assert got == EXPECTED_LEADS
    early = dict(zip(df.lead_id, df.attempts_before_start, strict=True))
    assert early["L03"] == 1 and sum(early.values()) == 1


def test_clock_starts_at_mql_at(tmp_path: Path) -> None:
    """The policy's clock: from mql_at (else created_at); an attempt before it is no response."""
    folder = write_fixture(tmp_path / "mql")
    lines = LEADS_CSV.splitlines()
    mql = {"L01": "2025-11-10T10:03:00+01:00", "L04": "2025-11-10T10:06:00+01:00"}
    rows = [lines[0] + ",mql_at"] + [
        f"{line},{mql.get(line.split(',')[0], '')}" for line in lines[1:]
    ]
    (folder / "leads.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    res = analyse(folder)
    got = {b.bucket: (b.leads, b.won) for b in res.buckets}
    # L01 (won): 10:03 -> 10:04:59 stays "<5 min"; L04: its only call (10:05) predates its
    # MQL at 10:06, so it was never contacted after the hand-over
    assert got["<5 min"] == (2, 1) and got["5–30 min"] == (3, 2) and got["never"] == (5, 1)
    assert res.attempts_before_start == {"attempts": 2, "leads": 2}  # L03's slip and L04


def test_fixture_buckets_counts_and_rates(crm: Path) -> None:
    res = analyse(crm)
    got = {b.bucket: (b.leads, b.won) for b in res.buckets}
    assert got == EXPECTED_BUCKETS
    assert [b.bucket for b in res.buckets] == list(BUCKETS)
    rates = [b.rate for b in res.buckets]
    np.testing.assert_allclose(rates, [1 / 2, 1 / 2, 1 / 2, 0, 1 / 2, 0, 0, 1 / 4])
    for b in res.buckets:
        lo, hi = wilson_interval(b.won, b.leads)
        assert b.rate_ci == pytest.approx((lo, hi))
    lo, hi = res.overall.bucket("5–30 min").rate_ci
    assert (round(100 * lo, 1), round(100 * hi, 1)) == (15.0, 85.0)  # 2 of 4
    # population: 19 mature leads; L19 (open, created the day before the as-of date) left out
    ex = res.to_dict()["excluded"]
    assert (ex["total"], ex["immature"], ex["created_after_as_of"]) == (1, 1, 0)
    assert res.maturity.mature_leads == 19 and res.maturity.leads_read == 20
    assert res.attempts_before_start == {"attempts": 1, "leads": 1}
    assert any("dated before the lead's clock start" in w for w in res.warnings)
    assert res.business_day_hours == 9.0


def test_fixture_team_pace_counts_the_never_contacted(crm: Path) -> None:
    """4 of 19 leads never contacted (21%): no 90th percentile exists, and it is said so; no
    listed target reaches 90%, so the team's pace is in whole business days; with 19 leads
    there is no evidence, so the target is that pace."""
    res = analyse(crm)
    rec = res.recommendation
    assert rec.team_p90_hours is None and rec.never_share == pytest.approx(4 / 19)
    assert rec.team_p90_text.startswith("never: 21.1% of last period's leads")
    assert not res.overall.curve.evidence and not rec.on_evidence
    # contacted p90 (inverted CDF, 14th of 15): L14's 26:59:59 -> 3 business days
    assert rec.text == "within 3 business days" and rec.first_response_hours == 27.0
    assert rec.met_share == pytest.approx(15 / 19)  # L15 (27:00:00) is just within
    doc = res.to_dict()
    assert doc["recommended_first_response_text"] == "within 3 business days"
    assert doc["team_p90_hours"] is None and "no evidence that faster pays" in doc["basis"]
    assert "14 / 19" not in doc["basis"] and "78.9% of last period's 19 leads" in doc["basis"]
    targets = {t["key"]: t for t in doc["targets"]}
    # met = answered within the target (at or before the deadline); never = missed
    assert targets["5min"]["met"] == 3  # L02 (3 min), L01 (4:59), L04 (5:00 exactly)
    assert targets["30min"]["met"] == 7  # and L05, L03, L06, L07 (30:00 exactly)
    # same business day: all but L05 (Fri 17:55, called Mon), L13-L15 (next days), never
    assert targets["same_day"]["met"] == 11
    # next business day by 12:00: L05 (Mon 09:05) and L13 (Tue 09:00) too; not L14, L15
    assert targets["next_noon"]["met"] == 13
    assert all(t["never_contacted"] == 4 for t in doc["targets"])


def test_all_leads_when_maturity_is_off(crm: Path) -> None:
    res = analyse(crm, mature_only=False)
    assert res.overall.bucket("never").leads == 5  # L19 joins: open, never called
    assert res.to_dict()["excluded"]["total"] == 0


def test_strata_add_up_to_the_pool(crm: Path) -> None:
    res = analyse(crm, by="segment")
    assert res.strata is not None and sorted(res.strata) == ["enterprise", "smb"]
    for i, b in enumerate(res.buckets):
        parts = [t.buckets[i] for t in res.strata.values()]
        assert sum(p.leads for p in parts) == b.leads
        assert sum(p.won for p in parts) == b.won
    assert res.strata["enterprise"].bucket("<5 min").leads == 0
    src = analyse(crm, by="source")
    assert src.strata is not None and sorted(src.strata) == ["(none)", "marketing", "sales"]
    own = analyse(crm, by="owner")
    assert own.strata is not None and list(own.strata) == ["(none)"]
    with pytest.raises(ConfigError, match="choose among campaign, owner, segment, source"):
        analyse(crm, by="rep")


def test_result_frame_and_figure(crm: Path) -> None:
    res = analyse(crm, by="segment")
    frame = res.to_frame()
    assert len(frame) == 3 * len(BUCKETS)
    assert set(frame.stratum) == {"all leads", "enterprise", "smb"}
    fig = figure(res)
    points, curve, target = fig.data  # no p90 mark: 21% never contacted
    assert target.name == "target: within 3 business days" and list(target.x) == [27.0, 27.0]
    shown = [b for b in res.buckets if b.leads and b.bucket != "never"]
    assert list(points.text) == [b.bucket for b in shown]
    np.testing.assert_allclose(points.error_y.array, [b.rate_ci[1] - b.rate for b in shown])
    assert len(curve.x) == 60 and all(0 <= y <= 1 for y in curve.y)
    assert "<" not in fig.layout.title.text  # no raw HTML in the title


def test_png_copy_of_the_chart(crm: Path, tmp_path: Path) -> None:
    """The PNG copy: log axis with the labels in human units, plain title, marks in the legend."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from leadsla.render.png import _draw, figure_to_png

    fig = figure(analyse(crm))
    png = figure_to_png(fig, tmp_path / "speed.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    f, ax = plt.subplots()
    try:
        _draw(fig, ax)
        assert ax.get_xscale() == "log"
        assert [t.get_text() for t in ax.get_xticklabels()][:3] == ["1 min", "5 min", "30 min"]
        assert "<" not in ax.get_title(loc="left")
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "target: within 3 business days" in legend
    finally:
        plt.close(f)


# --------------------------------------------------------------------------- statistics


def test_mantel_haenszel_point_and_greenland_robins_interval() -> None:
    # two strata; within 30 min: 10/100 and 20/50 won, later: 5/100 and 30/150
    a, n1, c, n0 = [10, 20], [100, 50], [5, 30], [100, 150]
    rr, ci, used = mh_rr(a, n1, c, n0)
    # by hand: R = 10·100/200 + 20·150/200 = 20, S = 5·100/200 + 30·50/200 = 10 → RR = 2
    assert rr == pytest.approx(2.0) and used == 2
    # Var ln RR = Σ (n1·n0·(a+c) − a·c·N)/N² / (R·S)
    #           = ((1e4·15 − 50·200)/4e4 + (7500·50 − 600·200)/4e4) / 200 = 0.04938 (hand)
    var = ((1e4 * 15 - 50 * 200) / 4e4 + (7500 * 50 - 600 * 200) / 4e4) / 200
    assert ci is not None
    assert math.log(ci[1] / rr) == pytest.approx(1.959964 * math.sqrt(var), rel=1e-6)
    assert math.log(rr / ci[0]) == pytest.approx(1.959964 * math.sqrt(var), rel=1e-6)
    from statsmodels.stats.contingency_tables import StratifiedTable

    tables = [
        np.array([[ai, ni - ai], [ci_, mi - ci_]])
        for ai, ni, ci_, mi in zip(a, n1, c, n0, strict=True)
    ]
    assert StratifiedTable(tables).riskratio_pooled == pytest.approx(rr)
    # an empty arm carries no information; no win in either arm: no ratio
    assert mh_rr([10, 3], [100, 7], [5, 0], [100, 0])[2] == 1
    assert mh_rr([0], [10], [0], [10])[0] is None


def test_effects_from_the_aggregates() -> None:
    rng = np.random.default_rng(7)
    fine = fine_edges_minutes(540)
    minutes = np.exp(rng.uniform(0, np.log(5000), 4000))
    minutes[:200] = np.nan
    stratum = rng.integers(0, 3, 4000)
    won = rng.random(4000) < 0.1
    agg = aggregate(minutes, won, stratum, ("a", "b", "c"), fine)
    assert agg.n.sum() + agg.never_n.sum() == 4000 and agg.k.sum() + agg.never_k.sum() == won.sum()
    (e,) = mantel_haenszel(agg, [(30.0, "30 min")])
    inside = minutes < 30
    assert e.leads_within == inside.sum() and e.won_within == (won & inside).sum()
    later = ~inside & ~np.isnan(minutes)
    assert e.leads_later == later.sum() and e.won_later == (won & later).sum()
    ref = mh_rr(*[np.bincount(stratum[m], weights=w, minlength=3)
                  for m, w in ((inside, won[inside]), (inside, None), (later, won[later]),
                               (later, None))])  # fmt: skip
    assert e.risk_ratio == pytest.approx(ref[0])


def test_curve_equals_statsmodels_glm() -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(11)
    fine = fine_edges_minutes(540)
    n = 30_000
    stratum = rng.integers(0, 5, n)
    minutes = np.exp(rng.normal(np.log(60), 2.0, n))
    base = np.array([-2.5, -2.0, -3.0, -1.5, -2.2])[stratum]
    won = rng.random(n) < 1 / (1 + np.exp(-(base - 0.1 * np.log1p(minutes))))
    agg = aggregate(minutes, won, stratum, tuple("abcde"), fine)
    curve = fit_curve(agg)
    s, b = np.nonzero(agg.n)
    X = np.column_stack([np.eye(5)[s], agg.xsum[s, b] / agg.n[s, b]])
    y = np.column_stack([agg.k[s, b], agg.n[s, b] - agg.k[s, b]])
    ref = sm.GLM(y, X, family=sm.families.Binomial()).fit()
    assert curve.beta == pytest.approx(ref.params[-1], rel=1e-6)
    assert curve.beta_se == pytest.approx(ref.bse[-1], rel=1e-5)
    np.testing.assert_allclose(curve.alpha, ref.params[:5], rtol=1e-6)
    assert curve.evidence and -0.15 < curve.beta < -0.05
    # a stratum without a win is fixed at 0 and left out of the fit
    agg.k[2] = 0
    assert fit_curve(agg).alpha[2] == -math.inf


def _outcome(key: str, hours: float, met: int, gain: float | None, rep: float) -> CandidateOutcome:
    return CandidateOutcome(Candidate(key, key, hours), 100, met, 100 - met, 0, gain,
                            0.0 if gain is None else gain / 1000, rep, rep * 60)  # fmt: skip


def test_choose_the_target() -> None:
    outs = [
        _outcome("5min", 5 / 60, 20, 9000, 80),  # net 9000 - 4800 = 4200
        _outcome("30min", 0.5, 50, 8000, 50),  # net 5000: the best
        _outcome("2h", 2.0, 80, 3000, 20),  # net 1800
        _outcome("4h", 4.0, 92, 1000, 8),  # the team's pace (≥ 90% met)
    ]
    got = choose(outs, evidence=True, use_costs=True, min_gain_points=0.1)
    assert (got.index, got.team_index, got.on_evidence) == (1, 3, True)
    # no evidence: the team's pace, whatever the modelled gains say
    got = choose(outs, evidence=False, use_costs=True, min_gain_points=0.1)
    assert (got.index, got.on_evidence) == (3, False)
    # without costs: tighten while a step adds ≥ 2 points (4h→2h +2, 2h→30min +5, →5min +1)
    got = choose(outs, evidence=True, use_costs=False, min_gain_points=2.0)
    assert got.index == 1


def test_candidates_in_human_units() -> None:
    c = candidates_for(BERLIN)
    assert [x.text for x in c] == [
        "within 5 minutes", "within 15 minutes", "within 30 minutes", "within 1 business hour",
        "within 2 business hours", "within 4 business hours", "same business day",
        "next business day by 12:00",
    ]  # fmt: skip
    assert c[-2].hours == 9.0 and c[-1].hours == 12.0  # 09-18; next day 09-12


# --------------------------------------------------------------------------- synthetic truth


def _synth(tmp: Path, effect: tuple[float, ...] | None) -> tuple[SpeedResult, dict[str, Any]]:
    from leadsla.synth import generate

    truth = generate(tmp, leads=20_000, seed=20251201, response_effect=effect).truth
    tz = str(truth["time_zone"])
    calendar = BusinessCalendar.from_config(HOURS_9_18, time_zone=tz)  # the generator's hours
    settings = Settings(time_zone=tz, business_hours=HOURS_9_18)
    with connect(tmp, settings=settings) as ws:
        assert ws.activities is not None
        res = speed_analysis(ws.leads, ws.activities, calendar=calendar, by="owner")
    return res, truth


def test_synthetic_crm_with_an_effect(tmp_path: Path) -> None:
    res, truth = _synth(tmp_path, None)
    assert truth["response_time_effect"]["<5 min"] == 1.5
    assert res.overall.curve.evidence
    by_t = {e.within_minutes: e for e in res.effect}
    assert by_t[30.0].ci is not None and by_t[30.0].ci[0] > 1.0  # faster converts more
    rec = res.recommendation
    assert rec.on_evidence and rec.target is not None and rec.team_p90_hours is not None
    assert rec.target.hours < rec.team_p90_hours  # worth more than its cost: tighter
    assert res.overall.bucket("never").won == 0  # the generator never wins an uncalled lead
    assert res.strata is not None and len(res.strata) == 12  # --by owner: the 12 reps
    assert res.caveat == CAVEAT and "not cause" in res.to_dict()["caveat"]


def test_synthetic_crm_without_an_effect(tmp_path: Path) -> None:
    res, truth = _synth(tmp_path, (1.0,) * 7)
    assert set(truth["response_time_effect"].values()) == {1.0}
    rec = res.recommendation
    assert not rec.on_evidence and rec.target == rec.team
    assert "no evidence that faster pays" in rec.explanation
    assert all(e.ci is None or e.ci[0] < 1.0 < e.ci[1] or not e.claimed for e in res.effect)


def test_calibration_subset() -> None:
    """The fast subset of benchmarks/calibrate_speed.py: 40 aggregate CRMs, 5 effect shapes."""
    import importlib.util

    path = Path(__file__).parents[1] / "benchmarks" / "calibrate_speed.py"
    spec = importlib.util.spec_from_file_location("calibrate_speed", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = mod.run_aggregate(4, (5_000, 20_000), list(mod.SHAPES))
    s = mod.summarise(rows)
    assert s["crms"] == 40 and s["coverage"] >= 0.9
    assert s["no_effect_false_tighter"] <= 0.05
    assert s["worth_crms"] == 32  # every CRM with an effect: faster pays for its rep time
    # with 20,000 leads a clear effect (the generator's steps, a log-linear fall) is found
    # every time and the target is tighter than today's p90; smaller or weaker effects need
    # more leads (benchmarks/calibrate_speed.md has the power by size)
    for shape in ("steps (synth)", "log-linear"):
        big = [r for r in rows if r["shape"] == shape and r["size"] == 20_000]
        assert all(r["tighter_than_p90"] for r in big), shape
    assert s["worth_tighter_than_p90"] >= 0.4


# --------------------------------------------------------------------------- CLI


def test_cli_json_keys(crm: Path) -> None:
    result = CliRunner().invoke(app, ["speed", str(crm), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    for key in ("buckets", "recommended_first_response_hours", "recommended_first_response_text",
                "team_p90_hours", "effect", "basis", "effect_off_hours", "targets", "caveat",
                "excluded", "warnings"):  # fmt: skip
        assert key in doc, key
    assert "strata" not in doc
    assert [b["bucket"] for b in doc["buckets"]] == list(BUCKETS)
    for b in doc["buckets"]:
        assert {"bucket", "leads", "won", "rate", "rate_ci"} <= set(b)
        assert (b["leads"], b["won"]) == EXPECTED_BUCKETS[b["bucket"]]
        assert len(b["rate_ci"]) == 2
    assert [e["within_hours"] for e in doc["effect"]] == pytest.approx([5 / 60, 0.5, 1, 4, 9])
    for e in doc["effect"]:
        assert {"within_hours", "risk_ratio", "risk_ratio_ci", "leads_within",
                "leads_later"} <= set(e)  # fmt: skip
    assert doc["recommended_first_response_hours"] == 27.0
    assert doc["excluded"]["total"] == 1
    assert "reps call hot leads faster" in doc["caveat"]


def test_cli_by_owner_table_csv_and_chart(crm: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["speed", str(crm), "--by", "segment", "-f", "json"])
    assert result.exit_code == 0, result.output
    strata = json.loads(result.stdout)["strata"]
    assert sorted(strata) == ["enterprise", "smb"]
    assert {"buckets", "recommended_first_response_hours", "effect"} <= set(strata["smb"])
    result = runner.invoke(app, ["speed", str(crm), "--by", "owner", "-f", "json"])
    assert result.exit_code == 0, result.output

    chart = tmp_path / "speed.html"
    result = runner.invoke(app, ["speed", str(crm), "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    assert "Recommended first response" in result.stdout
    assert "within 3 business days" in result.stdout
    assert "Caveat:" in result.stdout and "reps call hot leads faster" in result.stdout
    assert chart.is_file() and "plotly" in chart.read_text(encoding="utf-8")[:5000].lower()

    out = tmp_path / "speed.csv"
    result = runner.invoke(app, ["speed", str(crm), "-f", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "stratum,bucket,lower_hours,upper_hours,leads,won,rate,rate_lo,rate_hi"
    assert len(lines) == 1 + len(BUCKETS)


def test_cli_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    bare = write_fixture(tmp_path / "no-activities", activities=False)
    result = runner.invoke(app, ["speed", str(bare)])
    assert isinstance(result.exception, DataError)
    assert "needs the activities table" in str(result.exception)
    crm = write_fixture(tmp_path / "crm")
    result = runner.invoke(app, ["speed", str(crm), "--by", "rep"])
    assert result.exit_code == 2
