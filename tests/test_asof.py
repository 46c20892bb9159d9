"""One as-of and one time zone per source (issue 9): resolved when the source is opened,
never from the wall clock; the maturity rule of METHODS §1 (won leads' lag; no open lead →
every lead mature)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import leadsla
from leadsla.analysis.maturity import measure_maturity
from leadsla.analysis.value import mql_value_table
from leadsla.io.zones import infer_zone
from leadsla.settings import Settings
from leadsla.synth import generate

STAMPS = {"leads": ("created_at", "closed_at", "mql_at"), "activities": ("at",),
          "touches": ("at",)}  # fmt: skip


@pytest.fixture(scope="module")
def utc_crm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic CRM as CSV, timestamps written in UTC (+00:00), ending 2026-06-30 18:00
    Berlin time."""
    out = tmp_path_factory.mktemp("utc_crm")
    generate(out, leads=600, seed=3, format="csv")
    return out


def rewrite_stamps(src: Path, dst: Path, render: object) -> Path:
    """A copy of ``src`` whose timestamps are re-written by ``render(utc_series)``."""
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.glob("*.csv"):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        for col in STAMPS.get(f.stem, ()):
            if col in df.columns:
                has = df[col] != ""
                utc = pd.to_datetime(df.loc[has, col], utc=True, format="ISO8601")
                df.loc[has, col] = render(utc)  # type: ignore[operator]
        df.to_csv(dst / f.name, index=False)
    return dst


def berlin(utc: pd.Series) -> list[str]:
    return [t.isoformat() for t in utc.dt.tz_convert("Europe/Berlin")]


def naive(utc: pd.Series) -> list[str]:
    return [t.strftime("%Y-%m-%d %H:%M:%S") for t in utc]


# --------------------------------------------------------------------------- time zone


def test_zone_inference_on_offset_patterns() -> None:
    hours = pd.date_range("2025-01-01", "2026-06-30", freq="7h", tz="UTC")

    def pairs(zone: str) -> list[tuple[int, str]]:
        loc = hours.tz_convert(zone)
        return [(int(t.utcoffset().total_seconds()), t.strftime("%Y-%m-%dT%H")) for t in loc]

    eu = infer_zone(pairs("Europe/Paris"))
    assert eu.zone == "Europe/Berlin" and "Europe/Paris" in eu.others
    assert eu.offsets == (3600, 7200)
    assert "America/New_York" not in eu.others and "Europe/London" not in eu.others
    us = infer_zone(pairs("America/Chicago"))
    assert us.zone == "America/Chicago" and "America/New_York" not in us.others
    assert infer_zone(pairs("Europe/London")).zone == "Europe/London"
    assert infer_zone(pairs("Asia/Kolkata")).zone == "Asia/Kolkata"
    # a fixed +01:00 all year fits West Africa, not Berlin (no switch to +02:00 in summer)
    west = infer_zone([(3600, "2025-07-01T10"), (3600, "2025-01-01T10")])
    assert west.zone is not None and not west.zone.startswith("Europe/Berlin")
    assert "Europe/Berlin" not in west.others
    assert infer_zone([(0, "2025-07-01T10")]).zone is None  # UTC-serialised: says nothing
    assert infer_zone([]).zone is None
    mixed = infer_zone([(3600, "2025-07-01T10"), (-18000, "2025-07-01T10")])
    assert mixed.zone is None and "fit no single" in mixed.why


def test_european_offsets_give_a_european_zone(utc_crm: Path, tmp_path: Path) -> None:
    crm = rewrite_stamps(utc_crm, tmp_path / "eu", berlin)
    sample = (crm / "leads.csv").read_text().splitlines()[1]
    assert "+01:00" in sample or "+02:00" in sample
    with leadsla.connect(crm) as ws:
        assert (ws.time_zone, ws.time_zone_basis) == ("Europe/Berlin", "data")
        assert "Europe/Paris" in ws.time_zone_note and "+01:00, +02:00" in ws.time_zone_note
        warning = ws.time_zone_warning
        assert warning is not None and "holidays still need a country" in warning
        assert ws.settings.time_zone == "Europe/Berlin"  # what the business calendar reads
        eu_leads = ws.leads.order_by("lead_id").execute()
    with leadsla.connect(utc_crm) as ws:
        assert (ws.time_zone, ws.time_zone_basis) == ("UTC", "default")
        assert "says nothing" in ws.time_zone_note
        utc_leads = ws.leads.order_by("lead_id").execute()
    # the same instants either way
    pd.testing.assert_series_equal(eu_leads["created_at"], utc_leads["created_at"])


def test_naive_timestamps_get_utc_and_a_warning(utc_crm: Path, tmp_path: Path) -> None:
    crm = rewrite_stamps(utc_crm, tmp_path / "naive", naive)
    with leadsla.connect(crm) as ws:
        assert (ws.time_zone, ws.time_zone_basis) == ("UTC", "default")
        assert ws.stamp()["time_zone_basis"] == "default"
        warning = ws.time_zone_warning
        assert warning is not None and "business hours run in UTC" in warning
        assert "--time-zone" in warning


def test_a_given_zone_wins_and_reads_naive_times(utc_crm: Path, tmp_path: Path) -> None:
    crm = rewrite_stamps(utc_crm, tmp_path / "naive", naive)
    with leadsla.connect(crm, settings=Settings(time_zone="America/New_York")) as ws:
        assert (ws.time_zone, ws.time_zone_basis) == ("America/New_York", "given")
        assert ws.time_zone_warning is None
        first = ws.leads.order_by("lead_id").limit(1).execute()["created_at"].iloc[0]
    text = pd.read_csv(crm / "leads.csv").sort_values("lead_id")["created_at"].iloc[0]
    assert pd.Timestamp(first) == pd.Timestamp(text).tz_localize("America/New_York")


# --------------------------------------------------------------------------- as-of


def test_as_of_is_the_latest_event_of_every_table(utc_crm: Path, tmp_path: Path) -> None:
    """Without --as-of: the latest lead, activity or touch time; an activity after every lead
    event moves it."""
    crm = tmp_path / "crm"
    rewrite_stamps(utc_crm, crm, lambda s: [t.isoformat() for t in s])
    acts = pd.read_csv(crm / "activities.csv", dtype=str)
    frames = {n: pd.read_csv(crm / f"{n}.csv", dtype=str) for n in STAMPS}
    latest = max(pd.to_datetime(frames[n][c], utc=True, format="ISO8601").max()
                 for n, cols in STAMPS.items() for c in cols if c in frames[n])  # fmt: skip
    with leadsla.connect(crm) as ws:
        assert ws.as_of == latest.to_pydatetime() and ws.as_of_basis == "data"
        assert ws.last_event == ws.as_of and ws.as_of_gap_warning() is None
    later = latest + pd.Timedelta(days=3)
    acts.loc[0, "at"] = later.isoformat()
    acts.to_csv(crm / "activities.csv", index=False)
    with leadsla.connect(crm) as ws:
        assert ws.as_of == later.to_pydatetime()
    given = datetime(2026, 12, 1, tzinfo=UTC)
    with leadsla.connect(crm, settings=Settings(as_of=given)) as ws:
        assert (ws.as_of, ws.as_of_basis) == (given, "given")
        gap = ws.as_of_gap_warning()
        days = (given - later.to_pydatetime()).total_seconds() / 86_400
        assert gap is not None and f"is {days:,.0f} days after the last event" in gap
        assert later.strftime("%Y-%m-%d") in gap


def test_a_naive_as_of_is_read_in_the_workspace_zone(utc_crm: Path) -> None:
    s = Settings(as_of=datetime(2026, 6, 1, 12), time_zone="Europe/Berlin")
    with leadsla.connect(utc_crm, settings=s) as ws:
        assert ws.as_of == datetime(2026, 6, 1, 10, tzinfo=UTC)


# --------------------------------------------------------------------------- maturity


def _leads(tmp_path: Path, rows: list[tuple[str, str, str | None, str]]) -> Path:
    crm = tmp_path / "crm"
    crm.mkdir()
    pd.DataFrame(
        [{"lead_id": f"L{i}", "created_at": c, "closed_at": d or "", "status": s,
          "revenue": 1000 if s == "won" else None} for i, (c, s, d, _) in enumerate(rows)]
    ).to_csv(crm / "leads.csv", index=False)  # fmt: skip
    return crm


def test_maturity_uses_the_won_leads_lag(tmp_path: Path) -> None:
    """L90 of the won leads only: 10 wins closing 10…100 days after creation (p90 = 91 days),
    slow losses (300 days) ignored; as-of = the latest event (2026-06-30)."""
    rows: list[tuple[str, str, str | None, str]] = []
    for i, lag in enumerate(range(10, 101, 10)):
        c = pd.Timestamp("2025-06-01T00:00Z") + pd.Timedelta(days=i)
        rows.append((c.isoformat(), "won", (c + pd.Timedelta(days=lag)).isoformat(), ""))
    rows.append(("2025-01-01T00:00Z", "lost", "2025-10-28T00:00Z", ""))  # a 300-day loss
    rows.append(("2026-03-20T00:00Z", "open", None, ""))  # mature: 102 days old
    rows.append(("2026-04-10T00:00Z", "open", None, ""))  # recent: 81 days old
    rows.append(("2026-04-20T00:00Z", "lost", "2026-06-30T00:00Z", ""))  # recent, closed
    crm = _leads(tmp_path, rows)
    with leadsla.connect(crm) as ws:
        assert ws.as_of == datetime(2026, 6, 30, tzinfo=UTC)
        res = mql_value_table(ws.leads, by=(), as_of=ws.as_of)
    m = res.maturity
    assert m.won_leads == 10 and m.open_leads == 2
    assert m.lag_days == pytest.approx(float(np.quantile(range(10, 101, 10), 0.9)))  # 91
    assert m.cutoff == datetime(2026, 3, 31, tzinfo=UTC)
    assert (m.leads_read, m.mature_leads, m.immature, m.immature_closed) == (14, 12, 2, 1)
    assert "won leads" in m.why


def test_no_open_lead_means_every_lead_is_mature(tmp_path: Path) -> None:
    rows = [("2025-06-01T00:00Z", "won", "2025-09-01T00:00Z", ""),
            ("2026-06-29T00:00Z", "lost", "2026-06-30T00:00Z", "")]  # fmt: skip
    with leadsla.connect(_leads(tmp_path, rows)) as ws:
        res = mql_value_table(ws.leads, by=(), as_of=ws.as_of)
        rule = measure_maturity(ws.leads, ws.as_of, 0.9)
        # at an earlier as-of the late lead is open (closed after it): the lag rule applies
        early = measure_maturity(ws.leads, datetime(2026, 6, 29, 12, tzinfo=UTC), 0.9)
    assert rule.all_mature and rule.cutoff is None
    assert res.maturity.mature_leads == 2 and "no lead is open" in res.maturity.why
    assert early.open == 1 and early.cutoff is not None


@pytest.mark.parametrize(("file", "leads"), [("bank-full.csv", 45_211),
                                              ("bank-additional-full.csv", 41_188)])  # fmt: skip
def test_bank_marketing_counts_every_client(file: str, leads: int, real_data: Path) -> None:
    """Constant dates, every client closed (y = yes/no): no lead is open, all are mature.
    The count is the file's own row count."""
    path = real_data / "uci_bank_marketing" / file
    with path.open(encoding="utf-8") as f:
        rows = sum(1 for _ in f) - 1
    assert rows == leads
    with leadsla.connect(path, mapping="bank-marketing") as ws:
        res = mql_value_table(ws.leads, by=(), as_of=ws.as_of)
    assert res.maturity.mature_leads == res.maturity.leads_read == leads
