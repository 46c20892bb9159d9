"""``times.to_utc``: the fast path (no pandas) reads every instant as pandas does (issue 16)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsla.times import to_utc

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")


def _reference(t: object, zone: str) -> datetime:
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        ts = ts.tz_localize(zone)
    return ts.tz_convert("UTC").to_pydatetime()


offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31), timezones=offsets
)


@settings(max_examples=300, deadline=None)
@given(t=instants, zone=st.sampled_from(ZONES), as_text=st.booleans(), sep=st.sampled_from("T "))
def test_an_aware_instant_or_its_iso_text_reads_as_pandas_reads_it(t, zone, as_text, sep):
    value = t.isoformat(sep=sep) if as_text else t
    got = to_utc(value, zone)
    assert got == _reference(value, zone)
    assert got.utcoffset() == timedelta(0)
    assert type(got) is datetime


@settings(max_examples=200, deadline=None)
@given(t=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31)))
def test_a_naive_time_in_utc_and_a_pandas_timestamp_read_as_pandas_reads_them(t):
    assert to_utc(t) == to_utc(t.isoformat()) == _reference(t, "UTC")
    stamp = pd.Timestamp(t, tz="Europe/Berlin")
    assert to_utc(stamp, "Asia/Kolkata") == _reference(stamp, "Asia/Kolkata")
    if t.month in (1, 7):  # no clock change in January or July
        assert to_utc(t, "Europe/Berlin") == _reference(t, "Europe/Berlin")


def test_a_local_time_a_clock_change_makes_ambiguous_is_an_error_not_a_guess():
    with pytest.raises(Exception, match="ambiguous|Cannot infer dst"):
        to_utc("2025-10-26 02:30", "Europe/Berlin")
    with pytest.raises(Exception, match="2025-03-30 02:30"):
        to_utc("2025-03-30 02:30", "Europe/Berlin")  # skipped by the clock change


def test_other_spellings_still_read():
    noon = datetime(2025, 11, 17, 11, 55, tzinfo=UTC)
    assert to_utc("Nov 17 2025 12:55", "Europe/Berlin") == noon
    assert to_utc(" 2025-11-17T12:55Z ") == datetime(2025, 11, 17, 12, 55, tzinfo=UTC)
