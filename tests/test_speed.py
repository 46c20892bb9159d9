"""Speed to lead (METHODS §4): buckets at every boundary, the SLA rule, the synthetic truth, CLI."""

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
    SpeedBucket,
    SpeedResult,
    assign_buckets,
    bucket_edges,
    business_day_seconds,
    first_attempts,
    recommend,
    speed_analysis,
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
    "L03": (0, "<5 min"),  # a call dated 10 min before creation counts as at creation
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
    "<5 min": (3, 2),
    "5–30 min": (3, 1),
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
            .select("lead_id", "created_at", "first_attempt_at", "attempts_before_creation")
            .order_by("lead_id")
            .execute()
        )
    df = df[df.lead_id != "L19"].reset_index(drop=True)
    seconds = BERLIN.elapsed(df.created_at, df.first_attempt_at).to_numpy()
    buckets = [BUCKETS[i] for i in assign_buckets(seconds, bucket_edges(BERLIN))]
    got = {
        lid: (None if math.isnan(s) else s, b)
        for lid, s, b in zip(df.lead_id, seconds, buckets, strict=True)
    }
    assert got == EXPECTED_LEADS
    early = dict(zip(df.lead_id, df.attempts_before_creation, strict=True))
    assert early["L03"] == 1 and sum(early.values()) == 1


def test_fixture_buckets_counts_and_rates(crm: Path) -> None:
    res = analyse(crm)
    got = {b.bucket: (b.leads, b.won) for b in res.buckets}
    assert got == EXPECTED_BUCKETS
    assert [b.bucket for b in res.buckets] == list(BUCKETS)
    rates = [b.rate for b in res.buckets]
    np.testing.assert_allclose(rates, [2 / 3, 1 / 3, 1 / 2, 0, 1 / 2, 0, 0, 1 / 4])
    for b in res.buckets:
        lo, hi = wilson_interval(b.won, b.leads)
        assert b.rate_ci == pytest.approx((lo, hi))
    lo, hi = res.buckets[0].rate_ci
    assert (round(100 * lo, 1), round(100 * hi, 1)) == (20.8, 93.9)  # 2 of 3
    # population: 19 mature leads; L19 (open, created the day before the as-of date) left out
    ex = res.to_dict()["excluded"]
    assert (ex["total"], ex["immature"], ex["created_after_as_of"]) == (1, 1, 0)
    assert res.maturity.mature_leads == 19 and res.maturity.leads_read == 20
    assert res.attempts_before_creation == {"attempts": 1, "leads": 1}
    assert any("dated before the lead's creation" in w for w in res.warnings)
    assert res.business_day_hours == 9.0


def test_fixture_recommendation_is_the_floor(crm: Path) -> None:
    res = analyse(crm)
    rec = res.recommendation
    # 3 leads a bucket: every interval overlaps, no fall is material
    assert rec.rate_rule_hours == 0.0
    assert not any(f["material"] for f in rec.falls)
    # 15 contacted leads; the 14th smallest response (inverted CDF) is L14's 26:59:59 → 27 h
    assert rec.p90_response_hours == pytest.approx(97199 / 3600)
    assert rec.first_response_hours == 27.0
    assert rec.decided_by == "p90_floor"


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
    with pytest.raises(ConfigError, match="segment or source"):
        analyse(crm, by="owner")


def test_result_frame_and_figure(crm: Path) -> None:
    res = analyse(crm, by="segment")
    frame = res.to_frame()
    assert len(frame) == 3 * len(BUCKETS)
    assert set(frame.stratum) == {"all leads", "enterprise", "smb"}
    fig = figure(res)
    assert [t.name for t in fig.data] == ["enterprise", "smb"]  # one trace per stratum
    smb = fig.data[1]
    assert res.strata is not None
    shown = [b for b in res.strata["smb"].buckets if b.leads]
    assert list(smb.x) == [b.bucket for b in shown]
    np.testing.assert_allclose(smb.error_y.array, [b.rate_ci[1] - b.rate for b in shown])
    assert len(figure(analyse(crm)).data) == 1


# --------------------------------------------------------------------------- the SLA rule

EDGES_H = [5 * MIN, 0.5, 1.0, 4.0, 9.0, 27.0, math.inf]
N = [2000] * 7


def test_rule_earliest_boundary_after_which_the_rate_stops_falling() -> None:
    # 20% under 5 min, then about 13% whatever the delay: one material fall, at 5 minutes
    won = [400, 260, 255, 250, 245, 240, 235]
    rec = recommend(N, won, EDGES_H, response_hours=np.full(100, 3 * MIN), threshold=0.02)
    assert [f["material"] for f in rec.falls] == [True] + [False] * 5
    assert rec.rate_rule_hours == pytest.approx(5 * MIN)
    assert rec.p90_response_hours == pytest.approx(3 * MIN)
    assert rec.first_response_hours == pytest.approx(5 * MIN)
    assert rec.decided_by == "rate_curve"
    assert "stops falling materially after 5 business min" in rec.explanation


def test_rule_takes_the_last_material_fall() -> None:
    # falls at 5 min and again after one business day: the rate stops falling after 9 h
    won = [400, 260, 255, 250, 245, 150, 148]
    rec = recommend(N, won, EDGES_H, response_hours=[0.1, 0.2], threshold=0.02)
    assert [f["material"] for f in rec.falls] == [True, False, False, False, True, False]
    assert rec.rate_rule_hours == 9.0 and rec.first_response_hours == 9.0


def test_the_90_percent_floor_decides() -> None:
    won = [400, 260, 255, 250, 245, 240, 235]  # rule: 5 minutes
    response = np.r_[np.full(90, 2.0), np.full(10, 30.0)]  # 90% answered within 2 h
    rec = recommend(N, won, EDGES_H, response_hours=response, threshold=0.02)
    assert rec.rate_rule_hours == pytest.approx(5 * MIN)
    assert rec.p90_response_hours == 2.0
    assert rec.first_response_hours == 2.0
    assert rec.decided_by == "p90_floor"
    # the floor is rounded up to the whole minute, never down
    rec = recommend(N, won, EDGES_H, response_hours=[7.3001] * 10, threshold=0.02)
    assert rec.first_response_hours == pytest.approx(7 + 19 / 60)


def test_a_material_fall_is_large_and_clear() -> None:
    edges = EDGES_H[:3]
    # tiny but clear (a million leads a bucket): below the threshold
    rec = recommend([10**6] * 3, [100_000, 98_500, 97_000], edges, response_hours=[1.0])
    assert all(not f["intervals_overlap"] and not f["material"] for f in rec.falls)
    # large but unclear (20 leads a bucket): the intervals overlap
    rec = recommend([20] * 3, [10, 5, 1], edges, response_hours=[1.0])
    assert rec.falls[0]["difference"] == 0.25 and rec.falls[0]["intervals_overlap"]
    assert not rec.falls[0]["material"]
    assert rec.rate_rule_hours == 0.0 and rec.decided_by == "p90_floor"
    # a rise is never a fall
    rec = recommend([2000] * 2, [200, 400], edges[:2], response_hours=[1.0])
    assert not rec.falls[0]["material"]


def test_rule_skips_empty_buckets_and_needs_contacted_leads() -> None:
    won = [400, 0, 250, 250, 250, 250, 250]
    n = [2000, 0, 2000, 2000, 2000, 2000, 2000]
    rec = recommend(n, won, EDGES_H, response_hours=[0.01])
    assert rec.falls[0]["after"] == "<5 min" and rec.falls[0]["before"] == "30–60 min"
    assert rec.rate_rule_hours == pytest.approx(5 * MIN)  # the faster bucket's upper edge
    none = recommend([0] * 7, [0] * 7, EDGES_H, response_hours=[])
    assert none.first_response_hours is None and none.decided_by is None
    assert "no mature lead was contacted" in none.explanation


# --------------------------------------------------------------------------- synthetic truth


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[SpeedResult, dict[str, Any]]:
    from leadsla.synth import generate

    out = tmp_path_factory.mktemp("speed-synth")
    truth = generate(out, leads=200_000, seed=20251126).truth
    tz = str(truth["time_zone"])
    calendar = BusinessCalendar.from_config(HOURS_9_18, time_zone=tz)  # the generator's hours
    settings = Settings(time_zone=tz, business_hours=HOURS_9_18)
    with connect(out, settings=settings) as ws:
        assert ws.activities is not None
        res = speed_analysis(ws.leads, ws.activities, calendar=calendar, by="segment")
    return res, truth


def _assert_ordered_like_truth(buckets: list[SpeedBucket], effect: dict[str, float]) -> int:
    """Wherever two timed buckets' intervals separate, the truer-faster one converts more."""
    timed = [b for b in buckets if b.bucket != "never"]
    separated = 0
    for i, a in enumerate(timed):
        for b in timed[i + 1 :]:
            if a.rate_ci[0] > b.rate_ci[1] or b.rate_ci[0] > a.rate_ci[1]:
                separated += 1
                assert (a.rate > b.rate) == (effect[a.bucket] > effect[b.bucket]), (a, b)
    return separated


@pytest.mark.slow
def test_synthetic_crm_recovers_the_response_time_effect(
    synthetic: tuple[SpeedResult, dict[str, Any]],
) -> None:
    res, truth = synthetic
    effect = truth["response_time_effect"]
    assert isinstance(effect, dict) and list(effect) == list(BUCKETS[:-1])
    fast, slow = res.overall.bucket("<5 min"), res.overall.bucket("≥3 business days")
    assert fast.rate_ci[0] > slow.rate_ci[1]  # clearly apart, the fast one higher
    assert _assert_ordered_like_truth(res.buckets, effect) >= 15  # of 21 pairs
    assert res.overall.bucket("never").won == 0  # the generator never wins an uncalled lead
    assert res.strata is not None and sorted(res.strata) == ["enterprise", "mid-market", "smb"]
    for table in res.strata.values():
        assert _assert_ordered_like_truth(table.buckets, effect) >= 10
        assert table.bucket("<5 min").rate_ci[0] > table.bucket("≥3 business days").rate_ci[1]
    rec = res.recommendation
    assert rec.p90_response_hours is not None and rec.first_response_hours is not None
    assert rec.first_response_hours >= rec.p90_response_hours
    assert res.caveat == CAVEAT and "not cause" in res.to_dict()["caveat"]


# --------------------------------------------------------------------------- CLI


def test_cli_json_keys(crm: Path) -> None:
    result = CliRunner().invoke(app, ["speed", str(crm), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    for key in ("buckets", "recommended_first_response_hours", "p90_response_hours",
                "decided_by", "caveat", "excluded", "warnings"):  # fmt: skip
        assert key in doc, key
    assert "strata" not in doc
    assert [b["bucket"] for b in doc["buckets"]] == list(BUCKETS)
    for b in doc["buckets"]:
        assert {"bucket", "leads", "won", "rate", "rate_ci"} <= set(b)
        assert (b["leads"], b["won"]) == EXPECTED_BUCKETS[b["bucket"]]
        assert len(b["rate_ci"]) == 2
    assert doc["recommended_first_response_hours"] == 27.0
    assert doc["decided_by"] == "p90_floor"
    assert doc["excluded"]["total"] == 1
    assert "reps call hot leads faster" in doc["caveat"]


def test_cli_by_segment_table_csv_and_chart(crm: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["speed", str(crm), "--by", "segment", "-f", "json"])
    assert result.exit_code == 0, result.output
    strata = json.loads(result.stdout)["strata"]
    assert sorted(strata) == ["enterprise", "smb"]
    assert {"buckets", "recommended_first_response_hours", "decided_by"} <= set(strata["smb"])

    chart = tmp_path / "speed.html"
    result = runner.invoke(app, ["speed", str(crm), "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    assert "Recommended first-response SLA" in result.stdout
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
    result = runner.invoke(app, ["speed", str(crm), "--by", "owner"])
    assert result.exit_code == 2
