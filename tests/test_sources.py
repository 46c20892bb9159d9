"""Sources: the real data sets through their shipped mappings (exact counts), and one synthetic CRM
round-tripped through CSV, Parquet, a DuckDB file and PostgreSQL to identical canonical tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import duckdb
import ibis
import pandas as pd
import pytest

import leadsla
from leadsla.schema import TABLES

# --- the real data sets -----------------------------------------------------------------------

REAL = {
    # name: (source under ../shared/data, mapping, leads, counts by status)
    "olist": ("olist_marketing_funnel", "olist", 8_000, {"won": 842, "open": 7_158}),
    "bank-full": (
        "uci_bank_marketing/bank-full.csv",
        "bank-marketing",
        45_211,
        {"won": 5_289, "lost": 39_922},
    ),
    "bank-additional-full": (
        "uci_bank_marketing/bank-additional-full.csv",
        "bank-marketing",
        41_188,
        {"won": 4_640, "lost": 36_548},
    ),
    "maven-crm": (
        "maven_crm_sales_opportunities",
        "maven-crm",
        8_800,
        {"won": 4_238, "lost": 2_473, "open": 2_089},
    ),
}


@pytest.mark.parametrize("name", REAL)
def test_real_data_set_exact_counts(name: str, real_data: Path) -> None:
    source, mapping, n, by_status = REAL[name]
    with leadsla.connect(real_data / source, mapping=mapping) as ws:
        assert not ws.issues.errors
        leads = ws.leads
        assert leads.count().execute() == n
        counts = leads.status.value_counts().execute()
        assert dict(zip(counts["status"], counts["status_count"], strict=True)) == by_status
        assert ws.accounting["leads"].to_dict() == {
            "table": "leads",
            "read": n,
            "used": n,
            "excluded": {},
        }
        assert leads.lead_id.nunique().execute() == n


@pytest.mark.parametrize("file", ["bank-full.csv", "bank-additional-full.csv"])
def test_bank_attempts_are_the_campaign_column(file: str, real_data: Path) -> None:
    """An independent answer: the file's own ``campaign`` column, summed by pandas."""
    path = real_data / "uci_bank_marketing" / file
    expected = pd.read_csv(path, sep=";", usecols=["campaign"])["campaign"]
    with leadsla.connect(path, mapping="bank-marketing") as ws:
        got = ws.leads.aggregate(
            total=ws.leads.attempts.sum(),
            rows=ws.leads.count(),
            nulls=ws.leads.attempts.isnull().sum(),
        ).execute()
    assert int(got["total"].iloc[0]) == int(expected.sum())
    assert int(got["rows"].iloc[0]) == len(expected)
    assert int(got["nulls"].iloc[0]) == 0


# --- round trip: the same CRM in every kind of source -------------------------------------------

KEYS = {"leads": "lead_id", "activities": "activity_id"}


def canonical(ws: leadsla.Workspace, table: str) -> pd.DataFrame:
    """A canonical table as a plain frame, sorted by its key, values normalized for comparing.

    Timestamps become UTC instants in microseconds, every missing value None, numbers float.
    """
    df = ws.tables[table].execute()
    out = {}
    for col in TABLES[table].columns:
        s = df[col.name]
        if col.kind == "timestamp":
            s = pd.to_datetime(s, utc=True).dt.as_unit("us")
        elif col.kind in ("float", "integer"):
            s = pd.to_numeric(s).astype("float64")
        else:
            s = s.astype(object).where(s.notna(), None)
        out[col.name] = s.reset_index(drop=True)
    frame = pd.DataFrame(out)
    return frame.sort_values(KEYS[table], ignore_index=True)


def expected_tables(crm: Any) -> dict[str, pd.DataFrame]:
    """What every source must give back: the generated frames with the canonical defaults."""
    leads = crm.leads.copy()
    leads["segment"] = leads["segment"].fillna("all")
    leads["mql_at"] = leads["mql_at"].fillna(leads["created_at"])
    for col in TABLES["leads"].names:
        if col not in leads.columns:
            leads[col] = None
    frames = {"leads": leads, "activities": crm.activities.copy()}
    out = {}
    for table, df in frames.items():
        cols = {}
        for col in TABLES[table].columns:
            s = df[col.name]
            if col.kind == "timestamp":
                s = pd.to_datetime(s, utc=True).dt.as_unit("us")
            elif col.kind in ("float", "integer"):
                s = pd.to_numeric(s).astype("float64")
            else:
                s = s.astype(object).where(s.notna() & (s.astype(str) != ""), None)
            cols[col.name] = s.reset_index(drop=True)
        out[table] = pd.DataFrame(cols).sort_values(KEYS[table], ignore_index=True)
    return out


def assert_same_tables(ws: leadsla.Workspace, expected: dict[str, pd.DataFrame]) -> None:
    assert not ws.issues.errors
    for table, want in expected.items():
        got = canonical(ws, table)
        assert list(got.columns) == list(want.columns)
        assert len(got) == len(want), table
        for col in want.columns:
            pd.testing.assert_series_equal(
                got[col], want[col], check_names=False, obj=f"{table}.{col}"
            )
        assert ws.accounting[table].read == len(want)
        assert ws.accounting[table].used == len(want)


@pytest.fixture(scope="module")
def crm(synthetic_crm: Any) -> dict[str, pd.DataFrame]:
    """The synthetic CRM's canonical tables (leads, activities, campaigns, touches)."""
    return {
        "leads": synthetic_crm.leads,
        "activities": synthetic_crm.activities,
        "campaigns": synthetic_crm.campaigns,
        "touches": synthetic_crm.touches,
    }


@pytest.fixture(scope="module")
def expected(synthetic_crm: Any) -> dict[str, pd.DataFrame]:
    return expected_tables(synthetic_crm)


def test_the_synthetic_crm_is_not_trivial(crm: dict[str, pd.DataFrame]) -> None:
    leads = crm["leads"]
    assert len(leads) == 300 and len(crm["activities"]) > 300
    assert set(leads["status"]) == {"open", "won", "lost"}
    assert leads["campaign"].isna().any() and leads["revenue"].notna().any()


def test_round_trip_csv(tmp_path: Path, crm: dict[str, pd.DataFrame], expected: Any) -> None:
    for name, df in crm.items():
        df.to_csv(tmp_path / f"{name}.csv", index=False)
    with leadsla.connect(tmp_path) as ws:
        assert_same_tables(ws, expected)


def test_round_trip_parquet(tmp_path: Path, crm: dict[str, pd.DataFrame], expected: Any) -> None:
    for name, df in crm.items():
        df.to_parquet(tmp_path / f"{name}.parquet", index=False)
    with leadsla.connect(tmp_path) as ws:
        assert_same_tables(ws, expected)


def test_round_trip_duckdb_file(
    tmp_path: Path, crm: dict[str, pd.DataFrame], expected: Any
) -> None:
    path = tmp_path / "crm.duckdb"
    with duckdb.connect(str(path)) as con:
        for name, df in crm.items():
            con.from_df(df).create(name)
    with leadsla.connect(path) as ws:
        assert_same_tables(ws, expected)


@pytest.fixture
def postgres_schema(postgres_url: str) -> Iterator[tuple[Any, str]]:
    """A fresh schema in the test database: an ibis connection to it and its URL; dropped after."""
    name = f"leadsla_rt_{uuid.uuid4().hex[:10]}"
    admin = ibis.connect(postgres_url)
    try:
        admin.raw_sql(f'CREATE SCHEMA "{name}"').close()
        parts = urlsplit(postgres_url)
        url = urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{name}"))
        con = ibis.connect(url)
        try:
            yield con, url
        finally:
            con.disconnect()
            admin.raw_sql(f'DROP SCHEMA "{name}" CASCADE').close()
    finally:
        admin.disconnect()


@pytest.mark.postgres
def test_round_trip_postgres(
    postgres_schema: tuple[Any, str], crm: dict[str, pd.DataFrame], expected: Any
) -> None:
    con, url = postgres_schema
    # a fresh schema: no overwrite=True, which ibis 12 renders as a bare "DROP TABLE IF EXISTS"
    # with the locked sqlglot 30.30
    for name, df in crm.items():
        con.create_table(name, df)
    assert set(con.list_tables()) == set(crm)
    with leadsla.connect(url) as ws:
        assert_same_tables(ws, expected)
