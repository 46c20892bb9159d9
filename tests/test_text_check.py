"""The one-pass clean-text check (``unclean_sql``) counts exactly the values ``text_of``
changes — trims or reads as null — for any text: spaces, tabs, no-break spaces, null
spellings in any case, long and non-ASCII values (Hypothesis against the reference)."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsla.io.typing_sql import DEFAULT_NULLS, text_of, unclean_sql

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
