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


def _clean(o: Any) -> Any:
    if isinstance(o, float) and (math.isnan(o) or math.isinf(o)):
        return None
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_clean(v) for v in o]
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if hasattr(o, "item"):  # numpy scalars
        return _clean(o.item())
    return o


def to_json(data: dict[str, Any]) -> str:
    """JSON with NaN as null and dates as ISO 8601."""
    return json.dumps(_clean(data), indent=2, ensure_ascii=False)


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
    """Print ``text`` or write it to ``out``."""
    if out is None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}", highlight=False)
