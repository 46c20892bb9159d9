"""Instants: one way to read a user's time as UTC and to put it into an engine expression.

Comparisons in the engine are made between instants (never differences of epoch seconds,
on which DuckDB and Spark disagree), so every analysis uses :func:`utc_literal`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

if TYPE_CHECKING:
    import pandas as pd


def to_utc(t: datetime | str | pd.Timestamp, /, time_zone: str = "UTC") -> datetime:
    """An aware UTC ``datetime``; a naive value is read in ``time_zone``.

    ``to_utc("2025-11-17 12:55", "Europe/Berlin")`` → 2025-11-17 11:55 UTC.
    An aware value, or a naive one read in UTC, needs no time-zone library; pandas (and its
    import, ~0.4 s) is used only for the rest: other spellings and naive local times, where
    it raises on a time that a clock change makes ambiguous or skips.
    """
    value: object = t
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    if isinstance(value, datetime) and (value.tzinfo is not None or time_zone == "UTC"):
        plain: datetime = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
        aware = plain if plain.tzinfo is not None else plain.replace(tzinfo=UTC)
        return aware.astimezone(UTC)
    import pandas as pd  # imported on first use, not with the module (issue 16)

    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        ts = ts.tz_localize(time_zone)
    return ts.tz_convert("UTC").to_pydatetime()


def utc_literal(t: datetime, /) -> ir.Scalar:
    """An aware instant as an engine literal of type ``timestamp('UTC')``."""
    return ibis.literal(t.astimezone(UTC), type="timestamp('UTC')")


@ibis.udf.scalar.builtin(name="epoch")
def _duckdb_epoch(x: dt.Timestamp(timezone="UTC")) -> dt.float64:  # type: ignore[valid-type]
    """DuckDB's ``epoch(TIMESTAMPTZ)``: seconds since 1970 as a double."""


@ibis.udf.scalar.builtin(name="unix_micros")
def _spark_unix_micros(x: dt.Timestamp()) -> dt.int64:  # type: ignore[valid-type]
    """Spark's ``unix_micros(TIMESTAMP)``: microseconds since 1970."""


def epoch_seconds(ts: ir.TimestampValue) -> ir.NumericValue:
    """Seconds since 1970 of a timestamp, as the engine computes them fastest.

    Ibis compiles ``epoch_seconds()`` on DuckDB to ``EPOCH(CAST(ts AS TIMESTAMP))``, and that
    cast of a TIMESTAMPTZ goes through the time-zone library: 3 s per 10M rows, more than the
    rest of the maturity query. On DuckDB with a UTC column this calls ``epoch(ts)`` directly;
    elsewhere (PostgreSQL: ``EXTRACT(epoch FROM ts)``) Ibis's own expression.
    """
    try:
        backend = ibis.get_backend(ts).name
    except Exception:  # an unbound expression (SQL printing, tests)
        backend = None
    if backend == "duckdb" and getattr(ts.type(), "timezone", None) == "UTC":
        return _duckdb_epoch(ts)
    if backend == "pyspark":  # Ibis's unix_timestamp() drops the fraction of a second
        return _spark_unix_micros(ts.cast("timestamp")).cast("float64") / 1_000_000.0
    return ts.epoch_seconds()
