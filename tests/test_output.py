"""``render.output``: the JSON writer reads back to the same document as ``json.dumps`` of
the cleaned values, and ``emit`` prints text exactly as it is (issue 16: the breach list of a
1M-lead check is 300,000 rows)."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from leadsla.records import Records
from leadsla.render.output import emit, to_json

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(max_size=8), inner, max_size=5),
        st.lists(st.dictionaries(st.text(max_size=6), scalars, min_size=1, max_size=4), max_size=4),
    ),
    max_leaves=30,
)


def _expected(o: Any) -> Any:
    """The reference cleaning: NaN and infinities as null."""
    if isinstance(o, float):
        return None if math.isnan(o) or math.isinf(o) else o
    if isinstance(o, dict):
        return {str(k): _expected(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_expected(v) for v in o]
    return o


def _has_table(o: Any) -> bool:
    if isinstance(o, dict):
        return any(_has_table(v) for v in o.values())
    if isinstance(o, list):
        flat = bool(o) and isinstance(o[0], dict) and bool(o[0])
        flat = flat and all(not isinstance(v, dict | list) for v in o[0].values())
        return flat or any(_has_table(v) for v in o)
    return False


@settings(max_examples=400, deadline=None)
@given(doc=st.dictionaries(st.text(max_size=8), documents, max_size=6))
def test_the_json_reads_back_as_the_cleaned_document(doc: dict[str, Any]) -> None:
    text = to_json(doc)
    want = _expected(doc)
    assert json.loads(text) == want
    if not _has_table(want):  # no table in it: byte for byte json.dumps(indent=2)
        assert text == json.dumps(want, indent=2, ensure_ascii=False)


def test_a_table_is_one_record_a_line_and_other_values_are_readable() -> None:
    doc = {
        "as_of": datetime(2026, 6, 30, 16, tzinfo=UTC),
        "day": date(2026, 6, 30),
        "n": np.int64(3),
        "rate": np.float64(0.25),
        "ci": (0.1, float("nan")),
        "breaches": [
            {"lead_id": "L1", "attempts": 0, "due": None},
            {"lead_id": "Ö2", "attempts": 2, "due": "x"},
        ],  # fmt: skip
    }
    text = to_json(doc)
    assert '    {"lead_id": "L1", "attempts": 0, "due": null},\n' in text
    assert '    {"lead_id": "Ö2", "attempts": 2, "due": "x"}\n  ]' in text
    assert json.loads(text) == {
        "as_of": "2026-06-30T16:00:00+00:00", "day": "2026-06-30", "n": 3, "rate": 0.25,
        "ci": [0.1, None], "breaches": [{"lead_id": "L1", "attempts": 0, "due": None},
                                        {"lead_id": "Ö2", "attempts": 2, "due": "x"}],
    }  # fmt: skip


def test_emit_prints_text_as_it_is() -> None:
    buf = io.StringIO()
    text = '{"note": "call back :smile: [b]Mon[/b]\\tok"}\n\tend'
    emit(text, None, Console(file=buf, width=20))
    assert buf.getvalue() == text + "\n"


# a table of records: every record the same keys (the shape of a breach list)
tables = st.integers(0, 6).flatmap(
    lambda n_rows: st.lists(st.text(max_size=6), min_size=1, max_size=4, unique=True).flatmap(
        lambda keys: st.fixed_dictionaries(
            {k: st.lists(scalars, min_size=n_rows, max_size=n_rows) for k in keys}
        )
    )
)


@settings(max_examples=300, deadline=None)
@given(tables, documents)
def test_records_write_as_the_list_of_dicts_they_stand_for(
    columns: dict[str, list[Any]], other: Any
) -> None:
    """A table held by column writes the same bytes as its rows made dicts (any values:
    text with quotes and percent signs, NaN, None, booleans, big integers)."""
    records = Records(columns)
    values = zip(*columns.values(), strict=True)
    rows = [dict(zip(columns, row, strict=True)) for row in values]
    assert records == rows and list(records) == rows and len(records) == len(rows)
    assert to_json({"t": records, "o": other}) == to_json({"t": rows, "o": other})


def test_records_read_as_rows() -> None:
    r = Records({"lead_id": ["L1", "L2", "L3"], "attempts": [3, None, 1]})
    assert r[0] == {"lead_id": "L1", "attempts": 3}
    assert r[-1] == {"lead_id": "L3", "attempts": 1}
    assert r[1:] == [{"lead_id": "L2", "attempts": None}, {"lead_id": "L3", "attempts": 1}]
    assert Records({}) == [] and not Records({"a": []})
    with pytest.raises(IndexError):
        r[3]
    with pytest.raises(ValueError, match="differ in length"):
        Records({"a": [1], "b": []})
