"""Writing results: a Rich table by default, ``--format json`` (stable keys) or ``csv``."""

from __future__ import annotations

import csv
import io
import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from leadsla.text import number


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


_PLAIN = frozenset({str, int, bool, type(None)})
_INFINITE = (math.inf, -math.inf)


def _clean(o: Any) -> Any:
    """``o`` with NaN and infinities as None, dates as ISO 8601 text, numpy scalars as Python
    ones, tuples as lists, keys as text (the common plain values first: a breach list of
    300,000 rows is 2.5 million of them)."""
    t = type(o)
    if t in _PLAIN:
        return o
    if t is float:
        return None if o != o or o in _INFINITE else o
    if t is dict:
        return {k if type(k) is str else str(k): v if type(v) in _PLAIN else _clean(v)
                for k, v in o.items()}  # fmt: skip
    if t is list or t is tuple:
        return [v if type(v) in _PLAIN else _clean(v) for v in o]
    if isinstance(o, float):
        return None if math.isnan(o) or math.isinf(o) else float(o)
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_clean(v) for v in o]
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if hasattr(o, "item"):  # numpy scalars
        return _clean(o.item())
    return o


_ONE_LINE = json.JSONEncoder(ensure_ascii=False)
_FLAT = _PLAIN | {float}  # the values of a record written on one line


def _line_encoder() -> Any:
    """json's C encoder, made once (``JSONEncoder.encode`` makes one a call), else its own."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return lambda o, _level: _ONE_LINE.encode(o)
    return make(None, None, json.encoder.encode_basestring, None, ": ", ", ", False, False, True)


def _dump(o: Any, pad: str, line: Any) -> str:
    """``json.dumps(o, indent=2)``, except that a list of records (dicts of plain values: a
    table) has one record a line."""
    if type(o) is dict:
        if not o:
            return "{}"
        inner = pad + "  "
        items = (f"{inner}{_ONE_LINE.encode(k)}: {_dump(v, inner, line)}" for k, v in o.items())
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if type(o) is list:
        if not o:
            return "[]"
        inner = pad + "  "
        first = o[0]
        if type(first) is dict and first and all(type(v) in _FLAT for v in first.values()):
            rows = [inner + "".join(line(x, 0)) for x in o]
        else:
            rows = [inner + _dump(x, inner, line) for x in o]
        return "[\n" + ",\n".join(rows) + "\n" + pad + "]"
    return _ONE_LINE.encode(o)


def to_json(data: dict[str, Any]) -> str:
    """JSON with NaN as null and dates as ISO 8601, indented by two spaces, a table (a list of
    records: breaches, groups) one record a line. json's indented writer is pure Python (2 s
    for a 300,000-row breach list); each record goes through its C encoder instead."""
    return _dump(_clean(data), "", _line_encoder())


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV text; lists become ``lo;hi``."""
    if not rows:
        return ""
    buf = io.StringIO()
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(
            {
                k: ";".join(map(str, v)) if isinstance(v, list | tuple) else _clean(v)
                for k, v in r.items()
            }
        )
    return buf.getvalue()


def rich_table(title: str, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Table:
    """A Rich table of ``rows`` (dicts), numbers right-aligned."""
    t = Table(title=title, title_justify="left", header_style="bold")
    cols = columns or (list(rows[0]) if rows else [])
    for c in cols:
        numeric = bool(rows) and isinstance(rows[0].get(c), int | float)
        # a narrow terminal wraps a cell, never cuts it ("7.49%–…")
        t.add_column(c, justify="right" if numeric else "left", overflow="fold")
    for r in rows:
        t.add_row(*[number(r.get(c)) for c in cols])
    return t


def emit(text: str, out: Path | None, console: Console) -> None:
    """Print ``text`` or write it to ``out``.

    Printed as it is, not through Rich's renderer: that would turn ``:smile:`` in a lead's
    note into an emoji and tabs into spaces, and takes 4 s for a 60 MB breach list."""
    if out is None:
        console.file.write(text + "\n")
        console.file.flush()
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}", highlight=False)
