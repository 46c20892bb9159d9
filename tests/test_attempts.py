"""``leadsla attempts`` on the engine (METHODS.md §3): counting, end states, bounds, charts, CLI.

The statistics are tested in test_lifetable.py; here the whole path from canonical files to
N*: the METHODS fixture written as CSV, the UCI bank file against direct pandas counts, a
500k-lead synthetic CRM against its known truth, and the counting query on DuckDB and
PySpark (with the timestamp trap: instants compared, never subtracted).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from leadsla.analysis.attempts import (
    AttemptsResult,
    MissingValueError,
    attempt_analysis,
    attempts_sql,
    count_attempts,
    from_workspace,
)
from leadsla.analysis.valuestats import wilson_interval
from leadsla.errors import ConfigError
from leadsla.io.source import connect
from leadsla.render.charts import figure
from leadsla.render.charts_attempts import write_chart
from leadsla.settings import Settings

# PySpark reads every collect() through a local socket it leaves for the garbage collector to
# close ("The socket will be automatically closed when garbage-collected", pyspark/util.py):
# a ResourceWarning on every query, which no configuration avoids.
pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")

BANK = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "uci_bank_marketing" / "bank-full.csv"
)
AS_OF = datetime(2025, 6, 30, 18, 0, tzinfo=UTC)
SPEC_TOP = {"cost_per_attempt", "groups"}
EXTRA_TOP = {"excluded", "bound_shown", "warnings", "population"}
# the run's as-of and zone (SPEC.md: every analysis reports them)
RUN_KEYS = {"as_of", "as_of_basis", "time_zone", "time_zone_basis"}
SPEC_GROUP = {
    "optimal_attempts",
    "optimal_attempts_ci",
    "identified",
    "knee",
    "max_attempts_supported",
    "table",
}
SPEC_ROW = {
    "attempt",
    "at_risk",
    "won",
    "lost",
    "win_hazard",
    "cumulative_conversion",
    "expected_attempts",
    "expected_profit",
}


# --------------------------------------------------------------------------- helpers


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_crm(
    folder: Path, leads: list[dict[str, Any]], activities: list[dict[str, Any]] | None
) -> Path:
    """Canonical leads.csv (+ activities.csv) in ``folder``; datetimes written as UTC ISO."""
    folder.mkdir(parents=True, exist_ok=True)

    def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
        return pd.DataFrame(
            [{k: iso(v) if isinstance(v, datetime) else v for k, v in r.items()} for r in rows]
        )

    frame(leads).to_csv(folder / "leads.csv", index=False)
    if activities is not None:
        frame(activities).to_csv(folder / "activities.csv", index=False)
    return folder


# METHODS.md §3: 10 leads (attempts/state) 1W, 1L, 2W, 2C, 3W, 3C, 4L, 4C, 5W, 6C
FIXTURE = [
    (1, "W"),
    (1, "L"),
    (2, "W"),
    (2, "C-open"),
    (3, "W"),
    (3, "C-abandoned"),
    (4, "L"),
    (4, "C-open"),
    (5, "W"),
    (6, "C-open"),
]
PRINTED = {  # k: n_k, h^W, h^L, S(k-1), F(k), A(k), as printed in METHODS.md
    1: (10, ".100", ".100", "1.000", ".1000", "1.000"),
    2: (8, ".125", "0", ".800", ".2000", "1.800"),
    3: (6, ".167", "0", ".700", ".3167", "2.500"),
    4: (4, "0", ".250", ".583", ".3167", "3.083"),
    5: (2, ".500", "0", ".438", ".5354", "3.521"),
    6: (1, "0", "0", ".219", ".5354", "3.740"),
}


def close_to_printed(value: float, text: str) -> bool:
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(value - float(text)) <= 0.5 * 10.0**-decimals + 1e-12


def methods_crm(folder: Path) -> Path:
    """The METHODS fixture as a CRM export, with traps around it: a meeting and an SMS (not
    attempt kinds), an email exactly at the close and one after it (not before the close), a
    recent lead (not stale) and its calls."""
    t0 = datetime(2024, 9, 2, 9, 0, tzinfo=UTC)
    leads: list[dict[str, Any]] = []
    acts: list[dict[str, Any]] = []
    revenues = iter([1_000.0, 2_000.0, 2_500.0, 2_500.0])
    for i, (m, state) in enumerate(FIXTURE, start=1):
        lid = f"L{i:02d}"
        created = t0 + timedelta(days=i)
        calls = [created + timedelta(hours=2 * j + 1) for j in range(m)]
        closed = calls[-1] + timedelta(minutes=5)
        status = {"W": "won", "L": "lost", "C-open": "open", "C-abandoned": "lost"}[state]
        leads.append(
            {
                "lead_id": lid,
                "created_at": created,
                "segment": "mid-market",
                "status": status,
                "closed_at": closed if status != "open" else None,
                "revenue": next(revenues) if status == "won" else None,
            }
        )
        for j, at in enumerate(calls):
            last = j == m - 1
            outcome = "connected" if last and state in ("W", "L") else "no_answer"
            acts.append(
                {
                    "lead_id": lid,
                    "at": at,
                    "kind": "call" if j % 2 == 0 else "email",
                    "outcome": outcome,
                }
            )
        if status != "open":
            acts.append({"lead_id": lid, "at": closed, "kind": "email", "outcome": "sent"})
            acts.append(
                {
                    "lead_id": lid,
                    "at": closed + timedelta(days=1),
                    "kind": "call",
                    "outcome": "connected",
                }
            )
        acts.append(
            {
                "lead_id": lid,
                "at": calls[0] + timedelta(minutes=1),
                "kind": "sms",
                "outcome": "sent",
            }
        )
        if state == "W":
            acts.append(
                {
                    "lead_id": lid,
                    "at": calls[-1] + timedelta(minutes=1),
                    "kind": "meeting",
                    "outcome": "connected",
                }
            )
    recent = AS_OF - timedelta(hours=2)  # younger than the wins' p90 lag (hours): immature
    leads.append(
        {
            "lead_id": "L11",
            "created_at": recent,
            "segment": "mid-market",
            "status": "open",
            "closed_at": None,
            "revenue": None,
        }
    )
    acts += [
        {
            "lead_id": "L11",
            "at": recent + timedelta(hours=h),
            "kind": "call",
            "outcome": "no_answer",
        }
        for h in (0.5, 1.5)
    ]
    return write_crm(folder, leads, acts)


# --------------------------------------------------------------------------- METHODS fixture


def test_methods_fixture_through_the_engine(tmp_path: Path) -> None:
    # the fixed-age rule (stale after 90 days): the recent lead L11 is left out
    with connect(methods_crm(tmp_path / "crm"), settings=Settings(as_of=AS_OF)) as ws:
        res = from_workspace(ws, B=200, stale_after_days=90)
        mature = from_workspace(ws, B=50)
    assert res.excluded == {"not_stale": 1}
    # the maturity rule (METHODS §1, wins close within hours here) leaves out the same lead
    assert mature.excluded == {"immature": 1} and mature.cutoff is not None
    assert mature.groups["mid-market"].censored.tolist() == [0, 0, 1, 1, 1, 0, 1]
    assert "mature leads" in mature.to_dict()["population"]
    assert res.bound_shown is None
    g = res.groups["mid-market"]
    assert (g.leads, g.ambiguous_leads) == (10, 0)
    assert g.won.tolist() == [0, 1, 1, 1, 0, 1, 0]
    assert g.lost.tolist() == [0, 1, 0, 0, 1, 0, 0]
    assert g.censored.tolist() == [0, 0, 1, 1, 1, 0, 1]
    t = res["mid-market"].table
    assert t.at_risk is not None
    for k, (n, hw, hl, s, f, a) in PRINTED.items():
        i = k - 1
        assert int(t.at_risk[i]) == n
        assert close_to_printed(float(t.win_hazard[i]), hw), (k, t.win_hazard[i])
        assert close_to_printed(float(t.lost_hazard[i]), hl), (k, t.lost_hazard[i])
        assert close_to_printed(float(t.survival_before[i]), s), (k, t.survival_before[i])
        assert close_to_printed(float(t.cumulative_conversion[i]), f)
        assert close_to_printed(float(t.expected_attempts[i]), a)
    # V = mean revenue of the won leads (1,000, 2,000, 2,500, 2,500) = 2,000; c = 60/6 = 10
    assert res["mid-market"].value == 2_000.0
    assert res.cost_per_attempt == 10.0
    assert res["mid-market"].optimal_attempts == 5  # as group_attempts' doctest


def test_to_dict_has_the_spec_keys(tmp_path: Path) -> None:
    with connect(methods_crm(tmp_path / "crm"), settings=Settings(as_of=AS_OF)) as ws:
        res = from_workspace(ws, B=100, margin=0.5)
    d = json.loads(json.dumps(res.to_dict()))
    assert set(d) == SPEC_TOP | EXTRA_TOP
    group = d["groups"]["mid-market"]
    assert SPEC_GROUP <= set(group)
    assert all(SPEC_ROW <= set(r) for r in group["table"])
    assert group["value"] == 1_000.0  # 2,000 × margin 0.5
    assert "margin 0.5" in group["value_basis"]
    frame = res.to_frame()
    assert len(frame) == 6 and set(frame.group) == {"mid-market"}
    assert frame.expected_profit.tolist() == [r["expected_profit"] for r in group["table"]]


def test_by_other_columns_and_all(tmp_path: Path) -> None:
    with connect(methods_crm(tmp_path / "crm"), settings=Settings(as_of=AS_OF)) as ws:
        everyone = from_workspace(ws, by="", B=50)
        by_status = from_workspace(ws, by=("segment", "source"), B=50)
        with pytest.raises(ConfigError, match='cannot group attempts by "revenue"'):
            from_workspace(ws, by="revenue")
    assert list(everyone.groups) == ["all"]
    assert list(by_status.groups) == ["mid-market / (none)"]
    assert everyone["all"].table.at_risk.tolist() == [10, 8, 6, 4, 2, 1]  # type: ignore[union-attr]


def test_stale_cutoff_is_strict(tmp_path: Path) -> None:
    cut = AS_OF - timedelta(days=90)
    leads = [
        {
            "lead_id": f"S{i}",
            "created_at": cut + timedelta(seconds=s),
            "segment": "x",
            "status": "lost",
            "closed_at": cut + timedelta(days=1),
            "revenue": None,
        }
        for i, s in enumerate((-1, 0, 1))
    ]
    acts = [
        {
            "lead_id": r["lead_id"],
            "at": cut + timedelta(hours=1),
            "kind": "call",
            "outcome": "connected",
        }
        for r in leads
    ]
    with connect(write_crm(tmp_path / "crm", leads, acts), settings=Settings(as_of=AS_OF)) as ws:
        res = from_workspace(ws, B=20, stale_after_days=90)
    assert res.excluded == {"not_stale": 2}
    assert res.groups["x"].lost.tolist() == [0, 1]


# --------------------------------------------------------------------------- counts and bounds


def count_only_leads(n: int = 40) -> list[dict[str, Any]]:
    """Leads with a contact count and no activities (like the UCI bank file)."""
    rng = np.random.default_rng(3)
    out = []
    for i in range(n):
        status = ["won", "lost", "lost", "open"][i % 4]
        out.append(
            {
                "lead_id": f"K{i:03d}",
                "created_at": datetime(2024, 1, 1, tzinfo=UTC),
                "segment": "smb",
                "status": status,
                "closed_at": datetime(2024, 3, 1, tzinfo=UTC) if status != "open" else None,
                "revenue": None,
                "attempts": int(rng.integers(1, 6)),
            }
        )
    return out


def test_count_only_data_gives_both_bounds(tmp_path: Path) -> None:
    crm = write_crm(tmp_path / "crm", count_only_leads(), None)
    with connect(crm, settings=Settings(as_of=AS_OF)) as ws:
        with pytest.raises(MissingValueError, match="--value EUR"):
            from_workspace(ws, B=50)
        lower = from_workspace(ws, B=50, value=500.0)
        upper = from_workspace(ws, B=50, value=500.0, bound="upper")
    g = lower.groups["smb"]
    assert g.ambiguous_leads == 20 and g.lost.sum() == 0
    assert lower.bound_shown == "lower" and upper.bound_shown == "upper"
    lo, hi = lower["smb"], upper["smb"]
    assert lo.table.lost is not None and int(lo.table.lost.sum()) == 20  # treated as lost
    assert hi.table.lost is not None and int(hi.table.lost.sum()) == 0  # treated as censored
    assert np.all(lo.table.cumulative_conversion <= hi.table.cumulative_conversion + 1e-12)
    assert g.bounds is not None
    assert g.bounds["upper"].optimal_attempts == hi.optimal_attempts
    assert g.bounds["upper"].optimal_attempts_ci == hi.optimal_attempts_ci
    d = lower.to_dict()["groups"]["smb"]
    assert set(d["bounds"]) == {"lower", "upper"}
    assert any("treated as lost" in w for w in lower.warnings)


def test_activity_rows_win_over_the_count_column(tmp_path: Path) -> None:
    leads = count_only_leads(8)
    acts = [
        {
            "lead_id": "K000",
            "at": datetime(2024, 1, 2, tzinfo=UTC),
            "kind": "call",
            "outcome": "connected",
        }
    ]
    leads[0]["revenue"] = 900.0
    leads[0]["attempts"] = 4
    leads[4]["attempts"] = 3
    crm = write_crm(tmp_path / "crm", leads, acts)
    with connect(crm, settings=Settings(as_of=AS_OF)) as ws:
        counts = count_attempts(ws.leads, ws.activities, as_of=AS_OF).execute()
    won = counts[counts.state == "W"]
    k000 = leads[0]
    assert k000["status"] == "won" and k000["attempts"] != 1
    # K000 has one activity row: 1 attempt (not its count column); the other won lead its count
    assert dict(zip(won.attempts, won.leads, strict=True)) == {1: 1, 3: 1}
    assert counts[counts.state == "A"].leads.sum() == 4


def test_lost_without_outcomes_is_ambiguous_with_outcomes_censored(tmp_path: Path) -> None:
    t = datetime(2024, 2, 1, tzinfo=UTC)
    leads = [
        {
            "lead_id": i,
            "created_at": t,
            "segment": "x",
            "status": "lost",
            "closed_at": t + timedelta(days=3),
            "revenue": None,
        }
        for i in "abcd"
    ]
    acts = [
        {"lead_id": "a", "at": t + timedelta(hours=1), "kind": "call", "outcome": "voicemail"},
        {"lead_id": "b", "at": t + timedelta(hours=1), "kind": "call", "outcome": None},
        {"lead_id": "c", "at": t + timedelta(hours=1), "kind": "email", "outcome": "replied"},
        {"lead_id": "d", "at": t + timedelta(hours=1), "kind": "meeting", "outcome": None},
    ]
    with connect(write_crm(tmp_path / "crm", leads, acts), settings=Settings(as_of=AS_OF)) as ws:
        counts = count_attempts(ws.leads, ws.activities, as_of=AS_OF).execute()
    got = sorted(zip(counts.attempts, counts.state, counts.leads, strict=True))
    # a: reached nobody -> C; b: no outcome -> A; c: replied -> L; d: no attempt -> C at 0
    assert got == [(0, "C", 1), (1, "A", 1), (1, "C", 1), (1, "L", 1)]


def test_no_attempt_data_says_what_is_missing(tmp_path: Path) -> None:
    leads = [
        {"lead_id": "a", "created_at": datetime(2024, 1, 1, tzinfo=UTC), "segment": "x",
         "status": "won", "closed_at": datetime(2024, 2, 1, tzinfo=UTC), "revenue": 100.0},
    ]  # fmt: skip
    with connect(write_crm(tmp_path / "crm", leads, None), settings=Settings(as_of=AS_OF)) as ws:
        res = from_workspace(ws, B=20)
    assert res["x"].table.max_attempt == 0 and res["x"].won_without_attempt == 1
    assert any("needs an activities table" in w for w in res.warnings)


def test_sql_is_inspectable(tmp_path: Path) -> None:
    with connect(methods_crm(tmp_path / "crm"), settings=Settings(as_of=AS_OF)) as ws:
        sql = attempts_sql(ws.leads, ws.activities, as_of=AS_OF)
    assert "activities" in sql and "GROUP BY" in sql


def test_bad_options(tmp_path: Path) -> None:
    with connect(methods_crm(tmp_path / "crm"), settings=Settings(as_of=AS_OF)) as ws:
        with pytest.raises(ConfigError, match="bound"):
            from_workspace(ws, bound="middle")
        with pytest.raises(ConfigError, match="margin"):
            from_workspace(ws, margin=1.5)
        with pytest.raises(ConfigError, match="attempt_kinds"):
            from_workspace(ws, attempt_kinds=())
        res = from_workspace(ws, stale_after_days=10_000, B=10)
    assert res.groups == {} and res.excluded == {"not_stale": 11}
    assert any("No lead to analyse" in w for w in res.warnings)


# --------------------------------------------------------------------------- charts


def test_charts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with connect(methods_crm(tmp_path / "crm"), settings=Settings(as_of=AS_OF)) as ws:
        res = from_workspace(ws, B=100)
    ret = figure(res)
    names = [t.name for t in ret.data]
    assert "mid-market" in names and any("N* ≥ 5" in (n or "") for n in names)
    profit = figure(res, "profit")
    assert any(getattr(t, "fill", None) == "toself" for t in profit.data)  # the band
    naive = figure(res, "naive")
    assert any(
        "naive cohort rate — biased: the outcome decides the count" in (t.name or "")
        for t in naive.data
    )
    with pytest.raises(ValueError, match="kind"):
        figure(res, "pie")
    monkeypatch.setitem(sys.modules, "kaleido", None)  # as on a machine without kaleido
    files = write_chart(res, tmp_path / "out" / "attempts.html", png=True)
    html = files.html.read_text(encoding="utf-8")
    assert files.png is None and files.note is not None and "kaleido" in files.note
    assert "<script" in html and "plotly" in html.lower() and len(html) > 1_000_000
    assert "biased: the outcome decides the count" in html
    assert not (tmp_path / "out" / "attempts.png").exists()


# --------------------------------------------------------------------------- CLI


def test_cli_json_csv_table(tmp_path: Path) -> None:
    from leadsla.cli import app

    crm = methods_crm(tmp_path / "crm")
    runner = CliRunner()
    base = ["attempts", str(crm), "--as-of", AS_OF.isoformat(), "--bootstrap", "100"]
    r = runner.invoke(
        app, [*base, "--format", "json", "--hourly-cost", "120", "--attempts-per-hour", "6"]
    )
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["cost_per_attempt"] == 20.0 and set(d) == SPEC_TOP | EXTRA_TOP | RUN_KEYS
    out = tmp_path / "lt.csv"
    r = runner.invoke(app, [*base, "--format", "csv", "--out", str(out)])
    assert r.exit_code == 0, r.output
    frame = pd.read_csv(out)
    assert frame.attempt.tolist() == [1, 2, 3, 4, 5, 6] and set(frame.group) == {"mid-market"}
    chart = tmp_path / "c.html"
    r = runner.invoke(app, [*base, "--chart", str(chart), "--smooth", "isotonic"])
    assert r.exit_code == 0, r.output
    assert "life table" in r.stdout and "N*" in r.stdout and chart.is_file()
    r = runner.invoke(app, [*base, "--smooth", "wiggly"])
    assert r.exit_code != 0


def test_cli_missing_value_names_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadsla.cli import main

    monkeypatch.setenv("COLUMNS", "400")
    crm = write_crm(tmp_path / "crm", count_only_leads(), None)
    monkeypatch.setattr(
        sys,
        "argv",
        ["leadsla", "attempts", str(crm), "--as-of", AS_OF.isoformat(), "--bootstrap", "20"],
    )
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "--value EUR" in err and "Traceback" not in err
    monkeypatch.setattr(
        sys, "argv", ["leadsla", "sql", "attempts", str(crm), "--as-of", AS_OF.isoformat()]
    )
    main()
    assert "GROUP BY" in capsys.readouterr().out


# --------------------------------------------------------------------------- UCI bank data


def test_bank_marketing_hazards_equal_direct_counts() -> None:
    df = pd.read_csv(BANK, sep=";")
    m, yes = df["campaign"].to_numpy(), (df["y"] == "yes").to_numpy()
    k_max = int(m.max())
    ks = np.arange(1, k_max + 1)
    n_k = np.array([(m >= k).sum() for k in ks])
    won_k = np.array([(yes & (m == k)).sum() for k in ks])
    with connect(BANK, mapping="bank-marketing") as ws:
        res = from_workspace(ws, by="", value=1_000.0, B=200)
    assert res.excluded == {}  # dated 2008: all stale
    assert res.bound_shown == "lower"
    g = res.groups["all"]
    assert g.leads == len(df) and g.ambiguous_leads == int((~yes).sum())
    bounds = g.bounds
    assert bounds is not None
    for name in ("lower", "upper"):
        t = bounds[name].table
        assert t.at_risk is not None and t.won is not None
        assert t.at_risk.tolist() == n_k.tolist(), name
        assert t.won.tolist() == won_k.tolist(), name
        np.testing.assert_allclose(t.win_hazard, won_k / n_k, rtol=1e-12, atol=0)
    # every client closed: with the ambiguous leads lost (lower bound) nobody is censored, so
    # F(N) = wins by attempt N / clients, and F(N) / F(K) = the cumulative share of wins
    low = bounds["lower"].table
    np.testing.assert_allclose(low.cumulative_conversion, np.cumsum(won_k) / len(df), rtol=1e-9)
    share = low.cumulative_conversion / low.cumulative_conversion[-1]
    np.testing.assert_allclose(share, np.cumsum(won_k) / won_k.sum(), rtol=1e-9)


# --------------------------------------------------------------------------- synthetic truth


@pytest.fixture(scope="session")
def synthetic_500k(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[AttemptsResult, dict[str, Any]]]:
    """500,000 synthetic leads (Parquet) with their truth, analysed once per session."""
    from leadsla.synth import generate

    out = tmp_path_factory.mktemp("synth500k")
    made = generate(out, leads=500_000, seed=1)
    truth = made.truth
    as_of = datetime.fromisoformat(truth["as_of"])
    with connect(out, settings=Settings(as_of=as_of, time_zone=truth["time_zone"])) as ws:
        res = attempt_analysis(
            ws.leads,
            ws.activities,
            as_of=ws.as_of,
            cost_per_attempt=truth["cost_per_attempt"],
            B=1000,
            seed=0,
        )
    yield res, truth


@pytest.mark.slow
def test_synthetic_crm_recovers_the_truth(
    synthetic_500k: tuple[AttemptsResult, dict[str, Any]],
) -> None:
    res, truth = synthetic_500k
    segs = truth["segments"]
    assert set(res.groups) == set(segs)
    identified = [s for s, t in segs.items() if t["optimum_identified"]]
    beyond = [s for s, t in segs.items() if not t["optimum_identified"]]
    assert identified and beyond
    for s in identified:
        lo, hi = res[s].optimal_attempts_ci
        assert lo <= segs[s]["optimal_attempts"] <= hi, (s, res[s].optimal_attempts_ci)
        assert res[s].identified
    for s in beyond:
        assert not res[s].identified, s
    for s, t in segs.items():
        table = res[s].table
        assert table.at_risk is not None and table.won is not None
        assert table.naive_cohort_rate is not None
        lo, hi = wilson_interval(int(table.won[0]), int(table.at_risk[0]))
        h1 = t["win_hazard"][0]
        assert lo <= h1 <= hi, (s, h1, lo, hi)
        naive = float(table.naive_cohort_rate[0])
        assert not lo <= naive <= hi and naive > 3 * h1, (s, naive)
        assert abs(res[s].value - t["mean_revenue"]) < 0.05 * t["mean_revenue"]


# --------------------------------------------------------------------------- DuckDB vs PySpark

LEADS_SCHEMA = {
    "lead_id": "string",
    "created_at": "timestamp('UTC')",
    "segment": "string",
    "status": "string",
    "closed_at": "timestamp('UTC')",
    "revenue": "float64",
    "attempts": "int64",
}
ACTS_SCHEMA = {"lead_id": "string", "at": "timestamp('UTC')", "kind": "string", "outcome": "string"}


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local Spark session for the whole run (startup ~30 s), stopped at the end; its
    warehouse in a temporary folder (never ./spark-warehouse)."""
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (
        SparkSession.builder.master("local[1]")
        .appName("leadsla-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.log.level", "ERROR")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    yield session
    session.stop()


def arrow(rows: list[dict[str, Any]], schema: dict[str, str]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=ibis.schema(schema).to_pyarrow())


class Engine:
    """The same tables on DuckDB or PySpark; ``rows(expr)`` runs an expression there."""

    def __init__(self, name: str, spark: Any | None) -> None:
        self.name = name
        self.spark = spark
        self.con = ibis.duckdb.connect() if spark is None else ibis.pyspark.connect(spark)
        self.n = 0

    def load(self, rows: list[dict[str, Any]], schema: dict[str, str]) -> ibis.Table:
        self.n += 1
        name = f"t{self.n}_{id(self)}"
        table = arrow(rows, schema)
        if self.spark is None:  # (a bare pa.Table trips ibis 12 on duckdb 2: DROP VIEW "")
            return self.con.create_table(name, ibis.memtable(table))
        # typed rows straight into Spark: ibis' pandas route would turn null text into "NaN"
        from pyspark.sql.types import (
            DoubleType,
            LongType,
            StringType,
            StructField,
            StructType,
            TimestampType,
        )

        kinds = {"string": StringType(), "float64": DoubleType(), "int64": LongType()}
        struct = StructType(
            [StructField(c, kinds.get(t, TimestampType()), True) for c, t in schema.items()]
        )
        self.spark.createDataFrame(table.to_pylist(), schema=struct).createOrReplaceTempView(name)
        return self.con.table(name)

    def rows(self, expr: ibis.Table) -> list[tuple[Any, ...]]:
        if self.spark is None:
            out = [tuple(r.values()) for r in expr.to_pyarrow().to_pylist()]
        else:  # Spark's toPandas (behind execute) warns under pandas 3; collect rows instead
            out = [tuple(r) for r in self.con.raw_sql(self.con.compile(expr)).collect()]
        return sorted((*r[:-2], round(r[-2], 6) if r[-2] is not None else None, r[-1]) for r in out)

    def close(self) -> None:
        if self.spark is None:
            self.con.disconnect()


@pytest.fixture(params=["duckdb", "pyspark"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    spark = request.getfixturevalue("spark") if request.param == "pyspark" else None
    e = Engine(request.param, spark)
    yield e
    e.close()


def portable_crm() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A small synthetic CRM with every case: count-only leads, activity rows beside a count,
    activities without outcomes, null segments."""
    from leadsla.synth import generate_frames

    frames = generate_frames(leads=800, seed=5)
    leads = pa.Table.from_pandas(frames.leads, preserve_index=False).to_pylist()
    acts = pa.Table.from_pandas(frames.activities, preserve_index=False).to_pylist()
    for i, r in enumerate(leads):
        r["attempts"] = 99 if i % 50 == 0 else None  # has activity rows: they win
        if i % 97 == 0:
            r["segment"] = None
    for r in acts:
        if r["lead_id"].endswith("7"):
            r["outcome"] = None
    for i in range(60):
        status = ["won", "lost", "lost", "open"][i % 4]
        created = datetime(2025, 3, 1, tzinfo=UTC) + timedelta(days=i)
        leads.append(
            {
                "lead_id": f"K{i:03d}",
                "created_at": created,
                "segment": None if i % 7 == 0 else "smb",
                "status": status,
                "closed_at": created + timedelta(days=20) if status != "open" else None,
                "revenue": 1_000.0 + i if status == "won" else None,
                "attempts": i % 6 if i % 11 else None,
            }
        )
    keep = set(LEADS_SCHEMA)
    return [{k: v for k, v in r.items() if k in keep} for r in leads], [
        {k: v for k, v in r.items() if k in ACTS_SCHEMA} for r in acts
    ]


@pytest.fixture(scope="module")
def duckdb_counts() -> list[tuple[Any, ...]]:
    leads, acts = portable_crm()
    e = Engine("duckdb", None)
    try:
        return e.rows(
            count_attempts(
                e.load(leads, LEADS_SCHEMA), e.load(acts, ACTS_SCHEMA), as_of="2026-06-30T16:00:00Z"
            )
        )
    finally:
        e.close()


def test_duckdb_and_pyspark_count_the_same(
    spark: Any, duckdb_counts: list[tuple[Any, ...]]
) -> None:
    leads, acts = portable_crm()
    e = Engine("pyspark", spark)
    got = e.rows(
        count_attempts(
            e.load(leads, LEADS_SCHEMA), e.load(acts, ACTS_SCHEMA), as_of="2026-06-30T16:00:00Z"
        )
    )
    assert got == duckdb_counts
    states = {r[2] for r in got}
    assert {"W", "L", "C", "A", "X"} <= states
    assert any(r[0] == "(none)" for r in got)


def trap_crm() -> tuple[list[dict[str, Any]], list[dict[str, Any]], datetime]:
    """Closes on the instants Europe/Berlin switches clocks (2025-03-30 and 2025-10-26,
    01:00 UTC), activities one second either side and exactly at the close; leads created one
    second either side of the stale cutoff, itself on a switch."""
    spring = datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
    autumn = datetime(2025, 10, 26, 1, 0, tzinfo=UTC)
    as_of = autumn + timedelta(days=90)
    cutoff = as_of - timedelta(days=90)  # = autumn
    s = timedelta(seconds=1)
    leads, acts = [], []

    def lead(lid: str, created: datetime, status: str, closed: datetime | None) -> None:
        leads.append(
            {
                "lead_id": lid,
                "created_at": created,
                "segment": "dst",
                "status": status,
                "closed_at": closed,
                "revenue": 10.0 if status == "won" else None,
                "attempts": None,
            }
        )

    def act(lid: str, at: datetime, outcome: str | None = "no_answer", kind: str = "call") -> None:
        acts.append({"lead_id": lid, "at": at, "kind": kind, "outcome": outcome})

    t0 = datetime(2025, 3, 29, 12, tzinfo=UTC)
    for close, tag in ((spring, "spring"), (autumn - timedelta(days=200), "plain")):
        lead(f"{tag}-won", t0 - timedelta(days=30), "won", close)
        act(f"{tag}-won", close - timedelta(hours=3))
        act(f"{tag}-won", close - s, "connected")  # counts: 1 s before
        act(f"{tag}-won", close)  # at the close: not before
        act(f"{tag}-won", close + s)  # after
        lead(f"{tag}-lost", t0 - timedelta(days=30), "lost", close)
        act(f"{tag}-lost", close - s)
        act(f"{tag}-lost", close, "connected")  # contact at the close instant: L, 1 attempt
    # across the autumn switch: 01:59:59 CEST -> the clock falls back; 1 h 0 min 2 s of wall
    # clock but 2 s of real time
    lead("autumn-won", t0 - timedelta(days=30), "won", autumn + s)
    act("autumn-won", autumn - timedelta(hours=1))
    act("autumn-won", autumn - s, "connected")
    act("autumn-won", autumn + 2 * s)
    # the stale cutoff
    lead("stale-1s", cutoff - s, "open", None)
    act("stale-1s", cutoff)
    act("stale-1s", cutoff + timedelta(days=1))
    lead("at-cutoff", cutoff, "open", None)
    act("at-cutoff", cutoff + s)
    lead("fresh+1s", cutoff + s, "open", None)
    act("fresh+1s", cutoff + 2 * s)
    return leads, acts, as_of


def test_timestamp_trap(engine: Engine) -> None:
    leads, acts, as_of = trap_crm()
    expr = count_attempts(
        engine.load(leads, LEADS_SCHEMA), engine.load(acts, ACTS_SCHEMA), as_of=as_of
    )
    got = {(r[1], r[2], r[3]): r[4] for r in engine.rows(expr)}
    assert got == {
        (2, "W", ""): 3,  # spring-won, plain-won, autumn-won: 2 attempts before the close each
        (1, "L", ""): 2,  # spring-lost, plain-lost
        (2, "C", ""): 1,  # stale-1s: open, both activities count
        (0, "X", "not_stale"): 2,  # at-cutoff, fresh+1s
    }, engine.name


def test_cli_zero_cost_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadsla.cli import main

    monkeypatch.setenv("COLUMNS", "400")
    crm = methods_crm(tmp_path / "crm")
    base = ["leadsla", "attempts", str(crm), "--as-of", AS_OF.isoformat(), "--bootstrap", "50"]
    for extra, says in (
        (["--hourly-cost", "0"], "hourly_cost_eur (0) must be above 0"),
        (["--hourly-cost", "1e-300", "--attempts-per-hour", "1e300"], "cost per attempt of 0"),
    ):
        monkeypatch.setattr(sys, "argv", [*base, *extra])
        with pytest.raises(SystemExit) as exit_:
            main()
        assert exit_.value.code == 1
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err
