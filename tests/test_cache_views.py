"""Parquet stages as views over the files (issue 16): the same tables, issues and row
accounting as a copy, cold, warm (from the stage cache) and uncached.

The reference is the same data written as CSV (whose stage is still a copy, every column
parsed from text): a typed Parquet export must read to the same canonical tables, the same
issues (codes, columns, counts, values) and the same row accounting, with text to trim, null
spellings, an orphan activity, an activity after the as-of and an all-empty row among them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from leadsla.io import cache
from leadsla.io.source import connect
from leadsla.settings import Settings

AS_OF = datetime(2025, 6, 30, 16, 0, tzinfo=UTC)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "cache"
    monkeypatch.setenv("LEADSLA_CACHE_DIR", str(folder))
    monkeypatch.delenv("LEADSLA_NO_CACHE", raising=False)
    yield folder


def frames(*, dirty: bool) -> dict[str, pd.DataFrame]:
    """Leads and activities; ``dirty``: text to trim, null spellings, an orphan, a future
    activity and an all-empty row."""
    t = pd.Timestamp("2025-06-01T09:00:00Z")
    leads = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(1, 9)],
            "created_at": [t + pd.Timedelta(hours=i) for i in range(8)],
            "segment": ["smb", "smb", "ent", "ent", "smb", "ent", "smb", "ent"],
            "status": ["won", "lost", "open", "won", "open", "open", "lost", "open"],
            "closed_at": [t + pd.Timedelta(days=3)] * 2
            + [None, t + pd.Timedelta(days=5)]
            + [None, None, t + pd.Timedelta(days=9), None],
            "revenue": [1200.5, None, None, 800.0, None, None, None, None],
        }
    )
    ids = [f"L{1 + i % 8}" for i in range(24)]
    kinds = ["call", "email", "call"] * 8
    reps = ["ann", "bob", "cy"] * 8
    at = [t + pd.Timedelta(hours=2 + i) for i in range(24)]
    if dirty:
        ids[3] = " L4 "  # trimmed
        ids[5] = "L999"  # no such lead: left out, counted
        reps[2] = "NA"  # a null spelling
        reps[4] = "  bob"
        at[7] = pd.Timestamp("2025-07-15T10:00:00Z")  # after the as-of: left out, counted
    acts = pd.DataFrame({"lead_id": ids, "at": at, "kind": kinds, "rep": reps})
    if dirty:  # an all-empty row (counted as such, not read)
        empty = pd.DataFrame({"lead_id": [None], "at": [pd.NaT], "kind": [None], "rep": [None]})
        acts = pd.concat([acts.iloc[:10], empty, acts.iloc[10:]], ignore_index=True)
        acts["at"] = pd.to_datetime(acts["at"], utc=True)
    return {"leads": leads, "activities": acts}


def write(folder: Path, data: dict[str, pd.DataFrame], suffix: str) -> Path:
    folder.mkdir(parents=True)
    for name, df in data.items():
        if suffix == ".parquet":
            df.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            out = df.copy()
            for c in out.columns:
                if isinstance(out[c].dtype, pd.DatetimeTZDtype):
                    out[c] = out[c].map(lambda x: x.isoformat() if pd.notna(x) else "")
            out.to_csv(folder / f"{name}.csv", index=False)
    return folder


def report(source: Path, **kw: Any) -> tuple[str | None, dict[str, Any]]:
    """What a run reads and reports, without file names and row numbers (CSV rows start at
    2, Parquet rows at 1)."""
    settings = Settings(as_of=AS_OF, time_zone="UTC")
    with connect(source, strict=False, settings=settings, **kw) as ws:
        tables = {
            t: sorted(
                map(str, ws.tables[t].to_pyarrow().to_pylist()),
            )
            for t in sorted(ws.tables)
        }
        # (a time's value is quoted as written: text in a CSV file, typed in Parquet)
        issues = sorted(
            (i.severity, i.code, i.column or "", "" if i.column == "at" else i.value or "", i.count)
            for i in ws.issues
            if i.code != "empty-columns"
        )
        return ws.cached, {
            "tables": tables,
            "issues": issues,
            "accounting": [a.to_dict() for a in ws.accounting.values()],
            "empty_rows": sorted(ws.empty_rows.values()),
        }


def stage_kinds(entry_folder: Path) -> dict[str, str]:
    """Each stage of the (one) cache entry: a VIEW or a TABLE."""
    (db,) = entry_folder.glob("*.duckdb")
    con = duckdb.connect(str(db), read_only=True)
    try:
        views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    finally:
        con.close()
    out = {}
    for name in ("leads", "activities"):
        stage = f"_stage_{name}"
        out[name] = "VIEW" if stage in views else "TABLE" if stage in tables else "none"
    return out


@pytest.mark.parametrize("dirty", [False, True], ids=["clean", "dirty"])
def test_parquet_views_read_as_the_csv_copy(tmp_path: Path, cache_dir: Path, dirty: bool) -> None:
    data = frames(dirty=dirty)
    csv = write(tmp_path / "csv", data, ".csv")
    pq = write(tmp_path / "pq", data, ".parquet")
    _, want = report(csv, cache=False)
    if dirty:  # the corpus of this test holds what it says it does
        acc = {a["table"]: a for a in want["accounting"]}["activities"]
        assert acc["excluded"] == {
            "empty row": 1,
            "activity for an unknown lead": 1,
            "activity after the as-of date": 1,
        }
        assert {"orphan-activity", "activity-after-as-of"} <= {i[1] for i in want["issues"]}
        assert "L4" in str(want["tables"]["activities"])
        assert " L4 " not in str(want["tables"]["activities"])
    how, uncached = report(pq, cache=False)
    assert how is None
    assert uncached == want
    how, cold = report(pq)
    assert how == "stored"
    assert cold == want
    # the activities stay a view over the file unless rows had to be marked as left out
    kinds = stage_kinds(cache_dir)
    assert kinds == {"leads": "TABLE", "activities": "TABLE" if dirty else "VIEW"}
    how, warm = report(pq)
    assert how == "hit"
    assert warm == want


def test_cached_views_name_the_files_by_absolute_path(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative source builds the entry; a run from another folder reads it warm."""
    write(tmp_path / "pq", frames(dirty=False), ".parquet")
    monkeypatch.chdir(tmp_path)
    how, cold = report(Path("pq"))
    assert how == "stored"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    how, warm = report(tmp_path / "pq")
    assert how == "hit"
    assert warm == cold


def test_format_bumped_for_the_views() -> None:
    """Entries of the copying layout (format 2) are not read as views (a new key)."""
    assert cache.FORMAT >= 3
