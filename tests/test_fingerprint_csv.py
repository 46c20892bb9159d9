"""``io.fingerprint.csv_rows`` writes the bytes Arrow's CSV writer writes (the data hash of
every agreement rests on them; issue 16: the fast writer halves a 1M-lead fingerprint)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.csv as pacsv
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsla.io.fingerprint import csv_rows

OPTIONS = pacsv.WriteOptions(include_header=False)


def arrow_csv(batch: pa.RecordBatch) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(batch, buf, write_options=OPTIONS)
    return buf.getvalue()


texts = st.one_of(st.none(), st.text(alphabet=st.sampled_from('ab"é,\n\r x;'), max_size=6))
instants = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)).map(
        lambda d: d.replace(tzinfo=UTC)
    ),
)
floats = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))
ints = st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1))
kinds = {
    "text": (texts, pa.string()),
    "utc": (instants, pa.timestamp("us", tz="Etc/UTC")),
    "utc_name": (instants, pa.timestamp("us", tz="UTC")),
    "float": (floats, pa.float64()),
    "int": (ints, pa.int64()),
    "bool": (st.one_of(st.none(), st.booleans()), pa.bool_()),
}


@st.composite
def batches(draw: st.DrawFn) -> pa.RecordBatch:
    names = draw(st.lists(st.sampled_from(sorted(kinds)), min_size=1, max_size=5))
    n = draw(st.integers(min_value=1, max_value=8))
    cols = {}
    for i, kind in enumerate(names):
        values, typ = kinds[kind]
        cols[f"c{i}"] = pa.array(draw(st.lists(values, min_size=n, max_size=n)), typ)
    return pa.RecordBatch.from_pydict(cols)


@settings(max_examples=300, deadline=None)
@given(batch=batches(), cut=st.integers(min_value=0, max_value=3))
def test_the_bytes_equal_arrows_csv_writer(batch: pa.RecordBatch, cut: int) -> None:
    part = batch.slice(min(cut, batch.num_rows - 1))  # a slice: offsets not at zero
    assert csv_rows(part) == arrow_csv(part)


def test_a_type_it_does_not_take_is_left_to_arrow() -> None:
    local = pa.array([datetime(2025, 1, 1, tzinfo=UTC)], pa.timestamp("us", tz="Europe/Berlin"))
    assert csv_rows(pa.RecordBatch.from_pydict({"t": local})) is None
    assert csv_rows(pa.RecordBatch.from_pydict({"d": pa.array([1], pa.decimal128(5, 2))})) is None
