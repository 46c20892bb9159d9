"""Writing results: a Rich table by default, ``--format json`` (stable keys) or ``csv``."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from leadsla.records import Records
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
    if t is Records:
        return Records(
            {
                k if type(k) is str else str(k): (
                    col if set(map(type, col)) <= _PLAIN else [_clean(v) for v in col]
                )
                for k, col in o.columns.items()
            }
        )
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


def json_default(o: Any) -> Any:
    """``default=`` for ``json.dumps`` of a cleaned document: a table held by column
    (:class:`~leadsla.records.Records`) as its list of rows."""
    if isinstance(o, Records):
        return list(o)
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


_ONE_LINE = json.JSONEncoder(ensure_ascii=False)
_FLAT = _PLAIN | {float}  # the values of a record written on one line


def _line_encoder() -> Any:
    """json's C encoder, made once (``JSONEncoder.encode`` makes one a call), else its own."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return lambda o, _level: _ONE_LINE.encode(o)
    return make(None, None, json.encoder.encode_basestring, None, ": ", ", ", False, False, True)


_STR = json.encoder.encode_basestring  # json's (C) string writer, as its encoder uses it


def _fragments(col: list[Any], line: Any) -> list[str]:
    """The JSON text of each value of a column (as json's encoder writes it in a record)."""
    kinds = set(map(type, col))
    if kinds <= {str}:
        return list(map(_STR, col))
    if kinds <= {str, type(None)}:
        return [_STR(v) if v is not None else "null" for v in col]
    if kinds <= {int}:
        return list(map(int.__repr__, col))
    if kinds <= {int, type(None)}:
        return [int.__repr__(v) if v is not None else "null" for v in col]
    out = []
    for v in col:
        t = type(v)
        out.append(
            _STR(v) if t is str
            else "null" if v is None
            else ("true" if v else "false") if t is bool
            else int.__repr__(v) if t is int
            else float.__repr__(v) if t is float
            else "".join(line(v, 0))
        )  # fmt: skip
    return out


def _record_lines(o: Records, pad: str, line: Any) -> list[str]:
    """Each record of ``o`` on one line, as json's C encoder writes a dict of plain values,
    made column by column (no dict a row)."""
    fmt = pad + "{" + ", ".join(
        f"{_ONE_LINE.encode(k).replace('%', '%%')}: %s" for k in o.columns
    ) + "}"  # fmt: skip
    frags = [_fragments(col, line) for col in o.columns.values()]
    return [fmt % t for t in zip(*frags, strict=True)]


def _lines(rows: list[str], pad: str, out: list[str]) -> None:
    """``rows`` as the items of a JSON array, appended to ``out`` (no joined copy of them)."""
    out.append("[\n")
    for i, row in enumerate(rows):
        if i:
            out.append(",\n")
        out.append(row)
    out.append("\n" + pad + "]")


def _dump(o: Any, pad: str, line: Any, out: list[str]) -> None:
    """``json.dumps(o, indent=2)`` appended to ``out`` in pieces, except that a list of
    records (dicts of plain values: a table) has one record a line."""
    if type(o) is Records:
        if o and o.columns and all(type(v) in _FLAT for v in o[0].values()):
            _lines(_record_lines(o, pad + "  ", line), pad, out)
        else:
            _dump(list(o), pad, line, out)
    elif type(o) is dict:
        if not o:
            out.append("{}")
            return
        inner = pad + "  "
        out.append("{\n")
        for i, (k, v) in enumerate(o.items()):
            out.append((",\n" if i else "") + f"{inner}{_ONE_LINE.encode(k)}: ")
            _dump(v, inner, line, out)
        out.append("\n" + pad + "}")
    elif type(o) is list:
        if not o:
            out.append("[]")
            return
        inner = pad + "  "
        first = o[0]
        if type(first) is dict and first and all(type(v) in _FLAT for v in first.values()):
            _lines([inner + "".join(line(x, 0)) for x in o], pad, out)
        else:
            out.append("[\n")
            for i, x in enumerate(o):
                out.append(f",\n{inner}" if i else inner)
                _dump(x, inner, line, out)
            out.append("\n" + pad + "]")
    else:
        out.append(_ONE_LINE.encode(o))


def to_json(data: dict[str, Any]) -> str:
    """JSON with NaN as null and dates as ISO 8601, indented by two spaces, a table (a list of
    records: breaches, groups) one record a line. json's indented writer is pure Python (2 s
    for a 300,000-row breach list); each record goes through its C encoder instead."""
    out: list[str] = []
    _dump(_clean(data), "", _line_encoder(), out)
    return "".join(out)


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
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


def rich_table(
    title: str, rows: Sequence[dict[str, Any]], columns: list[str] | None = None
) -> Table:
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
