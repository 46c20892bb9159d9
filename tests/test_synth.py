"""The synthetic CRM: reproducible, canonical schema, internally consistent, and its truth.json
is what an analyst would estimate from the data it writes."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsla import synth
from leadsla.synth import SCHEMAS, SynthFrames, generate, generate_frames

ATTEMPT_KINDS = ("call", "email")
CONTACT = ("connected", "replied")
TABLES = ("leads", "activities", "campaigns", "touches")


@pytest.fixture(scope="module")
def frames() -> SynthFrames:
    return generate_frames(leads=30_000, seed=3)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, synth.SynthResult]:
    base = tmp_path_factory.mktemp("synth")
    calls: list[tuple[int, int]] = []
    out = {
        "parquet": generate(
            base / "pq",
            leads=30_000,
            seed=3,
            chunk_size=1,
            progress=lambda d, t: calls.append((d, t)),
        ),
        "csv": generate(base / "csv", leads=30_000, seed=3, format="csv", chunk_size=10_000),
    }
    assert calls == [(25_000, 30_000), (30_000, 30_000)]  # one call per chunk of whole blocks
    return out


def _isin(values: pd.Series | pd.Index, among: pd.Series) -> np.ndarray:
    """``values.isin(among)`` in Arrow (pandas' str isin walks ``among`` in Python)."""
    found = pc.is_in(
        pa.array(np.asarray(values, dtype=object), type=pa.string()),
        value_set=pa.array(np.asarray(among.unique(), dtype=object), type=pa.string()),
    )
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _attempt_counts(f: SynthFrames) -> pd.DataFrame:
    """Per lead: attempts strictly before closed_at (METHODS §3) and the state W / L / C."""
    leads = f.leads.set_index("lead_id")
    act = f.activities[f.activities["kind"].isin(ATTEMPT_KINDS)]
    act = act.join(leads["closed_at"], on="lead_id")
    act = act[act["closed_at"].isna() | (act["at"] < act["closed_at"])]
    m = act.groupby("lead_id").size().reindex(leads.index, fill_value=0)
    contacted = _isin(leads.index, act.loc[act["outcome"].isin(CONTACT), "lead_id"])
    state = np.where(
        leads["status"] == "won", "W", np.where((leads["status"] == "lost") & contacted, "L", "C")
    )
    return pd.DataFrame(
        {"segment": leads["segment"], "status": leads["status"], "m": m, "state": state},
        index=leads.index,
    )


def _check_consistency(f: SynthFrames) -> None:
    """Every invariant the analyses rely on."""
    leads, act, touches = f.leads, f.activities, f.touches
    as_of = pd.Timestamp(f.truth["as_of"])
    assert leads["lead_id"].is_unique
    assert act["activity_id"].is_unique
    assert _isin(act["lead_id"], leads["lead_id"]).all()
    assert _isin(touches["lead_id"], leads["lead_id"]).all()
    assert set(leads["status"].unique()) <= {"open", "won", "lost"}
    assert set(leads["source"].unique()) <= {"marketing", "sales", "partner"}
    assert set(act["kind"].unique()) <= {"call", "email", "meeting", "sms"}
    assert set(act["outcome"].unique()) <= {
        "connected",
        "no_answer",
        "voicemail",
        "sent",
        "replied",
    }
    assert set(touches["team"].unique()) <= {"marketing", "sales", "partner"}

    # status, closed_at, revenue
    won, lost, open_ = (leads["status"] == s for s in ("won", "lost", "open"))
    assert leads.loc[won | lost, "closed_at"].notna().all()
    assert leads.loc[open_, "closed_at"].isna().all()
    assert (leads.loc[won, "revenue"] > 0).all()
    assert leads.loc[~won, "revenue"].isna().all()
    assert (leads["created_at"] <= as_of).all()
    closed = leads["closed_at"].dropna()
    assert (closed <= as_of).all()
    assert (closed >= leads.loc[closed.index, "created_at"]).all()
    # campaign only for marketing leads; MQL time at or a little after creation
    marketing = leads["source"] == "marketing"
    assert leads.loc[marketing, "campaign"].notna().all()
    assert leads.loc[~marketing, "campaign"].isna().all()
    assert leads.loc[~marketing, "mql_at"].isna().all()
    lag = leads.loc[marketing, "mql_at"] - leads.loc[marketing, "created_at"]
    assert ((lag >= pd.Timedelta(0)) & (lag <= pd.Timedelta(minutes=30))).all()

    # activity times: after creation, not after as_of; attempts strictly before closed_at
    a = act.join(leads.set_index("lead_id")[["created_at", "closed_at", "status"]], on="lead_id")
    assert (a["at"] >= a["created_at"]).all()
    assert (a["at"] <= as_of).all()
    att = a[a["kind"].isin(ATTEMPT_KINDS)]
    done = att[att["closed_at"].notna()]
    assert (done["at"] < done["closed_at"]).all()
    # the deciding attempt of a won / lost-after-contact lead is 2-15 minutes before closing
    last = done.groupby("lead_id").agg(at=("at", "max"), closed_at=("closed_at", "first"))
    contact = done[done["outcome"].isin(CONTACT)]
    assert contact["lead_id"].is_unique  # one contact per lead: the one that decides it
    decided = last.loc[contact["lead_id"]]
    gap = decided["closed_at"] - decided["at"]
    assert ((gap >= pd.Timedelta(minutes=2)) & (gap <= pd.Timedelta(minutes=15))).all()
    assert (contact.set_index("lead_id")["at"] == decided["at"]).all()
    # every won lead was contacted; abandoned leads (lost, never connected) close hours later
    won_ids = leads.loc[won, "lead_id"]
    assert _isin(won_ids, contact["lead_id"]).all()
    abandoned = last.index.difference(contact["lead_id"])
    assert (
        (last.loc[abandoned, "closed_at"] - last.loc[abandoned, "at"]) >= pd.Timedelta(hours=1)
    ).all()
    # meetings and SMS only for won leads, after closing
    other = a[~a["kind"].isin(ATTEMPT_KINDS)]
    assert (other["status"] == "won").all()
    assert (other["at"] > other["closed_at"]).all()
    # activities sorted by lead and time, ids numbered in that order
    assert act["lead_id"].is_monotonic_increasing
    assert (act.groupby("lead_id")["at"].diff().dropna() >= pd.Timedelta(0)).all()

    # touches: within the lead's life; every won lead has a path; marketing first touch
    t = touches.merge(
        leads[["lead_id", "created_at", "closed_at", "source", "campaign"]],
        on="lead_id",
        how="left",
        suffixes=("", "_lead"),
    )
    assert (t["at"] >= t["created_at"]).all()
    assert (t["at"] <= t["closed_at"].fillna(as_of)).all()
    assert _isin(won_ids, touches["lead_id"]).all()
    first = t.groupby("lead_id").first()
    mk = first[first["source"] == "marketing"]
    assert (mk["team"] == "marketing").all()
    assert (mk["at"] == mk["created_at"]).all()
    assert (mk["campaign"] == mk["campaign_lead"]).all()
    assert (first.loc[first["source"] == "partner", "team"] == "partner").all()
    assert (t.loc[t["team"] == "sales", "campaign"]).isna().all()


# --- reproducibility ---------------------------------------------------------------------------


def test_same_seed_same_files_different_seed_different(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", leads=3_000, seed=11)
    b = generate(tmp_path / "b", leads=3_000, seed=11)
    c = generate(tmp_path / "c", leads=3_000, seed=12)
    for name in (*TABLES, "truth"):
        assert _digest(a.files[name]) == _digest(b.files[name]), name
    for name in ("leads", "activities", "touches"):
        assert _digest(a.files[name]) != _digest(c.files[name]), name
    assert a.truth["segments"] == c.truth["segments"]  # the truth is the model's, not the seed's


def test_data_do_not_depend_on_chunk_size(
    written: dict[str, synth.SynthResult], frames: SynthFrames
) -> None:
    for name in TABLES:
        got = pq.read_table(written["parquet"].files[name]).to_pandas()
        pd.testing.assert_frame_equal(got, getattr(frames, name))


# --- schema ------------------------------------------------------------------------------------


def test_parquet_schema_is_canonical(written: dict[str, synth.SynthResult]) -> None:
    result = written["parquet"]
    for name in TABLES:
        schema = pq.read_schema(result.files[name])
        assert schema.names == SCHEMAS[name].names
        assert [f.type for f in schema] == [f.type for f in SCHEMAS[name]], name
        assert pq.read_metadata(result.files[name]).num_rows == result.rows[name]
    assert pq.read_metadata(result.files["leads"]).num_row_groups == 2  # written chunk by chunk


def test_frame_dtypes(frames: SynthFrames) -> None:
    ts = "datetime64[us, UTC]"
    expected = {
        "leads": {"lead_id": "str", "created_at": ts, "segment": "str", "campaign": "str",
                  "source": "str", "owner": "str", "status": "str", "closed_at": ts,
                  "revenue": "float64", "mql_at": ts},
        "activities": {"activity_id": "str", "lead_id": "str", "at": ts, "kind": "str",
                       "rep": "str", "outcome": "str"},
        "campaigns": {"campaign": "str", "type": "str", "cost": "float64"},
        "touches": {"lead_id": "str", "at": ts, "channel": "str", "team": "str", "campaign": "str"},
    }  # fmt: skip
    for name, cols in expected.items():
        df = getattr(frames, name)
        assert {c: str(t) for c, t in df.dtypes.items()} == cols, name


def test_ids(frames: SynthFrames) -> None:
    assert frames.leads["lead_id"].iloc[0] == "L0000001"
    assert frames.leads["lead_id"].str.fullmatch(r"L\d{7}").all()
    assert frames.activities["activity_id"].str.fullmatch(r"A\d{7}-\d{2}").all()
    assert (frames.activities["activity_id"].str[1:8] == frames.activities["lead_id"].str[1:]).all()


def test_csv_holds_the_same_data_as_parquet(written: dict[str, synth.SynthResult]) -> None:
    for name in TABLES:
        want = pq.read_table(written["parquet"].files[name]).to_pandas()
        path = written["csv"].files[name]
        text = path.read_text(encoding="utf-8")
        got = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        assert list(got.columns) == list(want.columns)
        for col, field in zip(SCHEMAS[name].names, SCHEMAS[name], strict=True):
            if str(field.type).startswith("timestamp"):
                assert (
                    got[col].dropna().str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00").all()
                )
                parsed = pd.to_datetime(got[col], utc=True, format="ISO8601").astype(
                    want[col].dtype
                )
                pd.testing.assert_series_equal(parsed, want[col], check_names=False)
            elif str(field.type) == "double":
                np.testing.assert_array_equal(got[col].astype(float), want[col].to_numpy())
            else:
                assert got[col].isna().tolist() == want[col].isna().tolist()
                assert (got[col].dropna() == want[col].dropna()).all()
        assert text.count("\n") == written["csv"].rows[name] + 1  # header once, chunked appends


def test_csv_timestamp_text_matches_strftime() -> None:
    """The fast byte-built ISO text agrees with Arrow's strftime, leap days and nulls included."""
    rng = np.random.default_rng(0)
    special = [951_782_400, 951_868_799, 946_684_799, 0, -1, 253_402_300_799]
    secs = np.r_[rng.integers(-2_208_988_800, 4_102_444_800, 20_000), special]
    valid = rng.random(secs.size) > 0.1
    valid[-len(special) :] = True
    want = pc.strftime(
        pa.array(secs, type=pa.timestamp("s"), mask=~valid), format="%Y-%m-%dT%H:%M:%S+00:00"
    )
    got = synth._iso_utc(secs, valid)
    assert got.equals(want)
    assert got[-1].as_py() == "9999-12-31T23:59:59+00:00"


# --- consistency -------------------------------------------------------------------------------


def test_consistency(frames: SynthFrames) -> None:
    _check_consistency(frames)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    leads=st.integers(1, 400),
    seed=st.integers(0, 2**32),
    tz=st.sampled_from(
        [
            "Europe/Berlin",
            "America/New_York",
            "Asia/Kolkata",
            "UTC",
            "Australia/Sydney",
            "America/Santiago",
        ]
    ),
    as_of=st.sampled_from([None, "2025-03-30T12:00", "2025-10-26T05:00", "2024-02-29T23:59:59"]),
)
def test_consistency_property(leads: int, seed: int, tz: str, as_of: str | None) -> None:
    f = generate_frames(leads=leads, seed=seed, time_zone=tz, as_of=as_of)
    assert len(f.leads) == leads
    _check_consistency(f)


# --- truth -------------------------------------------------------------------------------------


def test_truth_json_layout(written: dict[str, synth.SynthResult]) -> None:
    doc = json.loads(written["parquet"].files["truth"].read_text(encoding="utf-8"))
    assert doc == json.loads(json.dumps(written["parquet"].truth))
    for key in ("seed", "leads", "as_of", "time_zone", "cost_per_attempt", "segments",
                "close_rate", "response_time_effect", "buckets"):  # fmt: skip
        assert key in doc, key
    assert (doc["seed"], doc["leads"], doc["time_zone"]) == (3, 30_000, "Europe/Berlin")
    assert doc["as_of"] == "2026-06-30T16:00:00+00:00"  # 18:00 CEST
    assert set(doc["segments"]) == {"enterprise", "mid-market", "smb"}
    for seg in doc["segments"].values():
        for key in ("mean_revenue", "win_hazard", "lost_hazard", "optimal_attempts",
                    "optimum_identified", "max_attempts", "naive_rate_1"):  # fmt: skip
            assert key in seg, key
        assert len(seg["win_hazard"]) == len(seg["lost_hazard"]) == seg["max_attempts"] == 25
        assert all(0 < h < 1 for h in seg["win_hazard"])
    assert len(doc["close_rate"]) == len(doc["campaign_quality"]) - 2 == 10
    assert all(set(v) == set(doc["segments"]) for v in doc["close_rate"].values())
    labels = [b["bucket"] for b in doc["buckets"]]
    assert labels[0] == "<5 min" and labels[-1] == "never" and len(labels) == 8
    assert list(doc["response_time_effect"]) == labels[:-1]
    effect = list(doc["response_time_effect"].values())
    assert effect[0] == 1.5 and effect[-1] == 0.6 and effect == sorted(effect, reverse=True)


def test_true_optima() -> None:
    """smb and mid-market have interior optima; enterprise's lies beyond the data (N* = K)."""
    t = synth.truth(cost_per_attempt=10.0)
    seg = t["segments"]
    assert 4 <= seg["smb"]["optimal_attempts"] <= 6 and seg["smb"]["optimum_identified"]
    assert 7 <= seg["mid-market"]["optimal_attempts"] <= 10
    assert seg["mid-market"]["optimum_identified"]
    assert seg["enterprise"]["optimal_attempts"] == 25
    assert not seg["enterprise"]["optimum_identified"]
    for name, s in seg.items():
        h, c_over_v = np.array(s["win_hazard"]), 10.0 / s["mean_revenue"]
        assert (np.diff(h) < 0).all(), name  # decays with k
        n = s["optimal_attempts"]
        assert h[n - 1] >= c_over_v  # METHODS §3: the last N with h_N >= c/V
        assert n == 25 or h[n] < c_over_v
        assert s["expected_profit"][n - 1] == max(s["expected_profit"])
        assert s["naive_rate_1"] > 3 * h[0]  # the guide's cohort rate is badly biased
    cheaper = synth.truth(cost_per_attempt=1.0)["segments"]
    assert cheaper["smb"]["optimal_attempts"] > seg["smb"]["optimal_attempts"]


def test_truth_matches_the_data(frames: SynthFrames) -> None:
    """The life-table hazards, naive rates and close rates of the data estimate the truth."""
    counts = _attempt_counts(frames)
    truth = frames.truth["segments"]
    for name, g in counts.groupby("segment"):
        t = truth[str(name)]
        for k in (1, 2, 3):
            at_risk = int((g["m"] >= k).sum())
            h = ((g["m"] == k) & (g["state"] == "W")).sum() / at_risk
            se = math.sqrt(t["win_hazard"][k - 1] * (1 - t["win_hazard"][k - 1]) / at_risk)
            assert abs(h - t["win_hazard"][k - 1]) < 4.5 * se, (name, k, h)
            hl = ((g["m"] == k) & (g["state"] == "L")).sum() / at_risk
            se = math.sqrt(t["lost_hazard"][k - 1] / at_risk)
            assert abs(hl - t["lost_hazard"][k - 1]) < 4.5 * se, (name, k, hl)
        one = g[(g["m"] == 1) & (g["status"] != "open")]  # closed with exactly 1 attempt
        naive = (one["state"] == "W").mean()
        assert abs(naive - t["naive_rate_1"]) < 0.06, (name, naive)
    # mature close rates (created over 200 days before as_of) by segment and response bucket
    leads = frames.leads
    mature = leads[
        leads["created_at"] < pd.Timestamp(frames.truth["as_of"]) - pd.Timedelta(days=200)
    ]
    rates = (mature["status"] == "won").groupby(mature["segment"]).mean()
    for name, rate in rates.items():
        p = truth[str(name)]["close_rate"]
        n = (mature["segment"] == name).sum()
        assert abs(rate - p) < 4.5 * math.sqrt(p * (1 - p) / n), (name, rate, p)


# --- realism -----------------------------------------------------------------------------------


def test_realism(frames: SynthFrames) -> None:
    leads, truth = frames.leads, frames.truth
    local = leads["created_at"].dt.tz_convert("Europe/Berlin")
    business = (local.dt.day_of_week < 5) & (local.dt.hour >= 9) & (local.dt.hour < 18)
    assert 0.7 < business.mean() < 0.9
    assert (local.dt.day_of_week >= 5).any() and (local.dt.hour >= 18).any()
    span = leads["created_at"].max() - leads["created_at"].min()
    assert pd.Timedelta(days=500) < span <= pd.Timedelta(days=548)
    share = leads["source"].value_counts(normalize=True)
    assert abs(share["sales"] - 0.20) < 0.02 and abs(share["partner"] - 0.05) < 0.01
    assert 8 <= frames.campaigns.shape[0] <= 12 and frames.campaigns["cost"].gt(0).all()
    assert frames.campaigns["type"].nunique() >= 4
    assert leads["owner"].nunique() == 12 and leads["segment"].nunique() == 3
    # segments differ in close rate and deal size
    closed = leads[leads["status"] != "open"]
    rates = (closed["status"] == "won").groupby(closed["segment"]).mean()
    assert rates["smb"] > rates["mid-market"] + 0.02 > rates["enterprise"] + 0.02
    revenue = leads.groupby("segment")["revenue"].mean()
    assert revenue["enterprise"] > 2 * revenue["mid-market"] > 4 * revenue["smb"]
    assert abs(revenue["smb"] / truth["segments"]["smb"]["mean_revenue"] - 1) < 0.1
    # some leads still open (the recent ones), some never contacted
    is_open = leads["status"] == "open"
    assert 0.01 < is_open.mean() < 0.15
    assert leads.loc[is_open, "created_at"].median() > leads["created_at"].quantile(0.8)
    never = ~_isin(leads["lead_id"], frames.activities["lead_id"])
    assert 0.01 < never.mean() < 0.1
    # attempts spread from 1 to 25; a true speed-to-lead gradient in the truth
    m = _attempt_counts(frames)["m"]
    assert m.max() == 25 and (m == 1).sum() > 100
    by_bucket = list(truth["close_rate_by_bucket"].values())
    assert by_bucket[:-1] == sorted(by_bucket[:-1], reverse=True) and by_bucket[-1] == 0.0
    # campaigns x segments close rates differ
    cr = pd.DataFrame(truth["close_rate"])
    assert cr.to_numpy().max() > 2 * cr.to_numpy().min()


# --- arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"leads": 0},
        {"leads": 1.5},
        {"seed": -1},
        {"format": "xlsx"},
        {"chunk_size": 0},
        {"cost_per_attempt": 0},
        {"time_zone": "Mars/Olympus"},
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, **kwargs)  # type: ignore[arg-type]
