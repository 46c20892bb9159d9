"""The one-pass clean-text check (``unclean_sql``) counts exactly the values ``text_of``
changes — trims or reads as null — for any text: spaces, tabs, no-break spaces, null
spellings in any case, long and non-ASCII values (Hypothesis against the reference); the
stages of a Parquet export read text as written only when the check finds it clean."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import leadsla
from leadsla.io.typing_sql import DEFAULT_NULLS, text_of, unclean_sql
from leadsla.settings import Settings

PIECES = st.sampled_from(
    ["", " ", "\t", "\u00a0", "NA", "na", "N/a", "#N/A", "null", "NULL", "-", "x", "İ", "ẞ", "é"]
)
VALUES = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.lists(PIECES, max_size=4).map("".join),
)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(VALUES, min_size=1, max_size=30),
    nulls=st.sampled_from([DEFAULT_NULLS, ("", "n.v.", "KEINE", "-")]),
)
def test_unclean_count_equals_the_reference(
    values: list[str | None], nulls: tuple[str, ...]
) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [(v,) for v in values])
    got = con.execute(f"SELECT {unclean_sql('v', nulls)} FROM t").fetchone()
    want = con.execute(
        f"SELECT count(*) FILTER (WHERE v IS NOT NULL AND (v <> trim(v) "
        f"OR {text_of('v', nulls)} IS NULL)) FROM t"
    ).fetchone()
    assert got == want, values


@pytest.mark.parametrize("clean", [False, True])
def test_stages_read_parquet_text_as_written_only_when_it_is_clean(
    tmp_path: Path, clean: bool
) -> None:
    """The leads (a copy) and the activities (a view over the file) of a Parquet export: their
    dictionary-coded and required text columns are read as written when no value needs
    trimming or is a null spelling, else cleaned — one unclean value in a million rows is
    enough (here one in a few hundred, each column its own)."""
    n = 300
    segment = ["smb"] * n
    status = ["open"] * n
    lead_ids = [f"L{i}" for i in range(n)]
    kind = ["call"] * (3 * n)
    act_leads = [lead_ids[i % n] for i in range(3 * n)]
    if not clean:
        segment[7], status[11] = " smb ", "NA"
        kind[5], act_leads[13] = "n/a", f"{lead_ids[13]}\u00a0"
    folder = tmp_path / "crm"
    folder.mkdir()
    pq.write_table(
        pa.table(
            {
                "lead_id": lead_ids,
                "created_at": ["2026-01-05T10:00:00Z"] * n,
                "segment": segment,
                "status": status,
            }
        ),
        folder / "leads.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "activity_id": [f"A{i}" for i in range(3 * n)],
                "lead_id": act_leads,
                "at": ["2026-01-06T10:00:00Z"] * (3 * n),
                "kind": kind,
            }
        ),
        folder / "activities.parquet",
    )
    settings = Settings(as_of=datetime(2026, 6, 30, tzinfo=UTC))
    with leadsla.connect(folder, settings=settings, strict=False, cache=False) as ws:
        leads = ws.leads.select("segment", "status").to_pyarrow().to_pylist()
        acts = ws.activities.select("lead_id", "kind").to_pyarrow().to_pylist()
        # the canonical segment fills a missing one with "all"
        assert [r["segment"] for r in leads].count("smb") == n
        assert [r["status"] for r in leads].count("open") == n - (not clean)
        assert [r["kind"] for r in acts].count("call") == 3 * n - (not clean)
        assert {r["lead_id"] for r in acts} == set(lead_ids)
        assert ws.accounting["activities"].used == 3 * n
